//! The `[notify]` configuration section: providers, policy and the dispatcher's pace.
//! The server embeds it as its `notify` section; it lives here, beside the channels, so a
//! new provider touches this crate (and `jingzhun.example.toml`) only.
//!
//! Every part is optional so a server starts with none configured. A channel without a
//! provider is not dispatched: its rows stay `queued` (visible in the delivery log) and
//! go out once the provider is configured; nothing is dropped or marked failed for it.
//! Secrets are [`Secret`]s: `Debug` prints `***`, so logging the config leaks nothing.
//!
//! ```toml
//! [notify]
//! sms_provider = "aliyun"            # or "tencent"; empty: SMS rows wait, queued
//! quiet_hours_start = "21:00"        # Beijing time
//! quiet_hours_end = "08:00"
//! urgent_passes_quiet_hours = false
//! urgent_events = ["objection_received"]
//! sms_per_minute = 1
//! sms_per_hour = 5
//! sms_per_day = 10
//! wecom_per_minute = 20
//! retry_first_secs = 60               # then doubling, capped at retry_max_secs
//! retry_max_secs = 21600
//! max_attempts = 8
//! dispatcher_enabled = true
//! dispatcher_interval_secs = 5
//! batch = 200
//! concurrency = 32
//! lease_secs = 300
//!
//! [notify.aliyun]
//! access_key_id = "LTAI…"
//! access_key_secret = "…"            # or JINGZHUN__NOTIFY__ALIYUN__ACCESS_KEY_SECRET
//! sign_name = "精准扶贫"
//! # endpoint = "https://dysmsapi.aliyuncs.com/"
//!
//! [notify.tencent]
//! secret_id = "AKID…"
//! secret_key = "…"
//! sdk_app_id = "1400…"
//! sign_name = "精准扶贫"
//!
//! [notify.smtp]
//! host = "smtp.example.gov.cn"
//! port = 465
//! security = "tls"                   # plain (loopback only), starttls, tls
//! username = "noreply@example.gov.cn"
//! password = "…"
//! from = "精准扶贫 <noreply@example.gov.cn>"
//!
//! [notify.wecom]
//! base_url = "https://qyapi.weixin.qq.com"   # robot keys: per region, admin API
//! ```

use std::time::Duration;

