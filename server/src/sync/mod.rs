//! The phone sync engine (C2, DESIGN §5): push with idempotent all-or-nothing change
//! sets and field-level merge, pull by scope from the change log.
//!
//! Sync never changes a household's status and never applies a change outside the
//! caller's scope.

pub mod conflicts;
pub mod pull;
pub mod push;
pub mod side;
