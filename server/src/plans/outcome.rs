//! 帮扶成效 (001 附件1): what each year's help plan achieved — the per-capita net income
//! it planned against the one recorded for that year (R1), its tasks done, its measures
//! and projects, and the main help measure R6 suggests from the income change.
//!
//! What this must never do: record the R6 category. It is a suggestion next to the
//! measures the officer recorded; the officer ticks the category (001 §三).

use super::{note_of, task_done, yuan};
use crate::assess::facts::{facts_from_records, income_facts};
use crate::domain::error::RuleError;
use crate::domain::income::net_income_per_capita;
use crate::domain::main_measure::{MainMeasure, MeasureClassification, classify_main_measure};
use crate::domain::policy::RulePolicy;
use crate::records::{self, Record};
use chrono::Datelike;
use jingzhun_mobile_api::codes;
use jingzhun_mobile_api::fields::{HELP_MEASURE, HELP_PLAN, HOUSEHOLD, INCOME, MEMBER, PLAN_TASK};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use std::cmp::Ordering;

/// A help measure or project (时间、项目名称、项目规模、扶持资金, 001 附件1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanMeasure {
    pub id: String,
    /// A `main_measure` code (001 附件2).
    pub category: Option<String>,
    pub category_label: Option<String>,
    pub name: Option<String>,
    pub year: Option<i64>,
    pub start_date: Option<String>,
    pub project_name: Option<String>,
    pub scale: Option<String>,
    /// Yuan.
    #[serde(serialize_with = "yuan")]
    #[schema(value_type = Option<f64>)]
    pub funds: Option<i64>,
}

/// Why a figure could not be computed (no resident members, an income part larger than
/// its total…), as the rules word it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleProblem {
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl From<RuleError> for RuleProblem {
    fn from(err: RuleError) -> RuleProblem {
        RuleProblem { code: err.code().to_owned(), message_zh: err.zh(), message_en: err.en() }
    }
}

/// R6 over the plan year's income against the year before (001 附件2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MainMeasureSuggestion {
    /// The first matching category by 序号, if any (a `main_measure` code).
    pub category: Option<String>,
    pub category_label: Option<String>,
    /// Every matching category: more than one and the officer chooses.
    pub matched: Vec<String>,
    /// Categories the records cannot decide (no income of the year before, say).
    pub undetermined: Vec<String>,
}

impl From<&MeasureClassification> for MainMeasureSuggestion {
    fn from(c: &MeasureClassification) -> MainMeasureSuggestion {
        let codes = |list: &[MainMeasure]| list.iter().map(|m| m.code().to_owned()).collect();
        MainMeasureSuggestion {
            category: c.category.map(|m| m.code().to_owned()),
            category_label: c.category.map(|m| m.label().to_owned()),
            matched: codes(&c.matched),
            undetermined: codes(&c.undetermined),
        }
    }
}

/// One year's plan against what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanResult {
    pub plan_id: String,
    pub year: i64,
    pub goal: Option<String>,
    /// 帮扶成效 in the officer's words.
    pub outcome_note: Option<String>,
    /// 计划人均纯收入, yuan.
    #[serde(serialize_with = "yuan")]
    #[schema(value_type = Option<f64>)]
    pub planned_per_capita: Option<i64>,
    /// Per-capita net income of the plan year (R1 over that year's income record and
    /// today's resident members), yuan; absent without an income record for the year.
    #[serde(serialize_with = "yuan")]
    #[schema(value_type = Option<f64>)]
    pub actual_per_capita: Option<i64>,
    /// Actual less planned, yuan.
    #[serde(serialize_with = "yuan")]
    #[schema(value_type = Option<f64>)]
    pub difference: Option<i64>,
    /// Whether the actual per-capita income reached the plan (compared exactly, before
    /// rounding to the fen).
    pub reached: Option<bool>,
    pub resident_members: u32,
    pub tasks_total: u32,
    pub tasks_done: u32,
    /// Measures and projects of the plan year.
    pub measures: Vec<PlanMeasure>,
    pub suggested_main_measure: Option<MainMeasureSuggestion>,
    /// Why the income or R6 could not be worked out, if so.
    pub problem: Option<RuleProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanOutcome {
    pub household_id: String,
    /// Plans by year, oldest first.
    pub plans: Vec<PlanResult>,
    /// Measures of a year without a plan, or with no year at all.
    pub other_measures: Vec<PlanMeasure>,
}

/// The year a measure belongs to: its own, else its start date's.
fn measure_year(measure: &Record) -> Option<i64> {
    measure.int("year").or_else(|| measure.date("start_date").map(|d| i64::from(d.year())))
}

