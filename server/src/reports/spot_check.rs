//! 003 §一(二)3 的抽检: "每市抽检率原则上不低于全市退出村总数的10%。于12月20日前上报全市
//! 贫困村退出抽检报告（附抽检村名单和达标情况表）". The villages that exit are those R9
//! lets exit today (incidence below the region's limit, `domain::village`); the least
//! number to check is `spot_check_minimum`; the sample is drawn by a stated seed, so the
//! same seed over the same villages draws the same sample, and anyone can redraw it.
//!
//! Pure: villages in, a laid-out report out. The draw orders the exiting villages by
//! SHA-256 of the seed and the village code and takes the first ones: no state, no
//! clock, the same on every machine and backend.
//!
//! What this must never do: draw fewer than the minimum, draw a village that may not
//! exit, or draw differently for the same seed and villages.

use super::paper::Paper;
use super::sheet::{Cell, Sheet, Style};
use super::{Period, Region, Report};
use crate::domain::policy::RulePolicy;
use crate::domain::village::{VillageFacts, assess_village_exit, spot_check_minimum};
use chrono::Datelike;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const NOTES: &[&str] = &[
    "退出村：已录入乡村人口、按本区划规则贫困发生率低于退出标准（R9，003 §一(一)2）的行政村；贫困发生率 = 在档未脱贫人口 ÷ 乡村人口。未录入乡村人口的村不能判定，单独列出，不计入退出村总数。",
    "抽检数不低于退出村总数的10%（003 §一(二)3，向上取整）。抽取方法：按“随机种子 + 行政区划代码”的SHA-256值从小到大排序，取前若干个村；同一种子、同一批退出村，抽取结果相同，可复核。",
    "“抽检核实情况”由抽检组入户核实后填写；“整村搬迁”条件（不搬迁不退出）系统中尚无记录，须抽检时核实。",
];

/// A village as the spot check reads it.
#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub rural_population: Option<i64>,
    /// People of its households still in the register.
    pub remaining_poor: i64,
    /// The rules of its region (the incidence limit).
    pub policy: RulePolicy,
}

/// The seed used when none is asked for: the period's last day as `YYYYMMDD`, so a
/// report redrawn for the same period draws the same villages.
pub fn default_seed(_unit: &Region, period: &Period) -> u64 {
    let to = period.to;
    u64::try_from(to.year()).unwrap_or(0) * 10_000 + u64::from(to.month()) * 100 + u64::from(to.day())
}

fn rank(seed: u64, code: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(seed.to_be_bytes());
    hash.update(code.as_bytes());
    hash.finalize().into()
}

/// The sample: at least `spot_check_minimum` of `exiting`, by the seed's order.
pub fn draw<'a>(exiting: &[&'a Village], seed: u64, percent_policy: &RulePolicy) -> Vec<&'a Village> {
    let minimum = spot_check_minimum(u32::try_from(exiting.len()).unwrap_or(u32::MAX), percent_policy) as usize;
    let mut ordered: Vec<&Village> = exiting.to_vec();
    ordered.sort_by_key(|v| (rank(seed, &v.code), v.code.clone()));
    ordered.truncate(minimum.min(exiting.len()));
    ordered.sort_by(|a, b| a.code.cmp(&b.code));
    ordered
}

/// Incidence in basis points and whether the village may exit, or `None` without a population.
fn verdict(v: &Village) -> Option<(u32, bool)> {
    let population = u32::try_from(v.rural_population?).ok()?;
    let facts = VillageFacts {
        remaining_poor: u32::try_from(v.remaining_poor).unwrap_or(u32::MAX),
        rural_population: population,
        ..Default::default()
    };
    assess_village_exit(&facts, &v.policy).ok().map(|e| (e.incidence_basis_points, e.may_exit))
}

fn percent(basis_points: u32) -> String {
    format!("{}.{:02}", basis_points / 100, basis_points % 100)
}

