//! The scheduled work of campaigns: milestone reminders and escalations, the daily
//! digest to each supervisor (with cases waiting too long at a step and help-plan tasks
//! due or overdue for their officers), and progress snapshots for pulls.
//!
//! Each job is planned by reading (`plan_*`: the heavy part, computing progress over a
//! whole county, runs outside any write transaction so SQLite's single writer is not
//! held meanwhile) and then applied in one short write transaction ([`store_progress`],
//! [`enqueue`]). `crate::notifications` writes outbox rows whose dedup keys make a second run of
//! the same day a no-op.
//!
//! What this module must never do: send anything itself (it only writes the outbox), or
//! hold a write transaction while it computes.

use super::campaign::{self, Campaign, Milestone};
use super::progress::{self, CountsCache, RegionProgress};
use super::reminders::{self, OVERDUE_FOR_DAYS, ReminderKind};
use super::{format_date, parse_date};
use crate::auth::Role;
use crate::db::sql;
use crate::notifications::{self, Event, Notification, Recipients};
use crate::procedures::Step;
use crate::records::changelog::{self, LogEntry, LogOp};
use crate::records::side;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// How many days ahead the digest lists what is due.
pub const DIGEST_DAYS_AHEAD: i64 = 7;
/// Most items one list in a digest names (the counts are always whole).
const DIGEST_LIST: usize = 10;
/// Most step-waiting or task notices one run enqueues; the rest follow the next day.
const BATCH: i64 = 2000;
/// A task overdue for longer is not announced any more: when the notifier is switched on
/// over years of data, officers are not flooded with every task they ever let slip (the
/// digest still counts them for supervisors).
const TASK_OVERDUE_FOR_DAYS: i64 = 30;

fn params(pairs: Vec<(&str, Json)>) -> Map<String, Json> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn percent(permille: i32) -> Json {
    json!(f64::from(permille) / 10.0)
}

fn names(villages: &[(String, String)]) -> String {
    villages.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join("、")
}

/// Milestone reminders for `now`'s Beijing day: N days before, on the day, overdue
/// (escalated one level up).
pub async fn plan_reminders(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<Notification>, DbErr> {
    let today = crate::plans::china_date(now);
    let mut out = Vec::new();
    let mut cache = CountsCache::default();
    for campaign in campaign::active(conn).await? {
        for m in &campaign.milestones {
            let Some(kind) = reminders::plan_reminders(m, today) else { continue };
            let lines = progress::compute(conn, &campaign, m, today, &mut cache).await?;
            out.extend(milestone_notifications(&campaign, m, kind, &lines, today));
        }
    }
    Ok(out)
}

/// Writes the notifications in the caller's transaction; returns the outbox rows written.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    notifications: Vec<Notification>,
) -> Result<usize, DbErr> {
    let mut written = 0;
    for n in notifications {
        written += notifications::notify(conn, now, n).await?;
    }
    Ok(written)
}