fn plan_measure(measure: &Record) -> PlanMeasure {
    let category = measure.text("category").map(str::to_owned);
    PlanMeasure {
        id: measure.id.clone(),
        category_label: category.as_deref().and_then(|c| codes::MAIN_MEASURE.label_of(c)).map(str::to_owned),
        category,
        name: note_of(measure, "name").map(str::to_owned),
        year: measure.int("year"),
        start_date: measure.text("start_date").map(str::to_owned),
        project_name: note_of(measure, "project_name").map(str::to_owned),
        scale: note_of(measure, "scale").map(str::to_owned),
        funds: measure.money("funds"),
    }
}

/// Each of the household's plans against what happened; `None` if there is no such
/// household.
pub async fn outcome(conn: &impl ConnectionTrait, household_id: &str) -> Result<Option<PlanOutcome>, DbErr> {
    let Some(household) = records::load(conn, &HOUSEHOLD, household_id, false).await? else {
        return Ok(None);
    };
    let ids = [household_id.to_owned()];
    let stored = Stored {
        members: records::load_by_households(conn, &MEMBER, &ids).await?,
        incomes: records::load_by_households(conn, &INCOME, &ids).await?,
        measures: records::load_by_households(conn, &HELP_MEASURE, &ids).await?,
        plans: records::load_by_households(conn, &HELP_PLAN, &ids).await?,
        tasks: records::load_by_households(conn, &PLAN_TASK, &ids).await?,
    };
    Ok(Some(outcome_of(&household, &stored)))
}

/// What hangs off a household, as stored.
pub struct Stored {
    pub members: Vec<Record>,
    pub incomes: Vec<Record>,
    pub measures: Vec<Record>,
    pub plans: Vec<Record>,
    pub tasks: Vec<Record>,
}