use crate::outbox::{Channels, Policy};
use crate::{
    AliyunConfig, AliyunSms, Backoff, QuietHours, RateLimit, Secret, SmtpChannel, SmtpSecurity, TencentConfig,
    TencentSms, WeComRobot,
};
use anyhow::Context;
use chrono::NaiveTime;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotifyConfig {
    /// Off: this process runs no dispatcher (another process on the database does).
    pub dispatcher_enabled: bool,
    /// Seconds between dispatcher cycles when nothing is pending; a full batch is
    /// followed at once by the next.
    pub dispatcher_interval_secs: u64,
    /// Rows claimed per cycle.
    pub batch: usize,
    /// Sends in flight at once (to different recipients).
    pub concurrency: usize,
    /// A claimed row still `sending` after this long is marked `unknown`, never resent.
    pub lease_secs: u64,
    /// `aliyun` or `tencent`: which SMS provider sends; empty: SMS rows stay queued.
    pub sms_provider: String,
    pub aliyun: Option<AliyunSection>,
    pub tencent: Option<TencentSection>,
    pub smtp: Option<SmtpSection>,
    pub wecom: Option<WeComSection>,
    /// SMS quiet hours, Beijing time, `HH:MM`; a non-urgent SMS due inside waits until the end.
    pub quiet_hours_start: String,
    pub quiet_hours_end: String,
    /// Whether urgent notifications (flagged by the caller or listed in `urgent_events`)
    /// pass the quiet hours. Off by default: a night-time text is rarely worth it.
    pub urgent_passes_quiet_hours: bool,
    /// Event codes treated as urgent whatever the caller says (e.g. `objection_received`).
    pub urgent_events: Vec<String>,
    /// Per phone number; providers themselves allow about 1 a minute, 5 an hour, 10 a day.
    pub sms_per_minute: usize,
    pub sms_per_hour: usize,
    pub sms_per_day: usize,
    /// A WeCom robot refuses more than 20 messages a minute.
    pub wecom_per_minute: usize,
    /// Transient failures are retried after `retry_first_secs`, doubling up to
    /// `retry_max_secs`, at most `max_attempts` attempts in all.
    pub retry_first_secs: u64,
    pub retry_max_secs: u64,
    pub max_attempts: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            dispatcher_enabled: true,
            dispatcher_interval_secs: 5,
            batch: 200,
            concurrency: 32,
            lease_secs: 300,
            sms_provider: String::new(),
            aliyun: None,
            tencent: None,
            smtp: None,
            wecom: None,
            quiet_hours_start: "21:00".into(),
            quiet_hours_end: "08:00".into(),
            urgent_passes_quiet_hours: false,
            urgent_events: Vec::new(),
            sms_per_minute: 1,
            sms_per_hour: 5,
            sms_per_day: 10,
            wecom_per_minute: 20,
            retry_first_secs: 60,
            retry_max_secs: 6 * 3600,
            max_attempts: 8,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AliyunSection {
    /// `https://dysmsapi.aliyuncs.com/` when empty.
    #[serde(default)]
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// The approved signature (签名).
    pub sign_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TencentSection {
    /// `https://sms.tencentcloudapi.com/` when empty.
    #[serde(default)]
    pub endpoint: String,
    pub secret_id: String,
    pub secret_key: Secret,
    pub sdk_app_id: String,
    pub sign_name: String,
    /// `ap-guangzhou` when empty.
    #[serde(default)]
    pub region: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSection {
    pub host: String,
    pub port: u16,
    /// `plain` (loopback relays only), `starttls` (587) or `tls` (465).
    pub security: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: Option<Secret>,
    /// May carry a display name: `精准扶贫 <noreply@example.org>`.
    pub from: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WeComSection {
    /// `https://qyapi.weixin.qq.com`; the robots' keys are stored per region in the database.
    pub base_url: String,
}

impl NotifyConfig {
    /// The channels this deployment configured; an unusable provider setting is an error
    /// so the server stops at start rather than silently never sending.
    pub fn channels(&self) -> anyhow::Result<Channels> {
        let mut channels = Channels::default();
        match self.sms_provider.as_str() {
            "" => {}
            "aliyun" => {
                let section = self.aliyun.as_ref().context("notify.sms_provider = aliyun needs [notify.aliyun]")?;
                let mut config = AliyunConfig::new(
                    section.access_key_id.clone(),
                    section.access_key_secret.clone(),
                    section.sign_name.clone(),
                );
                if !section.endpoint.is_empty() {
                    config.endpoint = section.endpoint.clone();
                }
                channels.sms = Some(Arc::new(AliyunSms::new(config).context("building the Aliyun SMS client")?));
            }
            "tencent" => {
                let section = self.tencent.as_ref().context("notify.sms_provider = tencent needs [notify.tencent]")?;
                let mut config = TencentConfig::new(
                    section.secret_id.clone(),
                    section.secret_key.clone(),
                    section.sdk_app_id.clone(),
                    section.sign_name.clone(),
                );
                if !section.endpoint.is_empty() {
                    config.endpoint = section.endpoint.clone();
                }
                if !section.region.is_empty() {
                    config.region = section.region.clone();
                }
                channels.sms = Some(Arc::new(TencentSms::new(config).context("building the Tencent SMS client")?));
            }
            other => anyhow::bail!("notify.sms_provider must be aliyun, tencent or empty, not {other:?}"),
        }
        if let Some(smtp) = &self.smtp {
            let security = match smtp.security.as_str() {
                "plain" => SmtpSecurity::Plain,
                "starttls" => SmtpSecurity::StartTls,
                "tls" => SmtpSecurity::Tls,
                other => anyhow::bail!("notify.smtp.security must be plain, starttls or tls, not {other:?}"),
            };
            let credentials = smtp.password.clone().map(|password| (smtp.username.clone(), password));
            channels.email = Some(Arc::new(
                SmtpChannel::new(&smtp.host, smtp.port, security, &smtp.from, credentials)
                    .context("building the SMTP channel")?,
            ));
        }
        if let Some(wecom) = &self.wecom {
            channels.wecom = Some(Arc::new(
                WeComRobot::new(wecom.base_url.clone()).map_err(|error| anyhow::anyhow!("WeCom robot: {error}"))?,
            ));
        }
        Ok(channels)
    }

    pub fn policy(&self) -> anyhow::Result<Policy> {
        let time = |text: &str, key: &str| {
            NaiveTime::parse_from_str(text, "%H:%M")
                .with_context(|| format!("notify.{key} must be HH:MM, got {text:?}"))
        };
        Ok(Policy {
            quiet_hours: QuietHours {
                start: time(&self.quiet_hours_start, "quiet_hours_start")?,
                end: time(&self.quiet_hours_end, "quiet_hours_end")?,
            },
            urgent_passes_quiet_hours: self.urgent_passes_quiet_hours,
            urgent_events: self.urgent_events.clone(),
            sms_limit: RateLimit {
                per_minute: self.sms_per_minute,
                per_hour: self.sms_per_hour,
                per_day: self.sms_per_day,
            },
            wecom_limit: RateLimit { per_minute: self.wecom_per_minute, per_hour: 0, per_day: 0 },
            backoff: Backoff {
                first: Duration::from_secs(self.retry_first_secs),
                max: Duration::from_secs(self.retry_max_secs),
                max_attempts: self.max_attempts,
            },
            lease: Duration::from_secs(self.lease_secs),
            batch: self.batch,
            concurrency: self.concurrency,
            ..Policy::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_is_a_valid_deployment() {
        let config = NotifyConfig::default();
        let channels = config.channels().expect("channels");
        assert!(channels.sms.is_none() && channels.email.is_none() && channels.wecom.is_none());
        let policy = config.policy().expect("policy");
        assert_eq!(policy.quiet_hours, QuietHours::default());
        assert_eq!(policy.sms_limit, RateLimit { per_minute: 1, per_hour: 5, per_day: 10 });
    }

    #[test]
    fn mistakes_stop_the_start_with_the_key_named() {
        let config = NotifyConfig { sms_provider: "aliyn".into(), ..NotifyConfig::default() };
        assert!(config.channels().expect_err("refused").to_string().contains("notify.sms_provider"));
        let config = NotifyConfig { sms_provider: "tencent".into(), ..NotifyConfig::default() };
        assert!(config.channels().expect_err("refused").to_string().contains("[notify.tencent]"));
        let config = NotifyConfig { quiet_hours_start: "9pm".into(), ..NotifyConfig::default() };
        assert!(config.policy().expect_err("refused").to_string().contains("notify.quiet_hours_start"));
    }

    #[test]
    fn secrets_do_not_reach_debug_output() {
        let config = NotifyConfig {
            aliyun: Some(AliyunSection {
                endpoint: String::new(),
                access_key_id: "LTAI-id".into(),
                access_key_secret: Secret::new("hunter2"),
                sign_name: "精准扶贫".into(),
            }),
            ..NotifyConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
