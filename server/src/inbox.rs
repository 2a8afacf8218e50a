//! 待办: what is waiting for the caller, counted by region, for the console's home page.
//! Each count comes from the service that owns the thing counted — objections from
//! `notices::objections`, conflicts from `sync::conflicts`, rejected change sets from
//! `sync::receipts`, milestones from `campaigns::access` — and cases from the steps'
//! roles of `procedures::steps`. The inbox decides nothing of its own about who may see
//! or do what: it only counts what those services give this caller.

use crate::auth::session::region_names;
use crate::auth::{Caller, Role};
use crate::campaigns::access;
use crate::db::{Db, sql};
use crate::error::Refusal;
use crate::notices::objections;
use crate::procedures::steps::Step;
use crate::records::scope;
use crate::sync::{conflicts, receipts};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;
use std::collections::BTreeMap;

/// How far ahead a milestone's due date puts it in the inbox.
const MILESTONE_DAYS_AHEAD: i64 = 7;
/// Rejected change sets are counted from one page of the review list.
const REJECTED_COUNTED: u64 = 100;

/// One region's share of an item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionCount {
    pub region_code: String,
    /// Empty when the region is not in the tree.
    pub region_name: String,
    pub count: i64,
}

/// One kind of waiting work.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    /// `cases_to_sign`, `objections_to_answer`, `sync_conflicts`, `rejected_changesets`
    /// or `milestones_due`.
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub count: i64,
    /// By the village of the household (cases, objections' assigned region, conflicts)
    /// or the campaign's region (milestones); empty for rejected change sets, which may
    /// touch several villages.
    pub by_region: Vec<RegionCount>,
    /// Where the console lists them.
    pub link: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
}

#[derive(FromQueryResult)]
struct WaitingRow {
    step: String,
    region_code: String,
    /// 1 when the household is assigned to the caller now (officers sign only those).
    mine: i32,
    n: i64,
}

/// Counts per region, in region order, and those of no one region.
struct Tally {
    by_region: BTreeMap<String, i64>,
    unplaced: i64,
}

impl Tally {
    fn new() -> Tally {
        Tally { by_region: BTreeMap::new(), unplaced: 0 }
    }

    fn add(&mut self, region: &str, n: i64) {
        *self.by_region.entry(region.to_owned()).or_default() += n;
    }

    fn total(&self) -> i64 {
        self.by_region.values().sum::<i64>() + self.unplaced
    }
}

