//! Side records: entities phones pull that are not household records from the field
//! catalogue, written by the features that own them (objections by `crate::notices`,
//! campaign progress by `crate::campaigns`) and read-only on the phone. The names live
//! here, below those features, so they can log their writes without knowing the sync
//! protocol; `crate::sync::side` reads them back for a pull.

use serde_json::Value as Json;

/// An objection to a notice, with its answer deadline (written by `crate::notices`).
pub const OBJECTION: &str = "objection";
/// A campaign's progress over a region (written by `crate::campaigns`).
pub const CAMPAIGN_PROGRESS: &str = "campaign_progress";

/// One pulled side record: id, version, data.
pub struct SideRecord {
    pub id: String,
    pub version: i64,
    pub data: Json,
}
