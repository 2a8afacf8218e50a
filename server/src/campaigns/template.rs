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

/// The milestones of 004 §二 for `year` (the summary falls in January of the next year).
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
    [
        // （二）10月10日至11月10日 进村入户，信息采集和更新.
        milestone("动态调整和信息采集", day(year, 10, 10), day(year, 11, 10), "households_visited", 100),
        // （三）11月28日24时前完成全部数据录入和系统操作.
        milestone("数据录入和系统操作", day(year, 11, 11), day(year, 11, 28), "help_plans_entered", 100),
        // （四）12月1日至10日 数据分析，形成问题清单: cases ready for the county's review.
        milestone("数据分析和问题梳理", day(year, 12, 1), day(year, 12, 10), "cases_past_step:township_notice", 100),
        // （五）12月11日至20日 问题核查.
        milestone("问题核查", day(year, 12, 11), day(year, 12, 20), "quality_problems_left", 80),
        // （六）12月21日至31日 完善系统数据.
        milestone("完善系统数据", day(year, 12, 21), day(year, 12, 31), "quality_problems_left", 100),
        // （七）次年1月1日至5日 工作总结: every case through its announcement.
        milestone(
            "工作总结",
            day(year.saturating_add(1), 1, 1),
            day(year.saturating_add(1), 1, 5),
            "cases_past_step:announcement",
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
        assert_eq!(milestones.len(), 6);
        let due: Vec<String> = milestones.iter().map(|m| m.due_on.to_string()).collect();
        assert_eq!(due, ["2026-11-10", "2026-11-28", "2026-12-10", "2026-12-20", "2026-12-31", "2027-01-05"]);
        assert_eq!(milestones[0].starts_on, day(2026, 10, 10));
        for pair in milestones.windows(2) {
            assert!(pair[0].due_on < pair[1].due_on);
        }
        for m in &milestones {
            assert!(Measure::parse(&m.measure).is_some(), "{}", m.measure);
            assert!(m.starts_on.is_none_or(|s| s <= m.due_on));
        }
    }
}
