//! The phone sync engine (C2, DESIGN §5): push with idempotent all-or-nothing change
//! sets and field-level merge, pull by scope from the change log.
//!
//! Sync never changes a household's status and never applies a change outside the
//! caller's scope.

pub mod changelog;
pub mod conflicts;
pub mod pull;
pub mod push;
pub mod records;
pub mod scope;
pub mod server_edit;
pub mod side;