/// The notifications one milestone reminder makes: one per township short of the
/// target (to its team; overdue also to the supervisor one level up), and one summary
/// to the campaign's own region. Pure, for tests.
pub fn milestone_notifications(
    campaign: &Campaign,
    m: &Milestone,
    kind: ReminderKind,
    lines: &[RegionProgress],
    today: NaiveDate,
) -> Vec<Notification> {
    let reach = reminders::plan_reach(kind, lines);
    if reach.is_empty() {
        return Vec::new();
    }
    let event = || match kind {
        ReminderKind::Approaching { .. } => Event::MilestoneApproaching,
        ReminderKind::DueToday => Event::MilestoneDue,
        ReminderKind::Overdue { .. } => Event::MilestoneOverdue,
    };
    let urgent = matches!(kind, ReminderKind::Overdue { .. });
    let (days_left, days_late) = match kind {
        ReminderKind::Approaching { days_left } => (days_left, 0),
        ReminderKind::DueToday => (0, 0),
        ReminderKind::Overdue { days_late } => (0, days_late),
    };
    let date = format_date(today);
    let base = |region_code: &str, region_name: &str, share: i32, lagging: &[(String, String)]| {
        params(vec![
            ("campaign_id", json!(campaign.id)),
            ("campaign", json!(campaign.name)),
            ("milestone_id", json!(m.id)),
            ("milestone", json!(m.name)),
            ("due_on", json!(format_date(m.due_on))),
            ("days_left", json!(days_left)),
            ("days_late", json!(days_late)),
            ("target_percent", json!(m.target_percent)),
            ("region_code", json!(region_code)),
            ("region_name", json!(region_name)),
            ("share_percent", percent(share)),
            ("lagging_count", json!(lagging.len())),
            ("lagging_regions", json!(names(lagging))),
            ("lagging_codes", json!(lagging.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>())),
            // The templates' variables (`crate::notifications`).
            ("due", json!(format_date(m.due_on))),
            ("region", json!(region_name)),
            ("progress", json!(format!("{}%", f64::from(share) / 10.0))),
            ("lagging", json!(names(lagging))),
        ])
    };
    let mut out = Vec::new();
    for r in &reach {
        let key = format!("milestone:{}:{}:{}:{date}", m.id, kind.code(), r.region_code);
        let p = base(&r.region_code, &r.region_name, r.share_permille, &r.lagging_villages);
        if let Some(up) = &r.escalate_to {
            let mut p = p.clone();
            p.insert("escalated_to".into(), json!(up));
            out.push(Notification {
                event: event(),
                dedup_key: format!("{key}:supervisor"),
                recipients: Recipients::Role { role: Role::Supervisor, region_code: up.clone() },
                params: p,
                urgent,
            });
        }
        out.push(Notification {
            event: event(),
            dedup_key: format!("{key}:team"),
            recipients: Recipients::Role { role: Role::Township, region_code: r.region_code.clone() },
            params: p,
            urgent,
        });
    }
    // The campaign's own region hears which townships are behind.
    if let Some(top) = lines.first() {
        let townships: Vec<(String, String)> =
            reach.iter().map(|r| (r.region_code.clone(), r.region_name.clone())).collect();
        out.push(Notification {
            event: event(),
            dedup_key: format!("milestone:{}:{}:{}:{date}:county", m.id, kind.code(), top.region_code),
            recipients: Recipients::Role { role: Role::County, region_code: campaign.region_code.clone() },
            params: base(&top.region_code, &top.name, top.share_permille, &townships),
            urgent,
        });
    }
    out
}

struct Supervisor {
    user_id: String,
    /// (region code, prefix) of each supervisor grant.
    regions: Vec<(String, String)>,
}

async fn supervisors(conn: &impl ConnectionTrait) -> Result<Vec<Supervisor>, DbErr> {
    #[derive(FromQueryResult)]
    struct SupervisorGrant {
        user_id: String,
        region_code: String,
        /// None when the region is not in the table.
        level: Option<String>,
    }
    let rows = SupervisorGrant::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT g.user_id, g.region_code, r.level FROM role_grant g JOIN app_user u ON u.id = g.user_id \
         LEFT JOIN region r ON r.code = g.region_code WHERE g.role = ? AND u.active = ? ORDER BY g.user_id, g.region_code",
        vec![Role::Supervisor.as_str().into(), true.into()],
    ))
    .all(conn)
    .await?;
    let mut by_user: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for SupervisorGrant { user_id, region_code: code, level } in rows {
        let len = level.as_deref().map_or(code.len(), crate::auth::roles::prefix_len).min(code.len());
        let prefix = code[..len].to_owned();
        by_user.entry(user_id).or_default().push((code, prefix));
    }
    Ok(by_user.into_iter().map(|(user_id, regions)| Supervisor { user_id, regions }).collect())
}

