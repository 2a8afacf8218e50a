//! A milestone's progress computed from the data, per village, summed per township and
//! over the campaign's region; and the share expected by a given day, below which a
//! region is lagging.
//!
//! What this module must never do: write, or decide who reads a line (the caller's
//! regions come from `super::access`).

use super::campaign::{Campaign, Milestone};
use super::format_date;
use super::measure::{MISSING_ITEMS, Measure, step_rank};
use crate::db::sql;
use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Households that count for household measures: not removed, not rejected.
const LIVE_HOUSEHOLD: &str = "h.status NOT IN ('removed', 'rejected')";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegionProgress {
    pub region_code: String,
    pub name: String,
    /// `village`, `township`, or the level of the campaign's own region.
    pub level: String,
    pub parent_code: Option<String>,
    pub done: i64,
    pub total: i64,
    /// done ÷ total in per mille (1000 when there is nothing to do).
    pub share_permille: i32,
    /// What the schedule expects by today, per mille.
    pub expected_permille: i32,
    /// Below what is expected by today.
    pub lagging: bool,
    /// At or above the milestone's target.
    pub reached: bool,
}

// One milestone's progress over the regions a reader reads. (No doc comments on these
// two: the API document would show them as descriptions the schemas never had.)
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MilestoneProgress {
    pub milestone: Milestone,
    /// The campaign's region first, then each township followed by its villages (those
    /// the caller reads).
    pub regions: Vec<RegionProgress>,
}

// A campaign's progress on one day, as a reader sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgressView {
    pub campaign_id: String,
    pub campaign: String,
    #[schema(value_type = String, format = Date)]
    pub on: NaiveDate,
    pub milestones: Vec<MilestoneProgress>,
}

/// The progress of the campaign's milestones (or of one, by id) held against `on`,
/// keeping the lines of regions under `prefixes`. None: no such milestone.
pub async fn view(
    conn: &impl ConnectionTrait,
    campaign: &Campaign,
    milestone_id: Option<&str>,
    on: NaiveDate,
    prefixes: &[&str],
) -> Result<Option<ProgressView>, DbErr> {
    let mut milestones = Vec::new();
    let mut cache = CountsCache::default();
    for m in &campaign.milestones {
        if milestone_id.is_some_and(|wanted| wanted != m.id) {
            continue;
        }
        let regions = compute(conn, campaign, m, on, &mut cache)
            .await?
            .into_iter()
            .filter(|l| prefixes.iter().any(|p| l.region_code.starts_with(p)))
            .collect();
        milestones.push(MilestoneProgress { milestone: m.clone(), regions });
    }
    if milestone_id.is_some() && milestones.is_empty() {
        return Ok(None);
    }
    Ok(Some(ProgressView { campaign_id: campaign.id.clone(), campaign: campaign.name.clone(), on, milestones }))
}

/// The share the schedule expects on `today`: nothing before the window opens, then a
/// straight line up to the target on the due day, the target after it. A milestone
/// without a start date expects nothing until its due day.
pub fn expected_permille(m: &Milestone, today: NaiveDate) -> i32 {
    let target = m.target_percent * 10;
    if today >= m.due_on {
        return target;
    }
    let Some(start) = m.starts_on else { return 0 };
    if today <= start {
        return 0;
    }
    let span = (m.due_on - start).num_days().max(1);
    let elapsed = (today - start).num_days();
    (i64::from(target) * elapsed / span) as i32
}

pub fn share_permille(done: i64, total: i64) -> i32 {
    if total <= 0 { 1000 } else { (done.clamp(0, total) * 1000 / total) as i32 }
}

