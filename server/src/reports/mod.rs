//! Reports (C9): the four statistics tables of 000 附件1–4, the household register of
//! 001 附件1 and the 系统外人员 list of 001 §一, for any region and period, as XLSX,
//! CSV or JSON.
//!
//! `queries` reads the facts, `history` reads a household's past back from its
//! completed cases, `statistics` and `register` build the tables as pure functions,
//! `sheet` lays a report out in rows and `write` turns the rows into a file.
//!
//! What reports must never do: change anything, show an ID number or a phone number in
//! full, or give a region a row that differs from the sum of the rows one level down
//! (a row counts the households whose village code starts with its region's prefix).

pub mod history;
pub mod queries;
pub mod register;
pub mod sheet;
pub mod statistics;
pub mod write;

use crate::auth::roles::prefix_len;
use chrono::{DateTime, Days, FixedOffset, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportName {
    /// 000 附件1 贫困人口动态调整情况统计表.
    DynamicAdjustment,
    /// 000 附件2 新识别贫困人口情况统计表.
    NewIdentification,
    /// 000 附件3 清除人口情况统计表.
    Removals,
    /// 000 附件4 返贫人口情况统计表.
    Relapse,
    /// 001 附件1 贫困户名册.
    Register,
    /// 001 §一 系统外人员名册.
    OutsideSystem,
}

impl ReportName {
    pub const ALL: [ReportName; 6] = [
        ReportName::DynamicAdjustment,
        ReportName::NewIdentification,
        ReportName::Removals,
        ReportName::Relapse,
        ReportName::Register,
        ReportName::OutsideSystem,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReportName::DynamicAdjustment => "dynamic_adjustment",
            ReportName::NewIdentification => "new_identification",
            ReportName::Removals => "removals",
            ReportName::Relapse => "relapse",
            ReportName::Register => "register",
            ReportName::OutsideSystem => "outside_system",
        }
    }

    pub fn parse(code: &str) -> Option<ReportName> {
        ReportName::ALL.into_iter().find(|n| n.code() == code)
    }

    /// The title as the seed prints it.
    pub fn title(self) -> &'static str {
        match self {
            ReportName::DynamicAdjustment => "贫困人口动态调整情况统计表",
            ReportName::NewIdentification => "贫困人口动态调整新识别贫困人口情况统计表",
            ReportName::Removals => "贫困人口动态调整清除人口情况统计表",
            ReportName::Relapse => "贫困人口动态调整返贫人口情况统计表",
            ReportName::Register => "贫困户名册",
            ReportName::OutsideSystem => "系统外人员名册",
        }
    }
}

/// China Standard Time: the day a case closed is the day in Beijing.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Today in China.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&china()).date_naive()
}

/// A reporting period: whole days `from` to `to`, both included, in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Period> {
        (from <= to).then_some(Period { from, to })
    }

    fn midnight(day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        china().from_local_datetime(&local).single().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        Period::midnight(self.from)
    }

    /// The first instant after the period.
    pub fn end(&self) -> DateTime<Utc> {
        Period::midnight(self.to.checked_add_days(Days::new(1)).unwrap_or(self.to))
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start() <= at && at < self.end()
    }

    /// `2026年1月1日至2026年12月31日`.
    pub fn label(&self) -> String {
        format!("{}至{}", self.from.format("%Y年%-m月%-d日"), self.to.format("%Y年%-m月%-d日"))
    }
}

/// A region of the division tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

impl Region {
    /// The part of the code its descendants share (`320703001` for a township).
    pub fn prefix(&self) -> &str {
        &self.code[..prefix_len(&self.level).min(self.code.len())]
    }

    /// Households hang off villages: a village (or anything below) has no rows under it.
    pub fn is_leaf(&self) -> bool {
        matches!(self.level.as_str(), "village" | "natural_village")
    }
}

/// A built report, ready to be laid out or sent as JSON.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: ReportName,
    /// 填报单位.
    pub unit: Region,
    pub period: Period,
    pub generated_on: NaiveDate,
    pub body: Body,
    /// How the numbers were made: printed under the table.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Statistics(statistics::StatTable),
    Register(Vec<register::RegisterHousehold>),
    OutsideSystem(Vec<register::OutsideEntry>),
}

