//! Procedures (C4): identification, relapse, exit, removal, exit reversal and member
//! changes as cases that move through the seeded steps by role-checked sign-offs.
//!
//! A household's status changes here and only here, when a case completes. A step is
//! never skipped; a rejected case stops until it is resubmitted from the start; once a
//! level has signed, lower levels may no longer change the case or its household.
//!
//! `case` opens and reads cases (for phones through sync, for the office directly);
//! `engine` moves them through their steps. Procedures never read the phone protocol:
//! sync calls them, not the other way round.

pub mod case;
pub mod exit_check;
pub mod signing;
pub mod steps;

pub use signing::{CaseError, Decision};
pub use steps::{CaseKind, Level, Step};