/// The daily digest to every active supervisor, plus the step-waiting and task notices
/// of the day.
pub async fn plan_digest(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    step_waiting_days: i64,
) -> Result<Vec<Notification>, DbErr> {
    let today = crate::plans::china_date(now);
    let campaigns = campaign::active(conn).await?;
    // Progress of each milestone that is due soon or late, computed once for everyone.
    let mut lines: HashMap<String, Vec<RegionProgress>> = HashMap::new();
    let mut cache = CountsCache::default();
    for c in &campaigns {
        for m in &c.milestones {
            let days_left = (m.due_on - today).num_days();
            if (-OVERDUE_FOR_DAYS..=DIGEST_DAYS_AHEAD).contains(&days_left) {
                lines.insert(m.id.clone(), progress::compute(conn, c, m, today, &mut cache).await?);
            }
        }
    }
    let mut out = Vec::new();
    for sup in supervisors(conn).await? {
        let params = digest_for(conn, &sup, &campaigns, &lines, now, today, step_waiting_days).await?;
        out.push(Notification {
            event: Event::DailyDigest,
            dedup_key: format!("digest:{}:{}", sup.user_id, format_date(today)),
            recipients: Recipients::Users(vec![sup.user_id.clone()]),
            params,
            urgent: false,
        });
    }
    out.extend(step_waiting(conn, now, step_waiting_days).await?);
    out.extend(tasks_due(conn, today).await?);
    Ok(out)
}

fn covers(prefixes: &[(String, String)], code: &str) -> bool {
    prefixes.iter().any(|(_, p)| code.starts_with(p.as_str()))
}

/// The line a supervisor reads for a campaign: the campaign's whole region when it
/// lies within theirs, else their own region's line inside it.
fn line_for<'a>(sup: &Supervisor, c: &Campaign, lines: &'a [RegionProgress]) -> Option<&'a RegionProgress> {
    if covers(&sup.regions, &c.region_code) {
        return lines.first();
    }
    lines.iter().find(|l| sup.regions.iter().any(|(code, _)| *code == l.region_code))
}

