//! Scheduled work (C6, C7): the daily digest, milestone reminders and progress
//! snapshots, each on a cron schedule read in Beijing time.
//!
//! Several server processes may share one database, so a firing runs once: whoever
//! inserts the `(job, slot)` row into `schedule_run` runs it, in the same transaction,
//! and everyone else gets a unique violation and moves on. If the work fails the claim
//! rolls back with it and the next tick tries again. Time comes from the server's `Clock`, so
//! tests move the clock and call [`run_due`] instead of waiting.
//!
//! What the scheduler must never do: keep "already ran" in process memory (a restart or
//! a second process would run it again), or run every missed firing after downtime
//! (only the latest one within a day is caught up).

use crate::clock::Clock;
use crate::config::ScheduleConfig;
use crate::db::{Db, sql};
use anyhow::Context;
use chrono::{DateTime, Utc};
use jingzhun_notifier::schedule::CronSchedule;
use sea_orm::{ConnectionTrait, Value};
use std::future::Future;
use std::time::Duration;

/// A firing older than this is not caught up (a daily job missed for longer simply
/// runs at its next time).
const CATCH_UP: chrono::Duration = chrono::Duration::hours(26);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    DailyDigest,
    MilestoneReminders,
    CampaignProgress,
}

impl Job {
    pub const ALL: [Job; 3] = [Job::CampaignProgress, Job::MilestoneReminders, Job::DailyDigest];

    pub fn name(self) -> &'static str {
        match self {
            Job::DailyDigest => "daily_digest",
            Job::MilestoneReminders => "milestone_reminders",
            Job::CampaignProgress => "campaign_progress",
        }
    }
}

/// Every job with its parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedules {
    jobs: Vec<(Job, CronSchedule)>,
}

impl Schedules {
    /// Parses every configured expression; the error names the key and says what is wrong.
    pub fn from_config(config: &ScheduleConfig) -> anyhow::Result<Schedules> {
        let mut jobs = Vec::new();
        for (job, key, expression) in [
            (Job::CampaignProgress, "schedule.progress", &config.progress),
            (Job::MilestoneReminders, "schedule.reminders", &config.reminders),
            (Job::DailyDigest, "schedule.digest", &config.digest),
        ] {
            let schedule: CronSchedule = expression
                .parse()
                .with_context(|| format!("{key} = {expression:?} is not a valid schedule (Beijing time)"))?;
            jobs.push((job, schedule));
        }
        if config.step_waiting_days < 1 {
            anyhow::bail!("schedule.step_waiting_days must be at least 1, got {}", config.step_waiting_days);
        }
        Ok(Schedules { jobs })
    }

    /// Each job's latest firing at or before `now`, within the catch-up window.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<(Job, DateTime<Utc>)> {
        self.jobs.iter().filter_map(|(job, schedule)| latest_firing(schedule, now).map(|slot| (*job, slot))).collect()
    }
}

/// The last firing of `schedule` in `(now - CATCH_UP, now]`.
pub fn latest_firing(schedule: &CronSchedule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut at = now - CATCH_UP;
    let mut last = None;
    // Bounded: a schedule firing every second would otherwise walk a day of seconds.
    for _ in 0..2000 {
        match schedule.next_after(at) {
            Some(next) if next <= now => {
                last = Some(next);
                at = next;
            }
            _ => return last,
        }
    }
    last
}

/// Runs every job whose latest firing nobody has run yet; returns `job@slot` of the
/// ones this call ran. Safe to call from several processes at once.
pub async fn run_due(db: &Db, clock: &Clock, config: &ScheduleConfig) -> anyhow::Result<Vec<String>> {
    let schedules = Schedules::from_config(config)?;
    let now = clock.now();
    let mut ran = Vec::new();
    for (job, slot) in schedules.due(now) {
        if run_slot(db, config, job, slot, now).await.with_context(|| format!("running {}", job.name()))? {
            ran.push(format!("{}@{}", job.name(), slot.to_rfc3339()));
        }
    }
    Ok(ran)
}

/// Claims and runs one firing; false when another run already claimed it.
///
/// The claim is committed first, the work read outside any write transaction, and its
/// result written in one short one with the claim's outcome. Work that fails releases
/// the claim so the next tick tries again (the outbox's dedup keys make the retry
/// harmless); a claim left by a process that died mid-way goes stale and is taken over.
pub async fn run_slot(
    db: &Db,
    config: &ScheduleConfig,
    job: Job,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    if !claim(db, job, slot, now).await? {
        return Ok(false);
    }
    match work(db, config, job, slot, now).await {
        Ok(written) => {
            tracing::info!(job = job.name(), slot = %slot, written, "scheduled job ran");
            Ok(true)
        }
        Err(err) => {
            if let Err(release) = release(db, job, slot).await {
                tracing::error!(%release, job = job.name(), "releasing a failed claim failed; it goes stale");
            }
            Err(err)
        }
    }
}

/// A claim without an outcome older than this belongs to a process that died.
const CLAIM_STALE: chrono::Duration = chrono::Duration::minutes(15);