/// The 抽检报告 of the unit's villages with the sample drawn by `seed`.
pub fn report(report: &Report, villages: &[Village], seed: u64) -> Paper {
    let unit_policy = villages.first().map_or_else(RulePolicy::baseline, |v| v.policy.clone());
    let exiting: Vec<&Village> = villages.iter().filter(|v| verdict(v).is_some_and(|(_, may)| may)).collect();
    let unknown: Vec<&Village> = villages.iter().filter(|v| verdict(v).is_none()).collect();
    let minimum = spot_check_minimum(u32::try_from(exiting.len()).unwrap_or(u32::MAX), &unit_policy);
    let sample = draw(&exiting, seed, &unit_policy);

    let captions =
        ["序号", "村名称", "行政区划代码", "乡村人口", "未脱贫人口", "贫困发生率（%）", "达标情况", "抽检核实情况"];
    let widths = vec![6.0, 16.0, 16.0, 10.0, 10.0, 12.0, 16.0, 30.0];
    let mut sheet = Sheet::new(report.title(), widths.len(), widths);
    super::sheet::heading(&mut sheet, report);
    sheet.banner(
        format!(
            "退出村总数：{}个　应抽检不少于：{}个（{}%）　实际抽检：{}个　随机种子：{seed}　未录入乡村人口未判定：{}个",
            exiting.len(),
            minimum,
            unit_policy.village_spot_check_percent,
            sample.len(),
            unknown.len()
        ),
        Style::Meta,
    );
    sheet.banner("抽检村名单和达标情况表", Style::Section);
    let top = sheet.push(captions.iter().map(|c| (Cell::text(*c), Style::Header)).collect(), Style::Header);
    sheet.freeze = Some((top + 1, 0));
    sheet.repeat_rows = Some((top, top));
    let mut rows = Vec::new();
    for (i, v) in sample.iter().enumerate() {
        let (basis_points, _) = verdict(v).unwrap_or_default();
        let limit = percent(v.policy.village_incidence_limit_basis_points);
        let meets = format!("达标（低于{limit}%）");
        sheet.push(
            vec![
                (Cell::Int(i as i64 + 1), Style::Data),
                (Cell::text(v.name.as_str()), Style::Data),
                (Cell::text(v.code.as_str()), Style::Data),
                (v.rural_population.map_or(Cell::Empty, Cell::Int), Style::Data),
                (Cell::Int(v.remaining_poor), Style::Data),
                (Cell::text(percent(basis_points)), Style::Data),
                (Cell::text(meets.as_str()), Style::Data),
                (Cell::Empty, Style::Data),
            ],
            Style::Data,
        );
        rows.push(json!({
            "code": v.code, "name": v.name, "rural_population": v.rural_population,
            "remaining_poor": v.remaining_poor, "incidence_basis_points": basis_points, "meets": true,
        }));
    }
    if sample.is_empty() {
        sheet.banner("（没有可退出的村，无需抽检）", Style::Data);
    }
    let json = json!({
        "layout": "spot_check",
        "columns": captions,
        "seed": seed,
        "exiting_villages": exiting.iter().map(|v| v.code.clone()).collect::<Vec<_>>(),
        "minimum": minimum,
        "percent": unit_policy.village_spot_check_percent,
        "sample": rows,
        "not_assessed": unknown.iter().map(|v| v.code.clone()).collect::<Vec<_>>(),
    });
    Paper { sheet, json, households: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn villages(n: usize) -> Vec<Village> {
        (0..n)
            .map(|i| Village {
                code: format!("320703001{:03}", i + 1),
                name: format!("村{i}"),
                rural_population: Some(1000),
                remaining_poor: 0,
                policy: RulePolicy::shanxi_003(),
            })
            .collect()
    }

    #[test]
    fn the_draw_takes_at_least_ten_percent_and_repeats_for_the_same_seed() {
        let all = villages(23);
        let exiting: Vec<&Village> = all.iter().collect();
        let policy = RulePolicy::shanxi_003();
        let a: Vec<String> = draw(&exiting, 7, &policy).iter().map(|v| v.code.clone()).collect();
        let b: Vec<String> = draw(&exiting, 7, &policy).iter().map(|v| v.code.clone()).collect();
        assert_eq!(a.len(), 3, "10% of 23 rounded up");
        assert_eq!(a, b);
        let others: Vec<Vec<String>> =
            (8..20).map(|s| draw(&exiting, s, &policy).iter().map(|v| v.code.clone()).collect()).collect();
        assert!(others.iter().any(|o| *o != a), "another seed draws another sample");
    }
}
