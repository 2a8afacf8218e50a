//! The codes the outbox stores and the templates are keyed by: events (what happened)
//! and channels. A leaf: every notification module reads it, it reads none of them.
//!
//! What this module must never do: rename a code. They are stored in the outbox,
//! the templates, the preferences and the audit log, and the API shows them.

use jingzhun_mobile_api::errors::ErrorCode;

use crate::error::Refusal;

/// What happened, as the templates and the delivery log name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ObjectionReceived,
    ObjectionDue,
    NoticePublished,
    NoticeEnding,
    StepWaiting,
    MilestoneApproaching,
    MilestoneDue,
    MilestoneOverdue,
    DailyDigest,
    TaskDue,
    TaskOverdue,
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::ObjectionReceived,
        Event::ObjectionDue,
        Event::NoticePublished,
        Event::NoticeEnding,
        Event::StepWaiting,
        Event::MilestoneApproaching,
        Event::MilestoneDue,
        Event::MilestoneOverdue,
        Event::DailyDigest,
        Event::TaskDue,
        Event::TaskOverdue,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Event::ObjectionReceived => "objection_received",
            Event::ObjectionDue => "objection_due",
            Event::NoticePublished => "notice_published",
            Event::NoticeEnding => "notice_ending",
            Event::StepWaiting => "step_waiting",
            Event::MilestoneApproaching => "milestone_approaching",
            Event::MilestoneDue => "milestone_due",
            Event::MilestoneOverdue => "milestone_overdue",
            Event::DailyDigest => "daily_digest",
            Event::TaskDue => "task_due",
            Event::TaskOverdue => "task_overdue",
        }
    }

    pub fn parse(code: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|event| event.code() == code)
    }
}

/// The outbox's channels, as stored in `notification.channel`.
pub const CHANNELS: [&str; 3] = ["sms", "email", "wecom"];

/// The outbox's channel by its stored name; `unknown_channel` for any other.
pub fn known_channel(channel: &str) -> Result<&'static str, Refusal> {
    CHANNELS.into_iter().find(|known| *known == channel).ok_or_else(|| Refusal::invalid(ErrorCode::UnknownChannel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_round_trip() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.code()), Some(event));
        }
        assert_eq!(Event::MilestoneOverdue.code(), "milestone_overdue");
    }
}
