//! Jingzhun (精准): the server behind the dynamic management of registered poor
//! households. See `../shared/DESIGN.md` for the product and `README.md` to run it.

pub mod app;
pub mod assess;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod clock;
pub mod comparison;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod gate;
pub mod household_facts;
pub mod http;
pub mod imports;
pub mod inbox;
pub mod metrics;
pub mod notices;
pub mod notifications;
pub mod plans;
pub mod procedures;
pub mod records;
pub mod registry;
pub mod reports;
pub mod scheduler;
pub mod state;
pub mod sync;
pub mod tabular;

pub use app::{prepare, serve, serve_state};
pub use clock::Clock;
pub use config::Config;
pub use state::AppState;
