//! Who may see and steer the notification data, where the admin services share a rule:
//! county staff and administrators run the notification pages, and a user's messages
//! and preferences are theirs and their managers'. A leaf below the services.
//!
//! What this module must never do: make its own rule for who manages a user. That is
//! the registry's (wholly inside the caller's region, below the caller's rank), asked
//! here so the notification pages and the user accounts never disagree.

use sea_orm::ConnectionTrait;

use crate::auth::Caller;
use crate::error::Refusal;

/// Whether the caller manages anyone at all: the administrators' pages (templates,
/// robots, test sends) are for county staff and administrators only.
pub fn manages_someone(caller: &Caller) -> bool {
    caller.grants.iter().any(|grant| grant.role.manages())
}

/// Whether the caller manages the user (their preferences, a test message to them).
pub async fn manages_user(conn: &impl ConnectionTrait, caller: &Caller, user_id: &str) -> Result<bool, Refusal> {
    Ok(caller.manages_user(&crate::registry::users::grants(conn, user_id).await?))
}