impl Report {
    pub fn title(&self) -> &'static str {
        self.name.title()
    }

    /// The file name offered for download, in Chinese: title, unit and period.
    pub fn file_name(&self, extension: &str) -> String {
        format!("{}_{}_{}_{}.{extension}", self.title(), self.unit.name, self.period.from, self.period.to)
    }

    /// An ASCII file name for clients that ignore `filename*`.
    pub fn ascii_file_name(&self, extension: &str) -> String {
        format!("{}_{}_{}_{}.{extension}", self.name.code(), self.unit.code, self.period.from, self.period.to)
    }

    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name.code(),
            "title": self.title(),
            "unit": {"code": self.unit.code, "name": self.unit.name, "level": self.unit.level},
            "from": self.period.from.to_string(),
            "to": self.period.to.to_string(),
            "generated_on": self.generated_on.to_string(),
            "notes": self.notes,
        });
        match &self.body {
            Body::Statistics(table) => {
                out["layout"] = json!("statistics");
                table.write_json(&mut out);
            }
            Body::Register(households) => {
                out["layout"] = json!("register");
                out["households"] = households.iter().map(register::RegisterHousehold::to_json).collect();
            }
            Body::OutsideSystem(entries) => {
                out["layout"] = json!("list");
                out["households"] = entries.iter().map(register::OutsideEntry::to_json).collect();
            }
        }
        out
    }
}

/// Builds a report for `unit` over `period`. `scope` is the caller's household condition
/// over `h.id` and `h.region_code` (`sync::scope::households_condition`): the caller
/// reads the whole unit, and the condition keeps it that way.
pub async fn build(
    conn: &impl ConnectionTrait,
    name: ReportName,
    unit: Region,
    period: Period,
    scope: (String, Vec<sea_orm::Value>),
) -> Result<Report, DbErr> {
    let body = match name {
        ReportName::DynamicAdjustment | ReportName::NewIdentification | ReportName::Removals | ReportName::Relapse => {
            let spec = statistics::spec(name).ok_or_else(|| DbErr::Custom("no statistics table".into()))?;
            let groups = queries::row_groups(conn, &unit).await?;
            let households = queries::household_facts(conn, &unit, &scope).await?;
            Body::Statistics(statistics::tabulate(spec, &groups, &households, &period))
        }
        ReportName::Register => {
            let input = queries::register_input(conn, &unit, &scope, &period, register::registered).await?;
            Body::Register(register::register(&input, &period))
        }
        ReportName::OutsideSystem => {
            let input = queries::register_input(conn, &unit, &scope, &period, register::outside_system).await?;
            Body::OutsideSystem(register::outside_list(&input))
        }
    };
    let notes = match &body {
        Body::Statistics(table) => table.spec.notes.iter().map(|n| (*n).to_owned()).collect(),
        Body::Register(_) => register::REGISTER_NOTES.iter().map(|n| (*n).to_owned()).collect(),
        Body::OutsideSystem(_) => register::OUTSIDE_NOTES.iter().map(|n| (*n).to_owned()).collect(),
    };
    Ok(Report { name, unit, period, generated_on: today(), body, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_period_runs_over_whole_days_in_china_time() {
        let p = Period::new(date(2026, 3, 1), date(2026, 3, 31)).expect("period");
        assert_eq!(p.start().to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(p.end().to_rfc3339(), "2026-03-31T16:00:00+00:00");
        assert!(p.contains(p.start()));
        assert!(!p.contains(p.end()));
        assert_eq!(p.label(), "2026年3月1日至2026年3月31日");
        assert!(Period::new(date(2026, 4, 1), date(2026, 3, 1)).is_none());
    }

    #[test]
    fn names_round_trip() {
        for name in ReportName::ALL {
            assert_eq!(ReportName::parse(name.code()), Some(name));
        }
        assert_eq!(ReportName::parse("nope"), None);
    }

    #[test]
    fn a_region_prefix_follows_its_level() {
        let township = Region {
            code: "320703001000".into(),
            name: "一号镇".into(),
            level: "township".into(),
            parent_code: Some("320703000000".into()),
        };
        assert_eq!(township.prefix(), "320703001");
        assert!(!township.is_leaf());
    }
}
