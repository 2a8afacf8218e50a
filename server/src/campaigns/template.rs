//! The yearly dynamic adjustment of 004 §二 (进度安排) as a campaign template: the
//! dates of the seed moved to the campaign's year, each with the measure that says how
//! far the work has got.
//!
//! What this module must never do: touch the database. It only says what a template
//! holds; `super::campaign` creates the campaign.

use super::campaign::{CampaignError, NewCampaign, NewMilestone};
use chrono::NaiveDate;
use serde::Serialize;

pub const DYNAMIC_ADJUSTMENT: &str = "dynamic_adjustment_004";

/// Campaign years a template is laid out for.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

// A template with its milestones for one year. (No doc comment: the API document would
// show it as a description this schema never had.)
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub template: String,
    pub milestones: Vec<NewMilestone>,
}

/// The templates, laid out for `year`.
pub fn list(year: i32) -> Result<Vec<TemplateView>, CampaignError> {
    if !YEARS.contains(&year) {
        return Err(CampaignError::YearOutOfRange);
    }
    Ok(vec![TemplateView { template: DYNAMIC_ADJUSTMENT.into(), milestones: dynamic_adjustment(year) }])
}

/// The campaign `template` (the 004 timeline when None) makes over a region for `year`,
/// named “{year}年度扶贫对象动态管理” unless named.
pub fn campaign(
    template: Option<&str>,
    region_code: String,
    year: i32,
    name: Option<String>,
) -> Result<NewCampaign, CampaignError> {
    if template.unwrap_or(DYNAMIC_ADJUSTMENT) != DYNAMIC_ADJUSTMENT {
        return Err(CampaignError::UnknownTemplate);
    }
    if !YEARS.contains(&year) {
        return Err(CampaignError::YearOutOfRange);
    }
    Ok(NewCampaign {
        name: name.unwrap_or_else(|| format!("{year}年度扶贫对象动态管理")),
        region_code,
        year,
        milestones: dynamic_adjustment(year),
    })
}

fn day(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The milestones of 004 §二(二)–(七) for `year` (the summary falls in January of the
/// next year), each measured by what 004 asks for that day. Where 004 names an act this
/// system cannot see (a paper report, entry into the national system) the name says so
/// and the measure is the data that act needs.
pub fn dynamic_adjustment(year: i32) -> Vec<NewMilestone> {
    let milestone = |name: &str, starts: Option<NaiveDate>, due: Option<NaiveDate>, measure: &str, target: i32| {
        due.map(|due_on| NewMilestone {
            name: name.to_owned(),
            starts_on: starts,
            due_on,
            measure: measure.to_owned(),
            target_percent: target,
            remind_days_before: vec![3, 1],
        })
    };
    let next = year.saturating_add(1);
    [
        // （二）10月10日至11月10日 "完成低收入农户脱贫退出、新识别和返贫纳入，以及经济薄弱
        // 村退出的各项程序": every case of the year run to its end. (经济薄弱村出列 has no
        // procedure here.)
        milestone("完成脱贫退出、新识别和返贫纳入程序", day(year, 10, 10), day(year, 11, 10), "cases_completed", 100),
        // （二）the same days: "完成扶贫对象各类信息采集和更新", which 附件1 二 does by
        // going to each household with its 对照表: a visit in the window.
        milestone("进村入户、信息采集和更新", day(year, 10, 10), day(year, 11, 10), "households_visited", 100),
        // （三）"11月11日前完成进村入户和信息采集工作，并将需要维护数据汇总上报…书面申请开通
        // 信息系统相关功能": the report and the application are paper between offices; what
        // this system sees is whether each household's collection is in (visited, no case
        // open), which is what the summary is made of.
        milestone(
            "汇总上报需要维护的数据（书面上报和申请开通在系统外，以采集办结计）",
            None,
            day(year, 11, 11),
            "households_collected",
            100,
        ),
        // （三）"11月28日24时前完成全部数据录入和系统操作": the entry happens in the national
        // system, which this one cannot see; what can be entered is what has been collected.
        milestone(
            "数据录入和系统操作（录入国扶系统在系统外，以采集办结计）",
            day(year, 11, 11),
            day(year, 11, 28),
            "households_collected",
            100,
        ),
        // （三）"11月30日前完成系统数据查漏补缺工作": no omission left.
        milestone("系统数据查漏补缺", day(year, 11, 29), day(year, 11, 30), "households_complete", 100),
        // （四）12月1日至10日 "开展数据分析，形成到户到人的具体问题清单": the R8 list
        // (/reports/data_quality) is that list, per household and person. 004 sets no share
        // for the 10th, 20th or 31st; the template expects the errors a desk can settle
        // while the list is formed, the field-checked ones by the 20th and all by the 31st
        // (a county changes the shares with PUT /milestones/{id}).
        milestone("数据分析，形成问题清单", day(year, 12, 1), day(year, 12, 10), "quality_problems_left", 60),
        // （五）12月11日至20日 "组织开展实地核查，对查实的问题进行整改".
        milestone("问题核查和整改", day(year, 12, 11), day(year, 12, 20), "quality_problems_left", 80),
        // （六）12月21日至31日 "对经核实的问题数据进行修改完善".
        milestone("完善系统数据", day(year, 12, 21), day(year, 12, 31), "quality_problems_left", 100),
        // （七）次年1月1日至5日 "进行总结，并上报总结报告": the report is paper; the year it
        // sums up is closed when every case of the year has run to its end.
        milestone(
            "工作总结（总结报告在系统外，以本年度程序全部办结计）",
            day(next, 1, 1),
            day(next, 1, 5),
            "cases_completed",
            100,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::Measure;

    #[test]
    fn the_004_timeline_in_order_with_valid_measures() {
        let milestones = dynamic_adjustment(2026);
        let laid_out: Vec<(String, &str, i32)> =
            milestones.iter().map(|m| (m.due_on.to_string(), m.measure.as_str(), m.target_percent)).collect();
        assert_eq!(
            laid_out,
            [
                ("2026-11-10".to_owned(), "cases_completed", 100),
                ("2026-11-10".to_owned(), "households_visited", 100),
                ("2026-11-11".to_owned(), "households_collected", 100),
                ("2026-11-28".to_owned(), "households_collected", 100),
                ("2026-11-30".to_owned(), "households_complete", 100),
                ("2026-12-10".to_owned(), "quality_problems_left", 60),
                ("2026-12-20".to_owned(), "quality_problems_left", 80),
                ("2026-12-31".to_owned(), "quality_problems_left", 100),
                ("2027-01-05".to_owned(), "cases_completed", 100),
            ]
        );
        assert_eq!(milestones[0].starts_on, day(2026, 10, 10));
        assert_eq!(milestones[1].starts_on, day(2026, 10, 10));
        for pair in milestones.windows(2) {
            assert!(pair[0].due_on <= pair[1].due_on);
        }
        for m in &milestones {
            assert!(Measure::parse(&m.measure).is_some(), "{}", m.measure);
            assert!(m.starts_on.is_none_or(|s| s <= m.due_on));
        }
    }
}