async fn digest_for(
    conn: &impl ConnectionTrait,
    sup: &Supervisor,
    campaigns: &[Campaign],
    lines: &HashMap<String, Vec<RegionProgress>>,
    now: DateTime<Utc>,
    today: NaiveDate,
    step_waiting_days: i64,
) -> Result<Map<String, Json>, DbErr> {
    let mut due = Vec::new();
    let mut late = Vec::new();
    for c in campaigns {
        for m in &c.milestones {
            let Some(ls) = lines.get(&m.id) else { continue };
            let Some(line) = line_for(sup, c, ls) else { continue };
            let days_left = (m.due_on - today).num_days();
            let lagging: Vec<&RegionProgress> = ls
                .iter()
                .filter(|l| l.level == "village" && l.total > 0 && !l.reached && covers(&sup.regions, &l.region_code))
                .collect();
            let item = json!({
                "campaign": c.name, "milestone": m.name, "due_on": format_date(m.due_on),
                "region_name": line.name, "share_percent": percent(line.share_permille),
                "target_percent": m.target_percent,
                "lagging_count": lagging.len(),
                "lagging_regions": lagging.iter().take(DIGEST_LIST).map(|l| l.name.as_str()).collect::<Vec<_>>().join("、"),
            });
            if days_left >= 0 {
                let mut item = item;
                item["days_left"] = json!(days_left);
                due.push(item);
            } else if !line.reached {
                let mut item = item;
                item["days_late"] = json!(-days_left);
                late.push(item);
            }
        }
    }

    let (cond, values) = prefix_condition(&sup.regions, "region_code");
    let backend = conn.get_database_backend();
    let mut obj_values = values.clone();
    obj_values.push((DIGEST_LIST as i64).into());
    #[derive(FromQueryResult)]
    struct OpenObjection {
        id: String,
        region_code: String,
        created_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        notice_id: String,
    }
    let rows = OpenObjection::find_by_statement(sql(
        backend,
        &format!(
            "SELECT id, region_code, created_at, due_at, notice_id FROM objection WHERE status = 'open' AND {cond} \
             ORDER BY created_at, id LIMIT ?"
        ),
        obj_values,
    ))
    .all(conn)
    .await?;
    let objections: Vec<Json> = rows
        .into_iter()
        .map(|o| {
            json!({
                // Ids, not receipts: a receipt opens the objector's status page to whoever
                // holds it, and a digest travels by e-mail.
                "id": o.id,
                "notice_id": o.notice_id,
                "region_code": o.region_code,
                "age_days": (now - o.created_at).num_days(),
                "overdue": o.due_at < now,
            })
        })
        .collect();
    let open_objections = crate::db::count(
        conn,
        &format!("SELECT COUNT(*) FROM objection WHERE status = 'open' AND {cond}"),
        values.clone(),
    )
    .await?;
    let (hcond, hvalues) = prefix_condition(&sup.regions, "h.region_code");
    let mut wait_values = hvalues.clone();
    wait_values.push((now - chrono::Duration::days(step_waiting_days)).into());
    let cases_waiting = crate::db::count(
        conn,
        &format!(
            "SELECT COUNT(*) FROM procedure_case c JOIN household h ON h.id = c.household_id \
             WHERE {hcond} AND c.status = 'open' AND c.updated_at < ?"
        ),
        wait_values,
    )
    .await?;
    let overdue_tasks = crate::plans::overdue_tasks(conn, (hcond, hvalues), today).await?.len();
    let summary = digest_summary(&due, &late, open_objections, cases_waiting, overdue_tasks);
    Ok(params(vec![
        ("date", json!(format_date(today))),
        ("objection_count", json!(open_objections)),
        ("summary", json!(summary)),
        ("due_count", json!(due.len())),
        ("due", json!(due)),
        ("late_count", json!(late.len())),
        ("late", json!(late)),
        ("open_objections", json!(open_objections)),
        ("oldest_objection_days", json!(objections.first().map(|o| o["age_days"].clone()))),
        ("objections", json!(objections)),
        ("cases_waiting", json!(cases_waiting)),
        ("step_waiting_days", json!(step_waiting_days)),
        ("overdue_tasks", json!(overdue_tasks)),
    ]))
}

/// The digest in one Chinese paragraph (what the e-mail shows after the counts).
fn digest_summary(due: &[Json], late: &[Json], objections: i64, cases_waiting: i64, tasks: usize) -> String {
    let mut parts = Vec::new();
    for d in due {
        parts.push(format!(
            "“{}”{}天后到期（{}进度{}%）",
            d["milestone"].as_str().unwrap_or_default(),
            d["days_left"],
            d["region_name"].as_str().unwrap_or_default(),
            d["share_percent"]
        ));
    }
    for l in late {
        let lagging = l["lagging_regions"].as_str().unwrap_or_default();
        parts.push(format!(
            "“{}”已逾期{}天（{}进度{}%{}）",
            l["milestone"].as_str().unwrap_or_default(),
            l["days_late"],
            l["region_name"].as_str().unwrap_or_default(),
            l["share_percent"],
            if lagging.is_empty() { String::new() } else { format!("，滞后：{lagging}") }
        ));
    }
    if objections > 0 {
        parts.push(format!("未办结异议{objections}件"));
    }
    if cases_waiting > 0 {
        parts.push(format!("久候未办事项{cases_waiting}件"));
    }
    if tasks > 0 {
        parts.push(format!("逾期帮扶任务{tasks}项"));
    }
    parts.join("；")
}

fn prefix_condition(regions: &[(String, String)], column: &str) -> (String, Vec<Value>) {
    if regions.is_empty() {
        return ("1 = 0".into(), Vec::new());
    }
    let parts: Vec<String> = regions.iter().map(|_| format!("{column} LIKE ?")).collect();
    let values = regions.iter().map(|(_, p)| Value::from(format!("{p}%"))).collect();
    (format!("({})", parts.join(" OR ")), values)
}