/// The caller's 待办. `now` is the server's clock (milestones are due by Beijing date).
pub async fn of(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Inbox, Refusal> {
    let conn = &db.conn;
    let mut items: Vec<(&str, &str, &str, &str, Tally)> = Vec::new();
    items.push((
        "cases_to_sign",
        "待我审核的申请",
        "Cases waiting for my sign-off",
        "/cases?waiting=mine",
        cases_to_sign(conn, caller).await?,
    ));
    items.push((
        "objections_to_answer",
        "待答复的异议",
        "Objections to answer",
        "/objections?status=open",
        objections_to_answer(db, caller).await?,
    ));
    items.push((
        "sync_conflicts",
        "待处理的同步冲突",
        "Open sync conflicts",
        "/system/conflicts",
        sync_conflicts(conn, caller).await?,
    ));
    if let Some(rejected) = rejected_changesets(db, caller).await? {
        items.push(("rejected_changesets", "被拒绝的同步数据", "Rejected change sets", "/system/rejected", rejected));
    }
    items.push((
        "milestones_due",
        "7天内到期的工作节点",
        "Milestones due within 7 days",
        "/campaigns",
        milestones_due(conn, caller, now).await?,
    ));
    let codes: Vec<String> = items.iter().flat_map(|i| i.4.by_region.keys().cloned()).collect();
    let names = region_names(conn, &codes).await?;
    let items = items
        .into_iter()
        .map(|(kind, zh, en, link, tally)| InboxItem {
            kind: kind.to_owned(),
            title_zh: zh.to_owned(),
            title_en: en.to_owned(),
            count: tally.total(),
            by_region: tally
                .by_region
                .iter()
                .map(|(code, count)| RegionCount {
                    region_code: code.clone(),
                    region_name: names.get(code).cloned().unwrap_or_default(),
                    count: *count,
                })
                .collect(),
            link: link.to_owned(),
        })
        .collect();
    Ok(Inbox { items })
}

/// Open cases whose current step the caller may sign, as `procedures::signing` decides
/// it: a role of the step over the household's region, an officer only for households
/// assigned to them. Notice steps pass by publishing, not by a sign-off.
async fn cases_to_sign(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Tally, DbErr> {
    let (cond, scope_values) = scope::households_condition(caller, "h.id", "h.region_code");
    let mut values = vec![sea_orm::Value::from(caller.user_id.as_str())];
    values.extend(scope_values);
    let rows = WaitingRow::find_by_statement(sql(
        conn.get_database_backend(),
        &format!(
            "SELECT c.step, h.region_code, \
             CASE WHEN EXISTS (SELECT 1 FROM assignment a WHERE a.officer_id = ? AND a.household_id = h.id \
                               AND a.end_date IS NULL) THEN 1 ELSE 0 END AS mine, \
             COUNT(*) AS n \
             FROM procedure_case c JOIN household h ON h.id = c.household_id \
             WHERE {cond} AND c.status = 'open' GROUP BY c.step, h.region_code, mine"
        ),
        values,
    ))
    .all(conn)
    .await?;
    let mut tally = Tally::new();
    for row in rows {
        let Some(step) = Step::parse(&row.step).filter(|s| !s.is_notice()) else { continue };
        let signs = caller.grants.iter().any(|g| {
            step.roles().contains(&g.role)
                && if g.role == Role::Officer { row.mine == 1 } else { row.region_code.starts_with(&g.prefix) }
        });
        if signs {
            tally.add(&row.region_code, row.n);
        }
    }
    Ok(tally)
}

/// Open objections the caller may answer, as `notices::objections` decides it (the
/// county too, for a village notice no active 核查组 covers any more), by the region
/// they were filed with.
async fn objections_to_answer(db: &Db, caller: &Caller) -> Result<Tally, Refusal> {
    let mut tally = Tally::new();
    for objection in objections::open_to_answer(db, caller).await? {
        tally.add(&objection.assigned_region, 1);
    }
    Ok(tally)
}

/// Open conflicts on households the caller reads, by the household's village: the
/// count the office's conflict table shows, under its WHERE.
async fn sync_conflicts(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Tally, DbErr> {
    let mut tally = Tally::new();
    for (region, n) in conflicts::open_by_village(conn, caller).await? {
        tally.add(&region, n);
    }
    Ok(tally)
}

/// Rejected change sets the caller reviews (managers and supervisors), from the first
/// page of the review list; `None` for a caller who reviews none.
async fn rejected_changesets(db: &Db, caller: &Caller) -> Result<Option<Tally>, Refusal> {
    match receipts::rejected(db, caller, None, REJECTED_COUNTED).await {
        Ok(rows) => Ok(Some(Tally { by_region: BTreeMap::new(), unplaced: rows.len() as i64 })),
        Err(refusal) if refusal.kind == crate::error::Kind::Forbidden => Ok(None),
        Err(refusal) => Err(refusal),
    }
}

/// Milestones of the active campaigns the caller reads, due today or within a week.
async fn milestones_due(conn: &impl ConnectionTrait, caller: &Caller, now: DateTime<Utc>) -> Result<Tally, DbErr> {
    let today = crate::clock::china_date(now);
    let until = today + Duration::days(MILESTONE_DAYS_AHEAD);
    let mut tally = Tally::new();
    for campaign in access::visible(conn, caller).await? {
        if campaign.status != "active" {
            continue;
        }
        let due = campaign.milestones.iter().filter(|m| m.due_on >= today && m.due_on <= until).count();
        if due > 0 {
            tally.add(&campaign.region_code, due as i64);
        }
    }
    Ok(tally)
}
