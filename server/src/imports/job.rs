//! A register import run as a job (issue 11 item 1): the upload is taken, a row in
//! `import_job` says who imports what, and the import runs in its own task, free of the
//! request timeout, while the clerk follows its progress (rows read and checked,
//! households written of the total) and then reads its outcome and report.
//!
//! Progress lives in the memory of the server that runs the job ([`Jobs`], one per
//! server in its `AppState`, so that two servers in one process — the e2e harness
//! starts several — never see each other's jobs): during the write, SQLite's one writer
//! is the import's transaction, so the row is written before and after it, never
//! during. Each server is an instance with its own id, kept on the rows of the jobs it
//! starts. A job still `running` in the table but not live in this server was cut off
//! (a restart gives a new instance; a task that died leaves none); it reads as
//! `interrupted`, and since the write is one transaction nothing of it was kept (unless
//! the cut came between the commit and the row's update, which re-importing the same
//! file shows: it changes nothing).
//!
//! What this must never do: start an import for anyone but a county or administrator
//! (the register's own scope checks still apply to every household), show a job to a
//! user whose region does not cover the importer's, or keep job state in a static.

use super::register::{self, ImportReport, ImportRequest, Step};
use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use crate::gate::Gate;
use crate::tabular::Caps;
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::ErrorCode;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The import jobs one server runs, with how far they have got: a handle cloned into
/// its state and into each job's task.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<JobsInner>,
}

struct JobsInner {
    /// This server: a running job of another instance was cut off by a restart.
    instance: String,
    live: Mutex<HashMap<String, Live>>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs::new()
    }
}

