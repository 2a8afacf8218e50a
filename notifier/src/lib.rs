//! Jingzhun's notifier: tells supervisors and officers what is due, overdue or
//! objected to, by SMS (Aliyun, Tencent Cloud), email (SMTP) and WeCom group robots.
//!
//! The channels: one [`Channel`] trait, one file per provider,
//! with the providers' request signing reproduced from their published examples. Each
//! channel sends one message once and classifies failures ([`SendError`]) so the
//! dispatcher can decide: transient → retry with backoff, permanent → stop and show
//! the provider's code, indeterminate → do not resend blindly.
//!
//! What the notifier must never do:
//! - send an SMS twice for one dedup key: SMS APIs have no idempotency key, so a send
//!   whose outcome is unknown is checked or held, never blindly retried;
//! - log a secret (keys, SMTP passwords, robot keys and the URLs carrying them) or a
//!   whole phone number: phones are masked with [`mask_phone`], the server's rule
//!   (first 3 and last 4 kept);
//! - put an internal-only list (edge or monitored households) in a message that
//!   leaves the county office's own people.
//!
//! [`config`] is the `[notify]` section of the server's configuration: which providers,
//! with which credentials, and the policy; it builds the channels and the dispatcher's rules.
//! [`policy`] holds the timing rules the dispatcher applies (quiet hours, per-recipient
//! rate limits, backoff, the step after each attempt), [`schedule`] the cron schedules in
//! Beijing time, [`template`] the `{variable}` rendering, and [`outbox`] the dispatcher
//! of the durable outbox (`Dispatcher::try_dispatch_once` for tests and benchmarks,
//! `outbox::run_until_stopped` for the server). The outbox rows themselves are written
//! by the server (`jingzhun::notifications::notify`) in the transaction of the event that causes
//! them. Local stand-ins for the providers live in `jingzhun_tools::standins`, so the
//! notifier itself serves no HTTP.

pub mod channel;
pub mod config;
pub mod email;
pub mod outbox;
pub mod policy;
pub mod redact;
pub mod schedule;
pub mod sms;
pub mod template;
pub mod wechat;

pub use channel::{Channel, Delivery, Message, Secret, SendError};
pub use config::NotifyConfig;
pub use email::{SmtpChannel, SmtpSecurity, SmtpSetupError};
/// The server's masking rule, reused so logs and pages agree.
pub use jingzhun_mobile_api::validate::mask_phone;
pub use policy::{AfterAttempt, Backoff, QuietHours, RateLimit, after_attempt};
pub use redact::provider_text;
pub use schedule::{CronSchedule, ScheduleError};
pub use sms::aliyun::{AliyunConfig, AliyunSms};
pub use sms::normalize_mobile;
pub use sms::tencent::{TencentConfig, TencentSms};
pub use wechat::WeComRobot;