/// A region's line from its counts.
pub fn line(
    region: &RegionInfo,
    done: i64,
    total: i64,
    expected_permille: i32,
    target_permille: i32,
) -> RegionProgress {
    let share = share_permille(done, total);
    RegionProgress {
        region_code: region.code.clone(),
        name: region.name.clone(),
        level: region.level.clone(),
        parent_code: region.parent_code.clone(),
        done,
        total,
        share_permille: share,
        expected_permille,
        lagging: total > 0 && share < expected_permille,
        reached: share >= target_permille,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct RegionInfo {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

/// The campaign's region and the townships and villages below it, top first.
pub async fn regions_of(conn: &impl ConnectionTrait, region_code: &str) -> Result<Vec<RegionInfo>, DbErr> {
    let backend = conn.get_database_backend();
    let Some(top) = region(conn, region_code).await? else { return Ok(Vec::new()) };
    let prefix = &top.code[..crate::auth::roles::prefix_len(&top.level).min(top.code.len())];
    let below = RegionInfo::find_by_statement(sql(
        backend,
        "SELECT code, name, level, parent_code FROM region WHERE code LIKE ? AND code <> ? \
         AND level IN ('township', 'village') ORDER BY code",
        vec![format!("{prefix}%").into(), top.code.as_str().into()],
    ))
    .all(conn)
    .await?;
    let mut out = vec![top];
    out.extend(below);
    Ok(out)
}

pub async fn region(conn: &impl ConnectionTrait, code: &str) -> Result<Option<RegionInfo>, DbErr> {
    RegionInfo::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT code, name, level, parent_code FROM region WHERE code = ?",
        vec![code.into()],
    ))
    .one(conn)
    .await
}

/// (done, total) per household region code under `prefix`.
async fn counts(
    conn: &impl ConnectionTrait,
    campaign: &Campaign,
    m: &Milestone,
    measure: &Measure,
    prefix: &str,
) -> Result<HashMap<String, (i64, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    let like: Value = format!("{prefix}%").into();
    let mut out: HashMap<String, (i64, i64)> = HashMap::new();
    /// One household region's counts: `total` households, `done` of them (NULL: none).
    #[derive(FromQueryResult)]
    struct Grouped {
        region_code: String,
        total: i64,
        done: Option<i64>,
    }
    let grouped = |text: String, values: Vec<Value>| async move {
        let rows = Grouped::find_by_statement(sql(backend, &text, values)).all(conn).await?;
        Ok::<_, DbErr>(rows.into_iter().map(|r| (r.region_code, (r.done.unwrap_or(0), r.total))).collect())
    };
    match measure {
        Measure::HouseholdsVisited => {
            let from = m.starts_on.unwrap_or_else(|| year_start(campaign.year));
            out = grouped(
                format!(
                    "SELECT h.region_code, COUNT(*) AS total, SUM(CASE WHEN EXISTS (SELECT 1 FROM visit_log v \
                     WHERE v.household_id = h.id AND v.visited_on >= ? AND v.visited_on <= ?) THEN 1 ELSE 0 END) \
                     AS done FROM household h WHERE h.region_code LIKE ? AND {LIVE_HOUSEHOLD} GROUP BY h.region_code"
                ),
                vec![format_date(from).into(), format_date(m.due_on).into(), like],
            )
            .await?;
        }
        Measure::HelpPlansEntered => {
            out = grouped(
                "SELECT h.region_code, COUNT(*) AS total, SUM(CASE WHEN EXISTS (SELECT 1 FROM help_plan p \
                 WHERE p.household_id = h.id AND p.year = ?) THEN 1 ELSE 0 END) AS done \
                 FROM household h WHERE h.region_code LIKE ? AND h.status IN ('registered', 'pre_exit') \
                 GROUP BY h.region_code"
                    .to_owned(),
                vec![i64::from(campaign.year).into(), like],
            )
            .await?;
        }
        Measure::CasesPastStep(step) => {
            #[derive(FromQueryResult)]
            struct CaseAt {
                region_code: String,
                status: String,
                step: String,
            }
            let rows = CaseAt::find_by_statement(sql(
                backend,
                "SELECT h.region_code, c.status, c.step FROM procedure_case c JOIN household h ON h.id = c.household_id \
                 WHERE h.region_code LIKE ? AND c.status <> 'rejected' AND c.created_at >= ?",
                vec![like, cases_since(campaign.year).into()],
            ))
            .all(conn)
            .await?;
            let target = step_rank(step.code()).unwrap_or(0);
            for row in rows {
                let past = row.status == "completed" || step_rank(&row.step).is_some_and(|r| r > target);
                let entry = out.entry(row.region_code).or_default();
                entry.1 += 1;
                if past {
                    entry.0 += 1;
                }
            }
        }
        Measure::CasesCompleted => {
            out = grouped(
                "SELECT h.region_code, COUNT(*) AS total, SUM(CASE WHEN c.status <> 'open' THEN 1 ELSE 0 END) AS done \
                 FROM procedure_case c JOIN household h ON h.id = c.household_id \
                 WHERE h.region_code LIKE ? AND c.created_at >= ? GROUP BY h.region_code"
                    .to_owned(),
                vec![like, cases_since(campaign.year).into()],
            )
            .await?;
        }
        Measure::HouseholdsCollected => {
            // Visited at any time this campaign year, not only inside this milestone's
            // window: the summary and the entry come after the collection window closed.
            out = grouped(
                format!(
                    "SELECT h.region_code, COUNT(*) AS total, SUM(CASE WHEN EXISTS (SELECT 1 FROM visit_log v \
                     WHERE v.household_id = h.id AND v.visited_on >= ? AND v.visited_on <= ?) \
                     AND NOT EXISTS (SELECT 1 FROM procedure_case c WHERE c.household_id = h.id AND c.status = 'open') \
                     THEN 1 ELSE 0 END) AS done FROM household h WHERE h.region_code LIKE ? AND {LIVE_HOUSEHOLD} \
                     GROUP BY h.region_code"
                ),
                vec![format_date(year_start(campaign.year)).into(), format_date(m.due_on).into(), like],
            )
            .await?;
        }
        Measure::QualityProblemsLeft => {
            out = households_without(conn, like, |_| true).await?;
        }
        Measure::HouseholdsComplete => {
            out = households_without(conn, like, |code| MISSING_ITEMS.contains(&code)).await?;
        }
    }
    Ok(out)
}

/// (done, total) per household region code under `like`: live households, done when
/// none of their R8 problems is one `counts` (every problem, or only the omissions).
async fn households_without(
    conn: &impl ConnectionTrait,
    like: Value,
    counts: impl Fn(&str) -> bool,
) -> Result<HashMap<String, (i64, i64)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Live {
        region_code: String,
        total: i64,
    }
    let totals = Live::find_by_statement(sql(
        conn.get_database_backend(),
        &format!(
            "SELECT h.region_code, COUNT(*) AS total FROM household h WHERE h.region_code LIKE ? AND {LIVE_HOUSEHOLD} \
             GROUP BY h.region_code"
        ),
        vec![like.clone()],
    ))
    .all(conn)
    .await?;
    let problems =
        crate::assess::quality_problems(conn, (format!("h.region_code LIKE ? AND {LIVE_HOUSEHOLD}"), vec![like]))
            .await?;
    let mut with_problems: HashMap<String, i64> = HashMap::new();
    for p in problems {
        let counted = p["problems"]
            .as_array()
            .is_some_and(|list| list.iter().any(|problem| problem["code"].as_str().is_some_and(&counts)));
        if let (true, Some(code)) = (counted, p["region_code"].as_str()) {
            *with_problems.entry(code.to_owned()).or_default() += 1;
        }
    }
    Ok(totals
        .into_iter()
        .map(|Live { region_code, total }| {
            let bad = with_problems.get(&region_code).copied().unwrap_or(0);
            (region_code, (total - bad, total))
        })
        .collect())
}

