//! Imports of a county's existing data (issue 11 item 1): for now the register of
//! households and members in the national system's 对照表 layout (`layout`), checked
//! row by row and written in one transaction (`register`); the report of failing cells
//! as a workbook (`report`); an import over the API runs as a job whose progress and
//! outcome the clerk reads (`job`). The column mapping is documented in
//! `docs/register-import.md`.
//!
//! What this must never do: write anything unless every row passes, or write outside
//! the importing county's region.

pub mod job;
pub mod layout;
pub mod register;
pub mod report;