/// Cases open at one step for longer than `days`: to the team that signs that step,
/// once per case, step and version.
async fn step_waiting(conn: &impl ConnectionTrait, now: DateTime<Utc>, days: i64) -> Result<Vec<Notification>, DbErr> {
    #[derive(FromQueryResult)]
    struct WaitingCase {
        id: String,
        kind: String,
        step: String,
        version: i64,
        region_code: String,
        household_id: String,
        /// The head's name; None when the household has no head member.
        head_name: Option<String>,
    }
    let rows = WaitingCase::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT c.id, c.kind, c.step, c.version, h.region_code, c.household_id, \
         (SELECT MIN(m.name) FROM member m WHERE m.household_id = h.id AND m.relation = 'head') AS head_name \
         FROM procedure_case c JOIN household h ON h.id = c.household_id WHERE c.status = 'open' AND c.updated_at < ? \
         ORDER BY c.updated_at, c.id LIMIT ?",
        vec![(now - chrono::Duration::days(days)).into(), BATCH.into()],
    ))
    .all(conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let WaitingCase { id, kind, step, version, region_code: region, household_id: household, head_name } = row;
        let household_name = head_name.unwrap_or_else(|| household.clone());
        let Some(role) = Step::parse(&step).and_then(|s| s.roles().iter().copied().find(|r| *r != Role::Officer))
        else {
            continue;
        };
        out.push(Notification {
            event: Event::StepWaiting,
            dedup_key: format!("case:{id}:waiting:{step}:{version}"),
            recipients: Recipients::Role { role, region_code: region.clone() },
            params: params(vec![
                ("case_id", json!(id)),
                ("kind", json!(kind)),
                ("step", json!(step)),
                ("household_id", json!(household)),
                ("region_code", json!(region)),
                ("days", json!(days)),
                ("household", json!(household_name)),
            ]),
            urgent: false,
        });
    }
    Ok(out)
}

/// Help-plan tasks due within three days (`TaskDue`) or past their day by at most
/// [`TASK_OVERDUE_FOR_DAYS`] (`TaskOverdue`), to the officer the task names; each once.
async fn tasks_due(conn: &impl ConnectionTrait, today: NaiveDate) -> Result<Vec<Notification>, DbErr> {
    #[derive(FromQueryResult)]
    struct TaskDue {
        id: String,
        title: String,
        due_date: String,
        officer_id: String,
        household_id: String,
        region_code: String,
        head_name: Option<String>,
    }
    let rows = TaskDue::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT t.id, t.title, t.due_date, t.officer_id, t.household_id, h.region_code, \
         (SELECT MIN(m.name) FROM member m WHERE m.household_id = h.id AND m.relation = 'head') AS head_name \
         FROM plan_task t JOIN household h ON h.id = t.household_id \
         WHERE t.officer_id IS NOT NULL AND (t.done IS NULL OR t.done = ?) AND t.done_on IS NULL AND t.due_date >= ? \
         AND t.due_date <= ? ORDER BY t.due_date, t.id LIMIT ?",
        vec![
            false.into(),
            format_date(today - chrono::Duration::days(TASK_OVERDUE_FOR_DAYS)).into(),
            format_date(today + chrono::Duration::days(3)).into(),
            BATCH.into(),
        ],
    ))
    .all(conn)
    .await?;
    let mut out = Vec::new();
    for TaskDue { id, title, due_date: due, officer_id: officer, household_id, region_code, head_name } in rows {
        let Some(due_date) = parse_date(&due) else { continue };
        let days_left = (due_date - today).num_days();
        let (event, word) = if days_left < 0 { (Event::TaskOverdue, "overdue") } else { (Event::TaskDue, "due") };
        out.push(Notification {
            event,
            dedup_key: format!("task:{id}:{word}:{due}"),
            recipients: Recipients::Users(vec![officer]),
            params: params(vec![
                ("task_id", json!(id)),
                ("title", json!(title)),
                ("due_date", json!(due)),
                ("days_left", json!(days_left.max(0))),
                ("days_late", json!((-days_left).max(0))),
                ("household_id", json!(household_id)),
                ("region_code", json!(region_code)),
                ("task", json!(title)),
                ("due", json!(due)),
                ("household", json!(head_name.unwrap_or_default())),
            ]),
            urgent: false,
        });
    }
    Ok(out)
}

