//! Campaigns and deadlines (C7): a campaign (the yearly dynamic adjustment of 004 §二,
//! say) covers a region and has dated milestones; each milestone's progress is
//! computed from the data per township and village, so reminders say what is behind
//! and where. Reminders go out N days before a milestone, on its day and once it is
//! overdue; overdue lags escalate to the supervisor one level up.
//!
//! Who may read a campaign is decided in `access`, who may change it in `campaign`: the
//! HTTP layer only passes the caller on and maps the refusal.
//!
//! What this module must never do: speak HTTP, or change household data. It reads the
//! registry and writes only campaigns, milestones, progress snapshots and notifications.

pub mod access;
pub mod campaign;
pub mod jobs;
pub mod measure;
pub mod progress;
pub mod pull;
pub mod reminders;
pub mod template;

pub use campaign::{Campaign, Milestone, NewCampaign, NewMilestone};
pub use measure::Measure;
pub use progress::{RegionProgress, expected_permille};
pub use reminders::{Reminder, ReminderKind, plan_reminders};

use chrono::NaiveDate;

/// Dates are stored `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}