/// This campaign year's cases are those opened since 1 January, Beijing time.
fn cases_since(year: i32) -> chrono::DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .and_then(|tz| tz.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default()
}

/// Counts already read in one job run, by what they depend on: two milestones with
/// the same measure (the 004 timeline looks at data quality three times) read the data once.
#[derive(Default)]
pub struct CountsCache(HashMap<String, HashMap<String, (i64, i64)>>);

fn cache_key(campaign: &Campaign, m: &Milestone, measure: &Measure, prefix: &str) -> String {
    match measure {
        // Neither window nor year matters to these.
        Measure::QualityProblemsLeft | Measure::HouseholdsComplete => format!("{}|{prefix}", measure.code()),
        Measure::HelpPlansEntered | Measure::CasesPastStep(_) | Measure::CasesCompleted => {
            format!("{}|{prefix}|{}", measure.code(), campaign.year)
        }
        Measure::HouseholdsCollected => {
            format!("{}|{prefix}|{}|{}", measure.code(), campaign.year, format_date(m.due_on))
        }
        Measure::HouseholdsVisited => format!(
            "{}|{prefix}|{}|{}|{}",
            measure.code(),
            campaign.year,
            m.starts_on.map(format_date).unwrap_or_default(),
            format_date(m.due_on)
        ),
    }
}

/// Progress of one milestone on `today`: the campaign's region first, then each
/// township followed by its villages, in code order.
pub async fn compute(
    conn: &impl ConnectionTrait,
    campaign: &Campaign,
    m: &Milestone,
    today: NaiveDate,
    cache: &mut CountsCache,
) -> Result<Vec<RegionProgress>, DbErr> {
    let Some(measure) = Measure::parse(&m.measure) else { return Ok(Vec::new()) };
    let regions = regions_of(conn, &campaign.region_code).await?;
    let Some(top) = regions.first() else { return Ok(Vec::new()) };
    let prefix = top.code[..crate::auth::roles::prefix_len(&top.level).min(top.code.len())].to_owned();
    let key = cache_key(campaign, m, &measure, &prefix);
    if !cache.0.contains_key(&key) {
        let read = counts(conn, campaign, m, &measure, &prefix).await?;
        cache.0.insert(key.clone(), read);
    }
    let counts = cache.0.get(&key).cloned().unwrap_or_default();
    Ok(aggregate(&regions, &counts, expected_permille(m, today), m.target_percent * 10))
}

