//! 003 §一(二)3 的抽检: "每市抽检率原则上不低于全市退出村总数的10%。于12月20日前上报全市
//! 贫困村退出抽检报告（附抽检村名单和达标情况表）". The villages are those the county
//! decided to exit (出列, `village_exit`) within the report's period; the least number to
//! check is `spot_check_minimum`; the sample is drawn by a stated seed, so the same seed
//! over the same villages draws the same sample, and anyone can redraw it. The 达标情况
//! is R9 on today's data with the recorded facts (incidence, 不搬迁不退出, the sector
//! departments' finding), so a checked village that no longer meets them shows why.
//!
//! Pure: villages in, a laid-out report out. The draw orders the exited villages by
//! SHA-256 of the seed and the village code and takes the first ones: no state, no
//! clock, the same on every machine and backend.
//!
//! What this must never do: draw fewer than the minimum, draw a village that did not
//! exit in the period, or draw differently for the same seed and villages.

use super::paper::Paper;
use super::sheet::{Cell, Sheet, Style};
use super::{Period, Region, Report};
use crate::assess::village::percent;
use crate::domain::policy::RulePolicy;
use crate::domain::village::{Unmet, spot_check_minimum};
use chrono::Datelike;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A village as the spot check reads it: an exited village with its figures today.
pub use crate::assess::village::ExitedVillage as Village;

pub const NOTES: &[&str] = &[
    "退出村：本期内经县级决定出列（录入出列年度和文号）的行政村。达标情况按今日数据判定（R9，003 §一(一)2、§一(二)）：贫困发生率 = 在档未脱贫人口 ÷ 乡村人口，须低于退出标准；列入全省整自然村搬迁范围的深度贫困村须已搬迁（不搬迁不退出）；县级行业部门须已认定退出指标达标。",
    "抽检数不低于退出村总数的10%（003 §一(二)3，向上取整）。抽取方法：按“随机种子 + 行政区划代码”的SHA-256值从小到大排序，取前若干个村；同一种子、同一批退出村，抽取结果相同，可复核。",
    "“抽检核实情况”由抽检组实地核实后填写；“整村搬迁”按县级录入的深度贫困村、整村搬迁范围和搬迁完成情况填列。",
];

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

/// The 达标情况 of a village in words.
fn standing(v: &Village) -> String {
    let Some(verdict) = &v.verdict else {
        return "未录入乡村人口，不能判定".to_owned();
    };
    let limit = percent(v.policy.village_incidence_limit_basis_points);
    if verdict.may_exit {
        return format!("达标（低于{limit}%）");
    }
    let reasons: Vec<String> = verdict
        .unmet
        .iter()
        .map(|u| match u {
            Unmet::Incidence => format!("贫困发生率未降至{limit}%以下"),
            Unmet::Relocation => "未搬迁（不搬迁不退出）".to_owned(),
            Unmet::Indicators => "行业部门认定未达标".to_owned(),
            Unmet::IndicatorsUnrecorded => "行业部门认定未录入".to_owned(),
        })
        .collect();
    format!("未达标：{}", reasons.join("；"))
}

/// The whole-village relocation column (不搬迁不退出).
fn relocation(v: &Village) -> &'static str {
    match (v.facts.deep_poverty_village, v.facts.whole_village_relocation, v.facts.relocation_done) {
        (Some(true), Some(true), Some(true)) => "深度贫困村，已整村搬迁",
        (Some(true), Some(true), _) => "深度贫困村，未整村搬迁",
        (_, Some(true), Some(true)) => "列入整村搬迁范围，已搬迁",
        (_, Some(true), _) => "列入整村搬迁范围，未搬迁",
        (_, Some(false), _) => "不在整村搬迁范围",
        _ => "未录入",
    }
}

