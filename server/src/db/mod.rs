//! The database: the shared layer of the `jingzhun-db` crate (connection, migrations,
//! write transactions with the SQLite writer slot, small SQL helpers), re-exported here so
//! `crate::db::…` reads the same everywhere, plus the server's own entities and start-up lock.

pub use jingzhun_db::*;

pub mod entities;
pub mod page;
pub mod startup;