/// Sums household counts (keyed by the household's region code) into the campaign's
/// region, its townships and its villages. Pure, for tests.
pub fn aggregate(
    regions: &[RegionInfo],
    counts: &HashMap<String, (i64, i64)>,
    expected: i32,
    target: i32,
) -> Vec<RegionProgress> {
    let sum = |prefix: &str| {
        counts
            .iter()
            .filter(|(code, _)| code.starts_with(prefix))
            .fold((0, 0), |(d, t), (_, (done, total))| (d + done, t + total))
    };
    let prefix_of = |r: &RegionInfo| r.code[..crate::auth::roles::prefix_len(&r.level).min(r.code.len())].to_owned();
    let mut out = Vec::with_capacity(regions.len());
    // Townships in order, each followed by its villages.
    let mut villages_by_parent: BTreeMap<Option<String>, Vec<&RegionInfo>> = BTreeMap::new();
    for r in regions.iter().skip(1).filter(|r| r.level == "village") {
        villages_by_parent.entry(r.parent_code.clone()).or_default().push(r);
    }
    if let Some(top) = regions.first() {
        let (done, total) = sum(&prefix_of(top));
        out.push(line(top, done, total, expected, target));
        if top.level == "township" {
            for v in villages_by_parent.get(&Some(top.code.clone())).into_iter().flatten() {
                let (done, total) = sum(&prefix_of(v));
                out.push(line(v, done, total, expected, target));
            }
        }
    }
    for t in regions.iter().skip(1).filter(|r| r.level == "township") {
        let (done, total) = sum(&prefix_of(t));
        out.push(line(t, done, total, expected, target));
        for v in villages_by_parent.get(&Some(t.code.clone())).into_iter().flatten() {
            let (done, total) = sum(&prefix_of(v));
            out.push(line(v, done, total, expected, target));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milestone(starts: Option<&str>, due: &str, target: i32) -> Milestone {
        Milestone {
            id: "m".into(),
            campaign_id: "c".into(),
            position: 1,
            name: "采集".into(),
            starts_on: starts.and_then(crate::campaigns::parse_date),
            due_on: crate::campaigns::parse_date(due).expect("date"),
            measure: "households_visited".into(),
            target_percent: target,
            remind_days_before: vec![3, 1],
        }
    }

    fn date(s: &str) -> NaiveDate {
        crate::campaigns::parse_date(s).expect("date")
    }

    #[test]
    fn expectations_rise_in_a_straight_line_to_the_target() {
        let m = milestone(Some("2026-10-10"), "2026-11-09", 100);
        assert_eq!(expected_permille(&m, date("2026-10-01")), 0);
        assert_eq!(expected_permille(&m, date("2026-10-10")), 0);
        assert_eq!(expected_permille(&m, date("2026-10-25")), 500);
        assert_eq!(expected_permille(&m, date("2026-11-09")), 1000);
        assert_eq!(expected_permille(&m, date("2026-12-01")), 1000);
        let undated = milestone(None, "2026-11-28", 80);
        assert_eq!(expected_permille(&undated, date("2026-11-27")), 0);
        assert_eq!(expected_permille(&undated, date("2026-11-28")), 800);
    }

    fn region(code: &str, level: &str, parent: Option<&str>) -> RegionInfo {
        RegionInfo { code: code.into(), name: code.into(), level: level.into(), parent_code: parent.map(Into::into) }
    }

    #[test]
    fn counts_sum_up_the_tree_and_lagging_villages_are_below_the_expected_share() {
        let regions = vec![
            region("320703000000", "county", Some("320700000000")),
            region("320703001000", "township", Some("320703000000")),
            region("320703001001", "village", Some("320703001000")),
            region("320703001002", "village", Some("320703001000")),
            region("320703002000", "township", Some("320703000000")),
            region("320703002001", "village", Some("320703002000")),
        ];
        let counts: HashMap<String, (i64, i64)> =
            [("320703001001".to_owned(), (2, 2)), ("320703001002".to_owned(), (1, 4))].into();
        let lines = aggregate(&regions, &counts, 500, 1000);
        let by: HashMap<&str, &RegionProgress> = lines.iter().map(|l| (l.region_code.as_str(), l)).collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[0].region_code, "320703000000");
        assert_eq!((by["320703000000"].done, by["320703000000"].total), (3, 6));
        assert_eq!(by["320703000000"].share_permille, 500);
        assert!(!by["320703000000"].lagging);
        assert_eq!((by["320703001000"].done, by["320703001000"].total), (3, 6));
        assert!(!by["320703001001"].lagging && by["320703001001"].reached);
        assert!(by["320703001002"].lagging && !by["320703001002"].reached);
        assert_eq!(by["320703001002"].share_permille, 250);
        // Nothing to do is not lagging.
        assert_eq!(by["320703002001"].total, 0);
        assert!(!by["320703002001"].lagging && by["320703002001"].reached);
        // Each township is followed by its villages.
        let order: Vec<&str> = lines.iter().map(|l| l.region_code.as_str()).collect();
        assert_eq!(order[1..4], ["320703001000", "320703001001", "320703001002"]);
    }
}