/// The 抽检报告 of the unit's villages that exited in the period, with the sample drawn by `seed`.
pub fn report(report: &Report, villages: &[Village], seed: u64) -> Paper {
    let unit_policy = villages.first().map_or_else(RulePolicy::baseline, |v| v.policy.clone());
    let exited: Vec<&Village> = villages.iter().collect();
    let unknown: Vec<&Village> = villages.iter().filter(|v| v.verdict.is_none()).collect();
    let minimum = spot_check_minimum(u32::try_from(exited.len()).unwrap_or(u32::MAX), &unit_policy);
    let sample = draw(&exited, seed, &unit_policy);

    let captions = [
        "序号",
        "村名称",
        "行政区划代码",
        "出列年度",
        "出列文号",
        "乡村人口",
        "未脱贫人口",
        "贫困发生率（%）",
        "整村搬迁（不搬迁不退出）",
        "达标情况",
        "抽检核实情况",
    ];
    let widths = vec![6.0, 16.0, 16.0, 8.0, 18.0, 10.0, 10.0, 12.0, 20.0, 24.0, 30.0];
    let mut sheet = Sheet::new(report.title(), widths.len(), widths);
    super::sheet::heading(&mut sheet, report);
    sheet.banner(
        format!(
            "本期退出村总数：{}个　应抽检不少于：{}个（{}%）　实际抽检：{}个　随机种子：{seed}",
            exited.len(),
            minimum,
            unit_policy.village_spot_check_percent,
            sample.len(),
        ),
        Style::Meta,
    );
    sheet.banner("抽检村名单和达标情况表", Style::Section);
    let top = sheet.push(captions.iter().map(|c| (Cell::text(*c), Style::Header)).collect(), Style::Header);
    sheet.freeze = Some((top + 1, 0));
    sheet.repeat_rows = Some((top, top));
    let mut rows = Vec::new();
    for (i, v) in sample.iter().enumerate() {
        let incidence = v.verdict.as_ref().map(|e| e.incidence_basis_points);
        sheet.push(
            vec![
                (Cell::Int(i as i64 + 1), Style::Data),
                (Cell::text(v.name.as_str()), Style::Data),
                (Cell::text(v.code.as_str()), Style::Data),
                (Cell::Int(i64::from(v.exit.year)), Style::Data),
                (Cell::text(v.exit.document_no.as_str()), Style::Data),
                (v.rural_population.map_or(Cell::Empty, Cell::Int), Style::Data),
                (Cell::Int(v.remaining_poor), Style::Data),
                (incidence.map_or(Cell::Empty, |bp| Cell::text(percent(bp))), Style::Data),
                (Cell::text(relocation(v)), Style::Data),
                (Cell::text(standing(v)), Style::Data),
                (Cell::Empty, Style::Data),
            ],
            Style::Data,
        );
        rows.push(json!({
            "code": v.code, "name": v.name, "year": v.exit.year, "document_no": v.exit.document_no,
            "rural_population": v.rural_population, "remaining_poor": v.remaining_poor,
            "incidence_basis_points": incidence,
            "meets": v.verdict.as_ref().is_some_and(|e| e.may_exit),
            "unmet": v.verdict.as_ref().map(|e| e.unmet.clone()).unwrap_or_default(),
            "relocation": relocation(v),
        }));
    }
    if sample.is_empty() {
        sheet.banner("（本期没有出列的村，无需抽检）", Style::Data);
    }
    let json = json!({
        "layout": "spot_check",
        "columns": captions,
        "seed": seed,
        "exiting_villages": exited.iter().map(|v| v.code.clone()).collect::<Vec<_>>(),
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
                facts: Default::default(),
                exit: crate::assess::village::ExitRecord {
                    year: 2026,
                    document_no: format!("县扶贫办〔2026〕{i}号"),
                    decided_on: "2026-12-01".into(),
                    decided_by: "county".into(),
                },
                verdict: None,
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

    #[test]
    fn a_village_not_moved_says_so() {
        use crate::assess::village::VillageFactsBody;
        use crate::domain::village::{VillageFacts, assess_village_exit};
        let policy = RulePolicy::shanxi_003();
        let mut v = villages(1).remove(0);
        v.facts = VillageFactsBody {
            deep_poverty_village: Some(true),
            whole_village_relocation: Some(true),
            relocation_done: Some(false),
            exit_indicators_met: Some(true),
        };
        let facts = VillageFacts {
            remaining_poor: 30,
            rural_population: 1000,
            deep_poverty: true,
            whole_village_relocation: true,
            relocation_done: false,
            indicators_met: Some(true),
        };
        v.verdict = assess_village_exit(&facts, &policy).ok();
        assert_eq!(relocation(&v), "深度贫困村，未整村搬迁");
        assert_eq!(standing(&v), "未达标：贫困发生率未降至2.00%以下；未搬迁（不搬迁不退出）");
        v.verdict = None;
        assert_eq!(standing(&v), "未录入乡村人口，不能判定");
    }
}