/// [`outcome`] over records already loaded.
pub fn outcome_of(household: &Record, stored: &Stored) -> PlanOutcome {
    let Stored { members, incomes, measures, plans, tasks } = stored;
    let mut plans: Vec<&Record> = plans.iter().collect();
    plans.sort_by_key(|p| (p.int("year"), p.id.clone()));
    let income_of = |year: i64| incomes.iter().find(|r| r.int("year") == Some(year));
    let policy = RulePolicy::baseline();

    let mut results = Vec::with_capacity(plans.len());
    for plan in plans {
        let Some(year) = plan.int("year") else { continue };
        // Measures up to the plan year decide whether it is a relocation household.
        let so_far: Vec<Record> =
            measures.iter().filter(|m| measure_year(m).is_none_or(|y| y <= year)).cloned().collect();
        let this_year = income_of(year);
        let facts = facts_from_records(household, members, this_year, &so_far);
        let planned = plan.money("planned_income");
        let mut result = PlanResult {
            plan_id: plan.id.clone(),
            year,
            goal: note_of(plan, "goal").map(str::to_owned),
            outcome_note: note_of(plan, "outcome_note").map(str::to_owned),
            planned_per_capita: planned,
            actual_per_capita: None,
            difference: None,
            reached: None,
            resident_members: facts.resident_members,
            tasks_total: 0,
            tasks_done: 0,
            measures: measures.iter().filter(|m| measure_year(m) == Some(year)).map(plan_measure).collect(),
            suggested_main_measure: None,
            problem: None,
        };
        for task in tasks.iter().filter(|t| t.text("plan_id") == Some(plan.id.as_str())) {
            result.tasks_total += 1;
            result.tasks_done += u32::from(task_done(task));
        }
        if this_year.is_some() {
            let last_year = income_of(year - 1).map(income_facts);
            let computed = net_income_per_capita(&facts.income, facts.resident_members, &policy)
                .and_then(|net| Ok((net, classify_main_measure(&facts, last_year.as_ref(), &policy)?)));
            match computed {
                Ok((net, classification)) => {
                    result.actual_per_capita = Some(net.per_capita_fen);
                    if let Some(planned) = planned {
                        result.difference = Some(net.per_capita_fen - planned);
                        result.reached = Some(net.compare(planned) != Ordering::Less);
                    }
                    result.suggested_main_measure = Some(MainMeasureSuggestion::from(&classification));
                }
                Err(err) => result.problem = Some(err.into()),
            }
        }
        results.push(result);
    }
    let plan_years: Vec<i64> = results.iter().map(|r| r.year).collect();
    let other_measures = measures
        .iter()
        .filter(|m| measure_year(m).is_none_or(|y| !plan_years.contains(&y)))
        .map(plan_measure)
        .collect();
    PlanOutcome { household_id: household.id.clone(), plans: results, other_measures }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun_mobile_api::validate::FieldValue;
    use std::collections::BTreeMap;

    const YUAN: i64 = 100;

    fn record(id: &str, values: Vec<(&'static str, FieldValue)>) -> Record {
        Record { id: id.into(), version: 1, field_versions: BTreeMap::new(), values: values.into_iter().collect() }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    fn member(id: &str, active: bool) -> Record {
        record(id, vec![("name", text(id)), ("active", FieldValue::Bool(active))])
    }

    fn income(id: &str, year: i64, wage: i64, business: i64) -> Record {
        record(
            id,
            vec![
                ("year", FieldValue::Int(year)),
                ("wage", FieldValue::Money(wage)),
                ("business", FieldValue::Money(business)),
            ],
        )
    }

    fn plan(id: &str, year: i64, planned: Option<i64>) -> Record {
        let mut values = vec![("year", FieldValue::Int(year))];
        if let Some(fen) = planned {
            values.push(("planned_income", FieldValue::Money(fen)));
        }
        record(id, values)
    }

    fn task(id: &str, plan_id: &str, done: Option<bool>, done_on: Option<&str>) -> Record {
        let mut values = vec![("plan_id", FieldValue::Uuid(plan_id.into()))];
        if let Some(done) = done {
            values.push(("done", FieldValue::Bool(done)));
        }
        if let Some(on) = done_on {
            values.push(("done_on", FieldValue::Date(on.into())));
        }
        record(id, values)
    }

    fn household() -> Record {
        record("h", vec![("kind", text("general")), ("region_code", text("320703001001"))])
    }

    #[test]
    fn planned_against_actual_per_capita_with_tasks_and_r6() {
        let stored = Stored {
            // Three residents; one member has left and does not count.
            members: vec![member("a", true), member("b", true), member("c", true), member("d", false)],
            incomes: vec![
                income("i25", 2025, 3_000 * YUAN, 3_000 * YUAN),
                // Business clearly up and the main income: 发展生产脱贫.
                income("i26", 2026, 3_000 * YUAN, 9_001 * YUAN),
            ],
            measures: vec![
                record(
                    "m26",
                    vec![
                        ("category", text("industry")),
                        ("name", text("种植")),
                        ("year", FieldValue::Int(2026)),
                        ("funds", FieldValue::Money(500_050)),
                    ],
                ),
                record("m-undated", vec![("category", text("employment")), ("name", text("培训"))]),
            ],
            plans: vec![plan("p26", 2026, Some(4_000 * YUAN)), plan("p27", 2027, Some(5_000 * YUAN))],
            tasks: vec![
                task("t1", "p26", Some(true), None),
                task("t2", "p26", None, Some("2026-03-01")),
                task("t3", "p26", Some(false), None),
                task("t4", "p27", None, None),
            ],
        };
        let outcome = outcome_of(&household(), &stored);
        assert_eq!(outcome.plans.len(), 2);
        let p26 = &outcome.plans[0];
        assert_eq!(p26.resident_members, 3);
        // (3000 + 9001) ÷ 3 = 4000.33 yuan per person.
        assert_eq!(p26.actual_per_capita, Some(400_033));
        assert_eq!(p26.planned_per_capita, Some(400_000));
        assert_eq!(p26.difference, Some(33));
        assert_eq!(p26.reached, Some(true));
        assert_eq!((p26.tasks_done, p26.tasks_total), (2, 3), "ticked or dated counts as done");
        assert_eq!(p26.measures.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m26"]);
        let suggestion = p26.suggested_main_measure.as_ref().expect("suggestion");
        assert_eq!(suggestion.category.as_deref(), Some("industry"));
        assert_eq!(suggestion.category_label.as_deref(), Some("发展生产脱贫"));
        assert_eq!(p26.problem, None);

        // No income recorded for 2027 yet: nothing to compare.
        let p27 = &outcome.plans[1];
        assert_eq!((p27.actual_per_capita, p27.difference, p27.reached), (None, None, None));
        assert!(p27.suggested_main_measure.is_none());
        assert_eq!((p27.tasks_done, p27.tasks_total), (0, 1));
        assert_eq!(outcome.other_measures.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m-undated"]);

        let json = serde_json::to_value(p26).expect("json");
        assert_eq!(json["planned_per_capita"], 4000);
        assert_eq!(json["actual_per_capita"], 4000.33);
        assert_eq!(json["measures"][0]["funds"], 5000.5);
    }

    #[test]
    fn below_plan_and_unworkable_income_say_so() {
        let below = Stored {
            members: vec![member("a", true), member("b", true)],
            incomes: vec![income("i", 2026, 3_000 * YUAN, 0)],
            measures: vec![],
            plans: vec![plan("p", 2026, Some(2_000 * YUAN))],
            tasks: vec![],
        };
        let p = &outcome_of(&household(), &below).plans[0];
        assert_eq!((p.actual_per_capita, p.difference, p.reached), (Some(150_000), Some(-50_000), Some(false)));
        // No last year's income: R6 cannot judge an increase.
        let suggestion = p.suggested_main_measure.as_ref().expect("suggestion");
        assert!(suggestion.undetermined.contains(&"employment".to_owned()), "{suggestion:?}");

        let nobody = Stored { members: vec![member("a", false)], ..below };
        let p = &outcome_of(&household(), &nobody).plans[0];
        assert_eq!(p.actual_per_capita, None);
        assert_eq!(p.problem.as_ref().map(|e| e.code.as_str()), Some("no_resident_members"));
    }
}