/// One milestone's freshly computed progress, to store.
pub struct MilestoneLines {
    pub campaign_id: String,
    pub milestone_id: String,
    pub lines: Vec<RegionProgress>,
}

/// Recomputes the progress of every active campaign's milestones that are in their
/// reminder window.
pub async fn plan_progress(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<MilestoneLines>, DbErr> {
    let today = crate::plans::china_date(now);
    let mut out = Vec::new();
    let mut cache = CountsCache::default();
    for campaign in campaign::active(conn).await? {
        for m in campaign.milestones.iter().filter(|m| reminders::in_window(m, today)) {
            let lines = progress::compute(conn, &campaign, m, today, &mut cache).await?;
            out.push(MilestoneLines { campaign_id: campaign.id.clone(), milestone_id: m.id.clone(), lines });
        }
    }
    Ok(out)
}

/// A milestone's stored progress over one region.
#[derive(FromQueryResult)]
struct StoredProgress {
    region_code: String,
    id: String,
    done: i64,
    total: i64,
    share_permille: i32,
    expected_permille: i32,
    lagging: bool,
    version: i64,
}

/// Stores what changed in the caller's transaction, with change-log rows so
/// supervisors' phones pull it. Returns the rows written.
pub async fn store_progress(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    computed: &[MilestoneLines],
) -> Result<usize, DbErr> {
    let backend = conn.get_database_backend();
    let mut log = Vec::new();
    for MilestoneLines { campaign_id, milestone_id, lines } in computed {
        {
            let rows = StoredProgress::find_by_statement(sql(
                backend,
                "SELECT region_code, id, done, total, share_permille, expected_permille, lagging, version \
                 FROM campaign_progress WHERE milestone_id = ?",
                vec![milestone_id.as_str().into()],
            ))
            .all(conn)
            .await?;
            let mut stored: HashMap<String, (String, [i64; 4], bool, i64)> = HashMap::new();
            for row in rows {
                let numbers = [row.done, row.total, i64::from(row.share_permille), i64::from(row.expected_permille)];
                stored.insert(row.region_code, (row.id, numbers, row.lagging, row.version));
            }
            for l in lines {
                let numbers = [l.done, l.total, i64::from(l.share_permille), i64::from(l.expected_permille)];
                let (id, version) = match stored.get(&l.region_code) {
                    Some((_, n, lagging, _)) if *n == numbers && *lagging == l.lagging => continue,
                    Some((id, _, _, version)) => {
                        conn.execute_raw(sql(
                            backend,
                            "UPDATE campaign_progress SET done = ?, total = ?, share_permille = ?, expected_permille = ?, \
                             lagging = ?, computed_at = ?, version = ? WHERE id = ?",
                            vec![
                                l.done.into(),
                                l.total.into(),
                                l.share_permille.into(),
                                l.expected_permille.into(),
                                l.lagging.into(),
                                now.into(),
                                (version + 1).into(),
                                id.as_str().into(),
                            ],
                        ))
                        .await?;
                        (id.clone(), version + 1)
                    }
                    None => {
                        let id = Uuid::new_v4().to_string();
                        conn.execute_raw(sql(
                            backend,
                            "INSERT INTO campaign_progress (id, campaign_id, milestone_id, region_code, level, done, total, \
                             share_permille, expected_permille, lagging, computed_at, version) \
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                            vec![
                                id.as_str().into(),
                                campaign_id.as_str().into(),
                                milestone_id.as_str().into(),
                                l.region_code.as_str().into(),
                                l.level.as_str().into(),
                                l.done.into(),
                                l.total.into(),
                                l.share_permille.into(),
                                l.expected_permille.into(),
                                l.lagging.into(),
                                now.into(),
                            ],
                        ))
                        .await?;
                        (id, 1)
                    }
                };
                log.push(LogEntry {
                    entity: side::CAMPAIGN_PROGRESS,
                    entity_id: id,
                    household_id: None,
                    region_code: Some(l.region_code.clone()),
                    target_user: None,
                    op: LogOp::Upsert,
                    version,
                });
            }
        }
    }
    if !log.is_empty() {
        let tx = changelog::current_tx(conn).await?;
        changelog::append(conn, tx, &log).await?;
    }
    Ok(log.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::progress::{RegionInfo, line};

    fn region(code: &str, name: &str, level: &str, parent: &str) -> RegionInfo {
        RegionInfo { code: code.into(), name: name.into(), level: level.into(), parent_code: Some(parent.into()) }
    }

    fn setting() -> (Campaign, Milestone, Vec<RegionProgress>) {
        let m = Milestone {
            id: "m1".into(),
            campaign_id: "c1".into(),
            position: 1,
            name: "动态调整和信息采集".into(),
            starts_on: crate::campaigns::parse_date("2026-10-10"),
            due_on: crate::campaigns::parse_date("2026-11-10").expect("date"),
            measure: "households_visited".into(),
            target_percent: 100,
            remind_days_before: vec![3, 1],
        };
        let campaign = Campaign {
            id: "c1".into(),
            name: "2026年度扶贫对象动态管理".into(),
            region_code: "320703000000".into(),
            year: 2026,
            status: "active".into(),
            created_by: None,
            milestones: vec![m.clone()],
        };
        let lines = vec![
            line(&region("320703000000", "测试县", "county", "320700000000"), 3, 4, 1000, 1000),
            line(&region("320703001000", "一号镇", "township", "320703000000"), 3, 4, 1000, 1000),
            line(&region("320703001001", "东村", "village", "320703001000"), 2, 2, 1000, 1000),
            line(&region("320703001002", "西村", "village", "320703001000"), 1, 2, 1000, 1000),
        ];
        (campaign, m, lines)
    }

    fn role_of(n: &Notification) -> (Role, &str) {
        match &n.recipients {
            Recipients::Role { role, region_code } => (*role, region_code.as_str()),
            Recipients::Users(_) => panic!("reminders go to roles"),
        }
    }

    #[test]
    fn overdue_goes_to_the_supervisor_one_level_up_the_team_and_the_county_with_day_keys() {
        let (campaign, m, lines) = setting();
        let today = crate::campaigns::parse_date("2026-11-11").expect("date");
        let out = milestone_notifications(&campaign, &m, ReminderKind::Overdue { days_late: 1 }, &lines, today);
        let keys: Vec<&str> = out.iter().map(|n| n.dedup_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "milestone:m1:overdue:320703001000:2026-11-11:supervisor",
                "milestone:m1:overdue:320703001000:2026-11-11:team",
                "milestone:m1:overdue:320703000000:2026-11-11:county",
            ]
        );
        assert_eq!(role_of(&out[0]), (Role::Supervisor, "320703000000"));
        assert_eq!(role_of(&out[1]), (Role::Township, "320703001000"));
        assert_eq!(role_of(&out[2]), (Role::County, "320703000000"));
        assert!(out.iter().all(|n| n.urgent && n.event == Event::MilestoneOverdue));
        assert_eq!(out[0].params["lagging"], "西村");
        assert_eq!(out[0].params["progress"], "75%");
        assert_eq!(out[2].params["lagging"], "一号镇", "the county hears which townships are behind");
    }

    #[test]
    fn nothing_is_sent_when_every_village_has_reached_the_target() {
        let (campaign, m, mut lines) = setting();
        lines.retain(|l| l.region_code != "320703001002");
        let today = crate::campaigns::parse_date("2026-11-07").expect("date");
        let out = milestone_notifications(&campaign, &m, ReminderKind::Approaching { days_left: 3 }, &lines, today);
        assert!(out.is_empty());
    }
}
