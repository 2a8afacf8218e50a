//! The JSON bodies of `/api/mobile/v1` (DESIGN §5).

use crate::errors::{ErrorCode, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub device_id: String,
    #[serde(default)]
    pub device_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: String,
    pub user: UserInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: Uuid,
    pub username: String,
    pub name: String,
    /// Role names, e.g. `officer`, `village`.
    pub roles: Vec<String>,
    /// The region codes the roles are scoped to.
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub entity: String,
    pub id: Uuid,
    pub op: Op,
    /// The version the phone last saw; 0 for create.
    #[serde(default)]
    pub base_version: i64,
    /// Only the changed fields.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeSet {
    pub id: Uuid,
    pub changes: Vec<Change>,
    /// When the phone recorded the change set (its own clock), so an edit made offline
    /// before an assignment ended is told apart from one made after. Older apps send
    /// nothing; the server then judges by arrival alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub changesets: Vec<ChangeSet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeSetStatus {
    Applied,
    Duplicate,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Every field was applied.
    Applied,
    /// Applied except the fields listed in `conflicts`, which kept the server value.
    Conflict,
    /// Not applied (the whole change set was rejected).
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    /// The conflict's id, for resolving it.
    pub id: Uuid,
    pub field: String,
    pub base_value: Value,
    pub server_value: Value,
    pub client_value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeResult {
    pub entity: String,
    pub id: Uuid,
    pub status: ChangeStatus,
    /// The record's version after this change (0 when rejected).
    pub version: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<FieldConflict>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeSetResult {
    pub id: Uuid,
    pub status: ChangeSetStatus,
    pub changes: Vec<ChangeResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<ChangeSetResult>,
    /// `drain` devices are told to wipe once everything they hold is accepted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wipe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PullOp {
    /// The whole current record.
    Upsert,
    Delete,
    /// Left the user's scope: drop it once nothing local is pending.
    Evict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PulledChange {
    pub entity: String,
    pub id: Uuid,
    pub op: PullOp,
    pub version: i64,
    /// The record for `upsert`; `null` otherwise.
    #[serde(default)]
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub changes: Vec<PulledChange>,
    pub cursor: String,
    pub has_more: bool,
    /// True when changes committed on the server before this pull were held back: they
    /// were still being given their place in the log by another pull, so they are not
    /// in this answer, though `has_more` may be false. Pull again after `retry_after`
    /// seconds (nothing is lost if the phone does not: the next sync brings them).
    /// Always false on SQLite. Absent from older servers: false.
    #[serde(default)]
    pub behind: bool,
    /// Seconds to wait before pulling again, when `behind`.
    #[serde(default)]
    pub retry_after: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncStatus {
    /// The last change set from this device that was applied.
    pub last_applied_changeset: Option<Uuid>,
    pub last_applied_at: Option<String>,
    pub open_conflicts: i64,
    pub rejected_changesets: i64,
    /// Households in the user's scope.
    pub scope_households: i64,
    pub server_time: String,
    /// True when a pull started now would be held back: changes committed on the
    /// server are still being given their place in the log. Pull again after
    /// `retry_after` seconds. Always false on SQLite. Absent from older servers: false.
    #[serde(default)]
    pub behind: bool,
    /// Seconds to wait before pulling, when `behind`.
    #[serde(default)]
    pub retry_after: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentResponse {
    /// The id the phone named the photo with (part `id`); without one, the stored
    /// file's id (the same bytes, the same id).
    pub id: Uuid,
    pub sha256: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchemaResponse {
    pub protocol_version: u32,
    pub min_client_version: u32,
    pub code_tables: Value,
    pub entities: Value,
    /// The most changes one change set may hold; a larger one is refused whole (413).
    /// A change set this large, every field changed, is applied.
    #[serde(default)]
    pub max_changes_per_changeset: usize,
    /// The most change sets one push may hold.
    #[serde(default)]
    pub max_changesets_per_push: usize,
    /// Every error code with its words (`ErrorCode::ALL`), so a phone shows the
    /// server's own message for a code while it is offline.
    #[serde(default)]
    pub error_messages: Vec<ErrorMessage>,
}

/// One error code and its messages, as [`crate::errors::ErrorCode`] has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorMessage {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl ErrorMessage {
    /// Every code the server may answer with, in `ErrorCode::ALL`'s order.
    pub fn all() -> Vec<ErrorMessage> {
        ErrorCode::ALL
            .iter()
            .map(|code| ErrorMessage {
                code: code.code().to_owned(),
                message_zh: code.message_zh().to_owned(),
                message_en: code.message_en().to_owned(),
            })
            .collect()
    }
}

/// `GET /policies`: the regional rule choices a phone needs to preview the rules
/// offline, for the regions its households lie in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoliciesResponse {
    pub regions: Vec<RegionPolicy>,
}

/// The rule choices of one region. A household follows the entry with the longest
/// `region_prefix` its village code starts with (a county, or a more specific region
/// inside it that has its own variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionPolicy {
    /// The region's 12-digit code.
    pub region_code: String,
    /// The leading digits of the village codes it covers.
    pub region_prefix: String,
    /// Whether the basic pension (A29d) counts as income in R1's per-capita figure.
    pub pension_counted: bool,
}
