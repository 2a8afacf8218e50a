//! Notifications (C6): the durable outbox, its delivery log, each user's channel
//! preferences, the message templates (seeded with Chinese defaults) and the WeCom group
//! robots of each region.
//!
//! An outbox row is one message to one recipient on one channel, written in the same
//! transaction as the event that causes it; `(dedup_key, user_id, channel)` is unique so
//! one event never texts one person twice. Rows are never deleted by the dispatcher.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Default templates: (event, channel, subject, body, SMS variables in template order).
/// Bodies use `{variable}`; SMS text itself is the provider's approved template, the body
/// here is what the delivery log shows. SMS template codes are placeholders until the
/// deployment's approved codes are entered through the admin API.
const TEMPLATES: &[(&str, &str, &str, &str)] = &[
    (
        "objection_received",
        "【精准扶贫】{region}的公示《{notice_title}》收到新的异议，请在{due}前核实处理。",
        "notice_title,due",
        "公示收到异议",
    ),
    (
        "objection_due",
        "【精准扶贫】公示《{notice_title}》的异议须在{due}前答复，请尽快处理。",
        "notice_title,due",
        "异议答复即将到期",
    ),
    (
        "notice_published",
        "【精准扶贫】{region}的公示《{notice_title}》已发布，公示期至{due}。",
        "notice_title,due",
        "公示已发布",
    ),
    (
        "notice_ending",
        "【精准扶贫】{region}的公示《{notice_title}》将于{due}结束。",
        "notice_title,due",
        "公示即将结束",
    ),
    (
        "step_waiting",
        "【精准扶贫】{household}的事项在“{step}”环节已等待{days}天，请及时办理。",
        "household,step,days",
        "事项等待办理",
    ),
    (
        "milestone_approaching",
        "【精准扶贫】“{campaign}”的节点“{milestone}”将于{due}到期，当前进度{progress}。",
        "milestone,due",
        "工作节点即将到期",
    ),
    (
        "milestone_due",
        "【精准扶贫】“{campaign}”的节点“{milestone}”今天（{due}）到期，当前进度{progress}。",
        "milestone,due",
        "工作节点今日到期",
    ),
    (
        "milestone_overdue",
        "【精准扶贫】“{campaign}”的节点“{milestone}”已于{due}逾期，滞后地区：{lagging}。",
        "milestone,lagging",
        "工作节点已逾期",
    ),
    (
        "daily_digest",
        "【精准扶贫】{date}工作提醒：今日到期{due_count}项，已逾期{late_count}项，未办结异议{objection_count}件。{summary}",
        "due_count,late_count,objection_count",
        "每日工作提醒",
    ),
    (
        "task_due",
        "【精准扶贫】帮扶任务“{task}”（{household}）将于{due}到期，请按时完成。",
        "task,due",
        "帮扶任务即将到期",
    ),
    (
        "task_overdue",
        "【精准扶贫】帮扶任务“{task}”（{household}）已于{due}逾期，请尽快完成。",
        "task,due",
        "帮扶任务已逾期",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notification")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("event", 40))
                    .col(string_len("dedup_key", 200))
                    // A user id, or `robot:{id}` for a WeCom group robot.
                    .col(string_len("user_id", 60))
                    // sms, email or wecom.
                    .col(string_len("channel", 20))
                    // Phone, e-mail address or robot key (never shown whole).
                    .col(string_null("address"))
                    // The region the event concerns, for admins' view of the log.
                    .col(string_len_null("region_code", 12))
                    // Provider template code for SMS; the event code otherwise.
                    .col(string_null("template"))
                    // All template variables (JSON object).
                    .col(text("params").default("{}"))
                    // The SMS template's variables in template order (JSON [[name, value], …]).
                    .col(text("sms_params").default("[]"))
                    .col(string_null("subject"))
                    .col(text("body"))
                    // queued → sending → sent; held (quiet hours, rate limit) → sending;
                    // failed (permanent or out of tries); unknown (never resent blindly); cancelled.
                    .col(string_len("status", 20))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(string_len_null("claimed_by", 60))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(string_len_null("provider", 40))
                    .col(string_null("provider_code"))
                    .col(string_null("provider_message_id"))
                    .col(text_null("last_error"))
                    .col(boolean("urgent").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("notification_dedup", &["dedup_key", "user_id", "channel"][..], true),
            ("notification_due", &["status", "next_attempt_at"][..], false),
            ("notification_user", &["user_id", "created_at"][..], false),
            ("notification_address_sent", &["channel", "address", "sent_at"][..], false),
        ] {
            let mut index = Index::create();
            index.name(name).table("notification");
            for col in cols {
                index.col(*col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        // One row per attempt (and per hold): what was tried, when, and the provider's answer.
        manager
            .create_table(
                Table::create()
                    .table("notification_attempt")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("notification_id", 36))
                    .col(integer("attempt"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len_null("provider", 40))
                    // sent, transient, permanent, indeterminate, held.
                    .col(string_len("outcome", 20))
                    .col(string_null("code"))
                    .col(string_null("provider_message_id"))
                    .col(text_null("detail"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_attempt_notification")
                    .table("notification_attempt")
                    .col("notification_id")
                    .to_owned(),
            )
            .await?;

        // Only explicit choices are stored; without a row a channel is on when the user
        // has its address.
        manager
            .create_table(
                Table::create()
                    .table("notification_preference")
                    .col(string_len("user_id", 36))
                    .col(string_len("channel", 20))
                    .col(boolean("enabled"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("user_id").col("channel"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("notification_template")
                    .col(string_len("event", 40))
                    .col(string_len("channel", 20))
                    .col(string_null("subject"))
                    .col(text("body"))
                    // The provider's approved template code (SMS only).
                    .col(string_null("sms_template_code"))
                    // Comma-separated variables the SMS template takes, in its order.
                    .col(string("sms_params").default(""))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(string_len_null("updated_by", 36))
                    .primary_key(Index::create().col("event").col("channel"))
                    .to_owned(),
            )
            .await?;

        // A WeCom group robot posts to the group of a region (and the regions under it).
        manager
            .create_table(
                Table::create()
                    .table("notification_robot")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("region_code", 12))
                    .col(string("name"))
                    .col(string("robot_key"))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        let seeded_at = Expr::current_timestamp();
        let mut insert = Query::insert();
        insert.into_table("notification_template").columns([
            "event",
            "channel",
            "subject",
            "body",
            "sms_template_code",
            "sms_params",
            "updated_at",
        ]);
        for (event, body, sms_params, subject) in TEMPLATES {
            let code = format!("SMS_JZ_{}", event.to_ascii_uppercase());
            insert.values_panic([
                (*event).into(),
                "sms".into(),
                Option::<String>::None.into(),
                (*body).into(),
                code.into(),
                (*sms_params).into(),
                seeded_at.clone(),
            ]);
            insert.values_panic([
                (*event).into(),
                "email".into(),
                format!("【精准扶贫】{subject}").into(),
                format!("{}\n\n此邮件由精准扶贫系统自动发送，请勿回复。", body.trim_start_matches("【精准扶贫】"))
                    .into(),
                Option::<String>::None.into(),
                "".into(),
                seeded_at.clone(),
            ]);
            insert.values_panic([
                (*event).into(),
                "wecom".into(),
                Option::<String>::None.into(),
                (*body).into(),
                Option::<String>::None.into(),
                "".into(),
                seeded_at.clone(),
            ]);
        }
        manager.exec_stmt(insert.to_owned()).await
    }
}