async fn claim(db: &Db, job: Job, slot: DateTime<Utc>, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let key: [Value; 2] = [job.name().into(), slot.to_rfc3339().into()];
    let txn = db.begin_write().await?;
    let inserted = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "INSERT INTO schedule_run (job, slot, claimed_at) VALUES (?, ?, ?)",
            vec![key[0].clone(), key[1].clone(), now.into()],
        ))
        .await;
    match inserted {
        Ok(_) => {
            txn.commit().await?;
            return Ok(true);
        }
        // On PostgreSQL the failed insert ends the transaction: look again in a new one.
        Err(err) if crate::db::is_unique_violation(&err) => txn.rollback().await?,
        Err(err) => return Err(err.into()),
    }
    let txn = db.begin_write().await?;
    let taken = txn
        .execute_raw(sql(
            txn.get_database_backend(),
            "UPDATE schedule_run SET claimed_at = ? WHERE job = ? AND slot = ? AND outcome IS NULL AND claimed_at < ?",
            vec![now.into(), key[0].clone(), key[1].clone(), (now - CLAIM_STALE).into()],
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    Ok(taken == 1)
}

async fn release(db: &Db, job: Job, slot: DateTime<Utc>) -> anyhow::Result<()> {
    let txn = db.begin_write().await?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "DELETE FROM schedule_run WHERE job = ? AND slot = ? AND outcome IS NULL",
        vec![job.name().into(), slot.to_rfc3339().into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn work(
    db: &Db,
    config: &ScheduleConfig,
    job: Job,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use crate::campaigns::jobs;
    let conn = &db.conn;
    let (progress, notifications) = match job {
        Job::CampaignProgress => (jobs::plan_progress(conn, now).await?, Vec::new()),
        Job::MilestoneReminders => (Vec::new(), jobs::plan_reminders(conn, now).await?),
        Job::DailyDigest => (Vec::new(), jobs::plan_digest(conn, now, config.step_waiting_days).await?),
    };
    let txn = db.begin_write().await?;
    let written = jobs::store_progress(&*txn, now, &progress).await? + jobs::enqueue(&*txn, now, notifications).await?;
    txn.execute_raw(sql(
        txn.get_database_backend(),
        "UPDATE schedule_run SET outcome = ? WHERE job = ? AND slot = ?",
        vec![format!("{written} rows").into(), job.name().into(), slot.to_rfc3339().into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(written)
}

/// Every minute until `shutdown`: run what is due. Errors are logged and retried on the
/// next tick; a run under way is finished before it stops.
pub async fn run_until_stopped(db: Db, clock: Clock, config: ScheduleConfig, shutdown: impl Future<Output = ()>) {
    if !config.enabled {
        return;
    }
    // The first look a minute after start: a process that restarts in a loop does not
    // hammer the database, and tests that drive `run_due` themselves are left alone.
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        if let Err(err) = run_due(&db, &clock, &config).await {
            tracing::error!(err = format!("{err:#}"), "scheduled work failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn beijing(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        chrono::FixedOffset::east_opt(8 * 3600)
            .expect("UTC+8")
            .with_ymd_and_hms(2026, 11, day, hour, minute, 0)
            .single()
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn config() -> ScheduleConfig {
        crate::Config::defaults().expect("defaults").schedule
    }

    #[test]
    fn the_latest_firing_is_caught_up_once_and_earlier_ones_are_not() {
        let schedules = Schedules::from_config(&config()).expect("defaults parse");
        let due = schedules.due(beijing(25, 9, 10));
        let digest = due.iter().find(|(job, _)| *job == Job::DailyDigest).map(|(_, slot)| *slot);
        assert_eq!(digest, Some(beijing(25, 8, 30)));
        let reminders = due.iter().find(|(job, _)| *job == Job::MilestoneReminders).map(|(_, slot)| *slot);
        assert_eq!(reminders, Some(beijing(25, 8, 0)));
        // Before 08:30 the digest's latest firing is yesterday's.
        let due = schedules.due(beijing(25, 8, 10));
        let digest = due.iter().find(|(job, _)| *job == Job::DailyDigest).map(|(_, slot)| *slot);
        assert_eq!(digest, Some(beijing(24, 8, 30)));
        let progress = due.iter().find(|(job, _)| *job == Job::CampaignProgress).map(|(_, slot)| *slot);
        assert_eq!(progress, Some(beijing(25, 8, 0)));
    }

    #[test]
    fn a_bad_expression_is_refused_naming_its_key() {
        let bad = ScheduleConfig { digest: "0 30 8 * * 1-5".into(), ..config() };
        let err = format!("{:#}", Schedules::from_config(&bad).expect_err("refused"));
        assert!(err.contains("schedule.digest"), "{err}");
        assert!(err.contains("by name"), "{err}");
        let bad = ScheduleConfig { reminders: "every morning".into(), ..config() };
        assert!(format!("{:#}", Schedules::from_config(&bad).expect_err("refused")).contains("schedule.reminders"));
    }
}