impl Jobs {
    /// A new instance, with no job live yet.
    pub fn new() -> Jobs {
        Jobs { inner: Arc::new(JobsInner { instance: Uuid::new_v4().to_string(), live: Mutex::new(HashMap::new()) }) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Live>> {
        self.inner.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn live(&self, job: &str) -> Option<Live> {
        self.lock().get(job).copied()
    }

    fn update(&self, job: &str, step: Step) {
        let mut live = self.lock();
        let Some(live) = live.get_mut(job) else { return };
        match step {
            Step::Read { rows } => {
                live.stage = Stage::Checking;
                live.rows_total = Some(rows);
            }
            Step::Checked { households } => {
                live.rows_checked = live.rows_total.unwrap_or_default();
                live.households_total = Some(households);
            }
            Step::Planned { households } => live.households_checked = households,
            Step::Writing { done, .. } => {
                live.stage = Stage::Writing;
                live.households_written = done;
            }
            Step::Committed => {}
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Live {
    stage: Stage,
    rows_total: Option<usize>,
    rows_checked: usize,
    households_total: Option<usize>,
    households_checked: usize,
    households_written: usize,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Taken; waiting for a parsing slot, or the file is being read.
    #[default]
    Queued,
    /// Every cell, then the store, is being checked.
    Checking,
    /// Households are being written, in one transaction: none counts until all do.
    Writing,
    /// Finished: the report says whether anything was written.
    Done,
    /// Refused (a file over the caps, unreadable, the server busy): nothing written.
    Failed,
    /// Cut off by a server restart: the transaction did not commit, nothing written.
    Interrupted,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Queued | Stage::Checking | Stage::Writing => "running",
            Stage::Done => "done",
            Stage::Failed => "failed",
            Stage::Interrupted => "interrupted",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Stage::Queued => "排队或读取文件中，尚未写入",
            Stage::Checking => "校验中，尚未写入",
            Stage::Writing => "写入中（一个事务，全部完成前不生效）",
            Stage::Done => "已完成",
            Stage::Failed => "失败，未写入任何数据",
            Stage::Interrupted => "服务器重启中断，未写入任何数据；请重新导入同一文件",
        }
    }
}

/// Why a job failed, as its refusal would have said.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobError {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// A job as the clerk sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: String,
    pub stage: Stage,
    /// The stage in Chinese, saying whether anything has been written.
    pub stage_zh: String,
    pub file_name: String,
    pub dry_run: bool,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Data rows in the file (one per member), once read.
    pub rows_total: Option<usize>,
    pub rows_checked: usize,
    /// Households in the file, once its rows are checked.
    pub households_total: Option<usize>,
    /// Households checked against the store.
    pub households_checked: usize,
    /// Households written inside the transaction; they take effect together at the end.
    pub households_written: usize,
    /// The outcome, once done: counts, failing cells, whether it was written.
    pub report: Option<ImportReport>,
    pub error: Option<JobError>,
}

/// A job just started: its id, and the task that answers the import's result.
pub struct Started {
    pub id: String,
    pub outcome: JoinHandle<Result<ImportReport, Refusal>>,
}

#[derive(FromQueryResult)]
struct JobRow {
    id: String,
    user_id: Option<String>,
    scope: String,
    file_name: String,
    dry_run: bool,
    state: String,
    instance: String,
    rows_total: Option<i64>,
    households_total: Option<i64>,
    report: Option<String>,
    error_code: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, user_id, scope, file_name, dry_run, state, instance, rows_total, households_total, \
                       report, error_code, created_at, finished_at";

/// The county and administrator region prefixes of a caller, or a refusal.
fn prefixes(caller: &Caller) -> Result<Vec<String>, Refusal> {
    register::import_prefixes(Some(caller))?.ok_or_else(Refusal::forbidden)
}

/// Takes the upload and starts importing it in its own task. Refuses anyone but a
/// county or administrator before anything is kept.
pub async fn start(
    jobs: &Jobs,
    db: &Db,
    caller: &Caller,
    request: ImportRequest,
    gate: &Gate,
    caps: Caps,
) -> Result<Started, Refusal> {
    let scope = prefixes(caller)?.join(",");
    let id = Uuid::new_v4().to_string();
    let actor = Actor::of(caller);
    let txn = db.begin_write().await.map_err(Refusal::internal)?;
    txn.execute_raw(sql(
        db.backend(),
        "INSERT INTO import_job (id, user_id, scope, file_name, dry_run, state, instance, created_at) \
         VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
        vec![
            id.as_str().into(),
            caller.user_id.as_str().into(),
            scope.into(),
            request.file_name.as_str().into(),
            request.dry_run.into(),
            jobs.inner.instance.as_str().into(),
            Utc::now().into(),
        ],
    ))
    .await
    .map_err(Refusal::internal)?;
    let mut entry = actor.audit("import_start", "import_job", &id);
    entry.new_value = Some(serde_json::json!({"file_name": request.file_name, "dry_run": request.dry_run}).to_string());
    audit::record(&*txn, &[entry]).await.map_err(Refusal::internal)?;
    txn.commit().await.map_err(Refusal::internal)?;
    jobs.lock().insert(id.clone(), Live::default());

    let (jobs, db, gate, job) = (jobs.clone(), db.clone(), gate.clone(), id.clone());
    let outcome = tokio::spawn(async move {
        // In a task of its own, so that a panic still ends the job as failed.
        let (run_db, run_actor, run_job, run_jobs) = (db.clone(), actor.clone(), job.clone(), jobs.clone());
        let run = tokio::spawn(async move {
            let progress = move |step: Step| run_jobs.update(&run_job, step);
            register::run(&run_db, &run_actor, request, &gate, caps, &progress).await
        });
        let result = run.await.unwrap_or_else(|panicked| Err(Refusal::internal(panicked)));
        if let Err(err) = finish(&db, &actor, jobs.live(&job).unwrap_or_default(), &job, &result).await {
            // The row stays `running`; this process still answers from memory.
            tracing::error!(job = %job, error = %err, "import job: the outcome could not be kept");
            return result;
        }
        jobs.lock().remove(&job);
        result
    });
    Ok(Started { id, outcome })
}

/// Keeps the outcome in the job's row (and an audit entry of how it ended).
async fn finish(
    db: &Db,
    actor: &Actor,
    live: Live,
    job: &str,
    result: &Result<ImportReport, Refusal>,
) -> Result<(), DbErr> {
    let (state, report, error_code) = match result {
        Ok(report) => (Stage::Done, serde_json::to_string(report).ok(), None),
        Err(refusal) => (Stage::Failed, None, Some(refusal.code.code().to_owned())),
    };
    let txn = db.begin_write().await?;
    txn.execute_raw(sql(
        db.backend(),
        "UPDATE import_job SET state = ?, rows_total = ?, households_total = ?, report = ?, error_code = ?, \
         finished_at = ? WHERE id = ?",
        vec![
            state.as_str().into(),
            live.rows_total.map(|n| n as i64).into(),
            live.households_total.map(|n| n as i64).into(),
            report.into(),
            error_code.clone().into(),
            Utc::now().into(),
            job.into(),
        ],
    ))
    .await?;
    let mut entry = actor.audit("import_finish", "import_job", job);
    entry.new_value = Some(match result {
        Ok(report) => serde_json::json!({"written": report.written, "errors_total": report.errors_total}).to_string(),
        Err(_) => serde_json::json!({"error": error_code}).to_string(),
    });
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await
}

/// A job, if the caller may see it: its importer, or a county or administrator whose
/// region covers the importer's. Anyone else is told there is no such job.
pub async fn get(jobs: &Jobs, db: &Db, caller: &Caller, id: &str) -> Result<ImportJob, Refusal> {
    let mine = prefixes(caller)?;
    let text = format!("SELECT {COLUMNS} FROM import_job WHERE id = ?");
    let row = JobRow::find_by_statement(sql(db.backend(), &text, vec![id.into()]))
        .one(&db.conn)
        .await
        .map_err(Refusal::internal)?
        .ok_or_else(Refusal::not_found)?;
    let covered = row.scope.split(',').any(|theirs| mine.iter().any(|p| theirs.starts_with(p.as_str())));
    if row.user_id.as_deref() != Some(caller.user_id.as_str()) && !covered {
        return Err(Refusal::not_found());
    }
    view(jobs, db, row).await
}

async fn view(jobs: &Jobs, db: &Db, row: JobRow) -> Result<ImportJob, Refusal> {
    let live = jobs.live(&row.id);
    let mut stage = match row.state.as_str() {
        "done" => Stage::Done,
        "failed" => Stage::Failed,
        "interrupted" => Stage::Interrupted,
        _ => live.map_or(Stage::Interrupted, |l| l.stage),
    };
    if row.state == "running" && live.is_none() {
        // Not live in this server: another instance ran it and is gone (a restart), or
        // its task died here. Keep it so.
        stage = Stage::Interrupted;
        let txn = db.begin_write().await.map_err(Refusal::internal)?;
        txn.execute_raw(sql(
            db.backend(),
            "UPDATE import_job SET state = 'interrupted', finished_at = ? WHERE id = ? AND state = 'running'",
            vec![Utc::now().into(), row.id.as_str().into()],
        ))
        .await
        .map_err(Refusal::internal)?;
        txn.commit().await.map_err(Refusal::internal)?;
        tracing::warn!(job = %row.id, instance = %row.instance, "import job cut off by a restart");
    }
    let report: Option<ImportReport> = row.report.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let live = live.unwrap_or_default();
    let from_row = |n: Option<i64>| n.map(|n| n as usize);
    let rows_total = live.rows_total.or(from_row(row.rows_total));
    let households_total = live.households_total.or(from_row(row.households_total));
    let finished_ok = report.is_some();
    let error = row.error_code.as_deref().map(|code| {
        let known = ErrorCode::from_code(code);
        JobError {
            code: code.to_owned(),
            message_zh: known.map_or_else(String::new, |c| c.message_zh().to_owned()),
            message_en: known.map_or_else(String::new, |c| c.message_en().to_owned()),
        }
    });
    let written = report.as_ref().is_some_and(|r| r.written);
    Ok(ImportJob {
        stage_zh: match (stage, &report) {
            (Stage::Done, Some(r)) if r.written => "已完成，已写入".to_owned(),
            (Stage::Done, Some(r)) if r.errors_total > 0 => format!("已完成，{} 处错误，未写入", r.errors_total),
            (Stage::Done, Some(r)) if r.dry_run => "试导入完成，未写入".to_owned(),
            (Stage::Done, _) => "已完成，与已有数据一致，无需写入".to_owned(),
            _ => stage.zh().to_owned(),
        },
        id: row.id,
        stage,
        file_name: row.file_name,
        dry_run: row.dry_run,
        created_at: row.created_at,
        finished_at: row.finished_at,
        rows_total,
        rows_checked: if finished_ok { rows_total.unwrap_or_default() } else { live.rows_checked },
        households_total,
        households_checked: if finished_ok { households_total.unwrap_or_default() } else { live.households_checked },
        households_written: if written { households_total.unwrap_or_default() } else { live.households_written },
        report,
        error,
    })
}

/// Waits up to `wait` for a job's outcome: `Ok` with it when the job ended in time,
/// `Err` with the job's id while it still runs (it goes on; ask [`get`]).
pub async fn wait(started: Started, wait: std::time::Duration) -> Result<Result<ImportReport, Refusal>, String> {
    let Started { id, outcome } = started;
    match tokio::time::timeout(wait, outcome).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(panicked)) => Ok(Err(Refusal::internal(panicked))),
        Err(_) => Err(id),
    }
}

/// The refusal of a job's workbook asked before the job has a report.
pub fn not_finished() -> Refusal {
    Refusal::new(Kind::Conflict, ErrorCode::ImportNotFinished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_servers_in_one_process_never_share_their_jobs() {
        let (a, b) = (Jobs::new(), Jobs::new());
        assert_ne!(a.inner.instance, b.inner.instance, "each server is an instance of its own");
        a.lock().insert("job".into(), Live::default());
        a.update("job", Step::Read { rows: 3 });
        assert_eq!(a.live("job").map(|l| (l.stage, l.rows_total)), Some((Stage::Checking, Some(3))));
        assert!(b.live("job").is_none(), "the other server reads the job as not running here");
        b.update("job", Step::Read { rows: 9 });
        assert_eq!(a.live("job").and_then(|l| l.rows_total), Some(3));
        let clone = a.clone();
        assert!(clone.live("job").is_some(), "a clone of the handle is the same server");
    }
}
