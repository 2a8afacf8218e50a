//! What a synced entity needs from a push beyond its field catalogue
//! (`jingzhun_mobile_api::fields`): the fields the server fills in on a new record, the
//! checks across records a change must pass, which change asks for the one-head check,
//! whether a sign-off's freeze holds the entity, who opens new records, and what a
//! unique index's refusal means. The catalogue plus [`of`] is the whole story of a synced
//! entity: one arm per entity, and a test that every catalogued entity has one.
//!
//! Rules read the database but never write records: the push applies what they allow.
//!
//! An ID number already registered in a household the caller cannot read is answered
//! `needs_review`, never `duplicate_person`, so a push cannot tell whether a person is
//! registered elsewhere; such hits are audited and counted, and after
//! [`ID_LOOKUPS_PER_DAY`] a day every ID number from that user is refused with
//! `too_many_attempts` without a look-up.

use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::db::{count, placeholders, sql};
use crate::records::{Record, scope};
use chrono::{DateTime, Utc};
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};
use jingzhun_mobile_api::fields::EntitySpec;
use jingzhun_mobile_api::validate::{self, FieldValue};
use jingzhun_mobile_api::wire::ChangeSet;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use std::collections::BTreeMap;

/// Out-of-scope ID number hits one user may make in a day before every ID number they
/// push is refused unseen.
pub const ID_LOOKUPS_PER_DAY: i64 = 5;

/// What a push does for one entity beyond validating its fields.
#[derive(Debug, Clone, Copy)]
pub struct EntityRules {
    /// Set by the server on a new record, whatever the phone sent (they are read-only).
    pub filled_on_create: &'static [(&'static str, Filled)],
    /// Checks across records that a create or an update must pass, in this order.
    pub checks: &'static [Check],
    /// A new record, or a change of this field, asks for exactly one head in its
    /// household again (R8).
    pub head_field: Option<&'static str>,
    /// While a sign-off above the caller's level freezes the household, changes are
    /// refused (`case_frozen`). Cases are the procedure's own and never frozen by it.
    pub frozen_by_signoff: bool,
    /// New records are opened by their procedure (`procedures::case::open_case`), which
    /// decides who may open one and what it needs; a push passes them on.
    pub opened_by_procedure: bool,
    /// What a unique index refusing an insert means (a concurrent writer got there
    /// first): the field and the code answered.
    pub on_unique: (&'static str, ErrorCode),
}

/// A value the server fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filled {
    /// The pushing user's id.
    Caller,
    Text(&'static str),
    Bool(bool),
}

/// A check across records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A member has an ID or 残疾人证 number, or 无证件 with a reason (001 附件1 note 3),
    /// judged on the record as it will be stored (`validate::member_identity`).
    MemberIdentity,
    /// One active household per person (R8), without telling whose household it is
    /// outside the caller's scope (M2).
    IdNumberFree,
    /// One income record per household and year.
    OneIncomePerYear,
    /// A task's officer follows the household now (M12: its reminders name the household).
    TaskOfficerFollows,
    /// A task's plan is a plan of the same household.
    TaskPlanInHousehold,
}

const PLAIN: EntityRules = EntityRules {
    filled_on_create: &[],
    checks: &[],
    head_field: None,
    frozen_by_signoff: true,
    opened_by_procedure: false,
    on_unique: ("", ErrorCode::AlreadyExists),
};

/// The rules of a catalogued entity.
pub fn of(entity: &EntitySpec) -> EntityRules {
    match entity.name {
        // A new household is an application; its status moves only through procedures.
        "household" => EntityRules { filled_on_create: &[("status", Filled::Text("applicant"))], ..PLAIN },
        "member" => EntityRules {
            filled_on_create: &[("active", Filled::Bool(true))],
            checks: &[Check::MemberIdentity, Check::IdNumberFree],
            head_field: Some("relation"),
            // Whose household it is stays unsaid (M2).
            on_unique: ("id_number", ErrorCode::NeedsReview),
            ..PLAIN
        },
        "income" => {
            EntityRules { checks: &[Check::OneIncomePerYear], on_unique: ("year", ErrorCode::DuplicateYear), ..PLAIN }
        }
        "plan_task" => EntityRules { checks: &[Check::TaskOfficerFollows, Check::TaskPlanInHousehold], ..PLAIN },
        "visit_log" => EntityRules { filled_on_create: &[("officer_id", Filled::Caller)], ..PLAIN },
        "case" => EntityRules { frozen_by_signoff: false, opened_by_procedure: true, ..PLAIN },
        "help_measure" | "help_plan" | "vehicle" | "urban_property" | "business" => PLAIN,
        _ => PLAIN,
    }
}

impl Filled {
    pub fn value(self, caller: &Caller) -> FieldValue {
        match self {
            Filled::Caller => FieldValue::Uuid(caller.user_id.clone()),
            Filled::Text(text) => FieldValue::Text(text.to_owned()),
            Filled::Bool(b) => FieldValue::Bool(b),
        }
    }
}

/// The record a change creates or updates, as the checks see it.
pub struct Proposed<'a> {
    pub id: &'a str,
    pub household_id: &'a str,
    /// A sign-off above the caller's level freezes the household.
    pub frozen: bool,
    pub values: &'a BTreeMap<&'static str, FieldValue>,
    /// The record before an update; None for a create.
    pub current: Option<&'a Record>,
}

/// An ID number pushed that is registered in a household the caller cannot read.
pub struct IdLookup {
    pub member_id: String,
    pub household_id: String,
    pub other_household_id: String,
    pub id_number: String,
}

/// The checks of one change set: the caller, when it arrived, and the out-of-scope ID
/// number hits it made (kept with the rejected receipt, counted against the day's limit).
pub struct Checker<'a> {
    caller: &'a Caller,
    now: DateTime<Utc>,
    /// The caller's hits of the last day before this change set, counted once.
    lookups_today: Option<i64>,
    pub lookups: Vec<IdLookup>,
}

impl<'a> Checker<'a> {
    pub fn new(caller: &'a Caller, now: DateTime<Utc>) -> Checker<'a> {
        Checker { caller, now, lookups_today: None, lookups: Vec::new() }
    }

    /// The field errors of a proposed record under its entity's rules (none: it may go on).
    pub async fn check(
        &mut self,
        conn: &impl ConnectionTrait,
        rules: &EntityRules,
        proposed: Proposed<'_>,
    ) -> Result<Vec<FieldError>, DbErr> {
        if rules.frozen_by_signoff && proposed.frozen {
            return Ok(vec![FieldError::new("", ErrorCode::CaseFrozen)]);
        }
        let mut errors = Vec::new();
        for check in rules.checks {
            match check {
                Check::MemberIdentity => errors.extend(member_identity(&proposed)),
                Check::IdNumberFree => errors.extend(self.id_number_free(conn, &proposed).await?),
                Check::OneIncomePerYear => errors.extend(one_income_per_year(conn, &proposed).await?),
                Check::TaskOfficerFollows => errors.extend(self.task_officer_follows(conn, &proposed).await?),
                Check::TaskPlanInHousehold => errors.extend(task_plan_in_household(conn, &proposed).await?),
            }
        }
        Ok(errors)
    }

    /// Whether [`Checker::check`] will read other records from the database for this
    /// change (a push holding back its own writes writes them first, so the check sees
    /// them).
    pub fn reads_records(rules: &EntityRules, proposed: &Proposed<'_>) -> bool {
        rules.checks.iter().any(|check| match check {
            Check::MemberIdentity => false,
            Check::IdNumberFree => proposed.values.contains_key("id_number"),
            Check::OneIncomePerYear | Check::TaskOfficerFollows | Check::TaskPlanInHousehold => true,
        })
    }

    /// One active household per person (R8), told without making the push an oracle:
    /// `duplicate_person` only when the other household is one the caller reads;
    /// otherwise `needs_review`, the hit audited and counted for the caller.
    async fn id_number_free(
        &mut self,
        conn: &impl ConnectionTrait,
        proposed: &Proposed<'_>,
    ) -> Result<Option<FieldError>, DbErr> {
        let Some(FieldValue::Text(id_number)) = proposed.values.get("id_number") else { return Ok(None) };
        if proposed.current.is_some_and(|r| r.value("id_number") == &FieldValue::Text(id_number.clone())) {
            return Ok(None);
        }
        let today = match self.lookups_today {
            Some(n) => n,
            None => {
                let since = self.now - chrono::Duration::days(1);
                let n = count(
                    conn,
                    "SELECT COUNT(*) FROM id_number_lookup WHERE user_id = ? AND at > ?",
                    vec![self.caller.user_id.as_str().into(), since.into()],
                )
                .await?;
                self.lookups_today = Some(n);
                n
            }
        };
        if today + self.lookups.len() as i64 >= ID_LOOKUPS_PER_DAY {
            // Refused unseen, whether the number is registered or not.
            return Ok(Some(FieldError::new("id_number", ErrorCode::TooManyAttempts)));
        }
        // The same person under an ID card or a 残疾人证 number is one person.
        let numbers = validate::numbers_of_person(id_number);
        let mut values: Vec<sea_orm::Value> = numbers.iter().map(|n| n.as_str().into()).collect();
        values.push(proposed.id.into());
        let other = RegisteredRow::find_by_statement(sql(
            conn.get_database_backend(),
            &format!(
                "SELECT m.household_id, h.region_code FROM member m JOIN household h ON h.id = m.household_id \
                 WHERE m.id_number IN ({}) AND m.active AND m.id <> ? ORDER BY m.household_id LIMIT 1",
                placeholders(numbers.len())
            ),
            values,
        ))
        .one(conn)
        .await?;
        let Some(other) = other else { return Ok(None) };
        let readable = other.household_id == proposed.household_id
            || scope::household_access(conn, self.caller, &other.household_id, &other.region_code).await?.may_read();
        if readable {
            return Ok(Some(FieldError::new("id_number", ErrorCode::DuplicatePerson)));
        }
        self.lookups.push(IdLookup {
            member_id: proposed.id.to_owned(),
            household_id: proposed.household_id.to_owned(),
            other_household_id: other.household_id,
            id_number: id_number.clone(),
        });
        Ok(Some(FieldError::new("id_number", ErrorCode::NeedsReview)))
    }

    async fn task_officer_follows(
        &self,
        conn: &impl ConnectionTrait,
        proposed: &Proposed<'_>,
    ) -> Result<Option<FieldError>, DbErr> {
        let Some(FieldValue::Uuid(officer_id)) = proposed.values.get("officer_id") else { return Ok(None) };
        if proposed.current.is_some_and(|r| r.text("officer_id") == Some(officer_id.as_str()))
            || *officer_id == self.caller.user_id
        {
            return Ok(None);
        }
        let assigned = count(
            conn,
            "SELECT COUNT(*) FROM assignment WHERE officer_id = ? AND household_id = ? AND end_date IS NULL",
            vec![officer_id.as_str().into(), proposed.household_id.into()],
        )
        .await?;
        Ok((assigned == 0).then(|| FieldError::new("officer_id", ErrorCode::InvalidOfficer)))
    }
}

/// The household an ID number is registered in, with its village.
#[derive(FromQueryResult)]
struct RegisteredRow {
    household_id: String,
    region_code: String,
}

/// The identity fields as they will be stored: what the change sends, else what the
/// record has. A phone that sends only `id_type = none` on a member with a number is told
/// to clear the number, not left with a member the lists cannot place.
fn member_identity(proposed: &Proposed<'_>) -> Option<FieldError> {
    let stored = |name: &str| -> Option<&str> {
        let value = match proposed.values.get(name) {
            Some(value) => value,
            None => proposed.current.map_or(&FieldValue::Null, |r| r.value(name)),
        };
        match value {
            FieldValue::Text(s) => Some(s.as_str()),
            _ => None,
        }
    };
    validate::member_identity(stored("id_type"), stored("id_number"), stored("no_id_reason"))
        .err()
        .map(|(field, code)| FieldError::new(field, code))
}

async fn one_income_per_year(
    conn: &impl ConnectionTrait,
    proposed: &Proposed<'_>,
) -> Result<Option<FieldError>, DbErr> {
    let Some(FieldValue::Int(year)) = proposed.values.get("year") else { return Ok(None) };
    let other = count(
        conn,
        "SELECT COUNT(*) FROM income_record WHERE household_id = ? AND year = ? AND id <> ?",
        vec![proposed.household_id.into(), (*year).into(), proposed.id.into()],
    )
    .await?;
    Ok((other > 0).then(|| FieldError::new("year", ErrorCode::DuplicateYear)))
}

async fn task_plan_in_household(
    conn: &impl ConnectionTrait,
    proposed: &Proposed<'_>,
) -> Result<Option<FieldError>, DbErr> {
    let Some(FieldValue::Uuid(plan_id)) = proposed.values.get("plan_id") else { return Ok(None) };
    let same = count(
        conn,
        "SELECT COUNT(*) FROM help_plan WHERE id = ? AND household_id = ?",
        vec![plan_id.as_str().into(), proposed.household_id.into()],
    )
    .await?;
    Ok((same == 0).then(|| FieldError::new("plan_id", ErrorCode::RecordNotFound)))
}

/// Out-of-scope ID number hits: counted for the rate limit and audited. Written with
/// the rejected change set's receipt, so they outlive its rollback.
pub async fn record_id_lookups(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    changeset: &ChangeSet,
    lookups: &[IdLookup],
) -> Result<(), DbErr> {
    if lookups.is_empty() {
        return Ok(());
    }
    let actor = Actor::of(caller);
    let mut entries = Vec::new();
    for lookup in lookups {
        conn.execute_raw(sql(
            conn.get_database_backend(),
            "INSERT INTO id_number_lookup (user_id, at, household_id, other_household_id) VALUES (?, ?, ?, ?)",
            vec![
                caller.user_id.as_str().into(),
                Utc::now().into(),
                lookup.household_id.as_str().into(),
                lookup.other_household_id.as_str().into(),
            ],
        ))
        .await?;
        let mut entry = actor.audit_household("id_number_lookup", "member", &lookup.member_id, &lookup.household_id);
        entry.changeset_id = Some(changeset.id.to_string());
        entry.field = Some("id_number".into());
        entry.new_value = Some(validate::mask_id_number(&lookup.id_number));
        entry.note = Some(format!(
            "ID number already registered in household {} outside the pusher's scope; answered needs_review",
            lookup.other_household_id
        ));
        entries.push(entry);
    }
    tracing::warn!(user = %caller.user_id, hits = lookups.len(), "ID numbers registered outside the pusher's scope");
    audit::record(conn, &entries).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use jingzhun_mobile_api::fields::{self, ENTITIES};

    #[test]
    fn every_catalogued_entity_has_its_own_arm() {
        let known = [
            "household",
            "member",
            "income",
            "help_measure",
            "help_plan",
            "plan_task",
            "visit_log",
            "case",
            "vehicle",
            "urban_property",
            "business",
        ];
        for entity in ENTITIES {
            assert!(known.contains(&entity.name), "{}: add its rules to entity_rules::of", entity.name);
        }
    }

    #[test]
    fn filled_fields_are_read_only_to_phones_and_catalogued() {
        for entity in ENTITIES {
            for (name, _) in of(entity).filled_on_create {
                let field = entity.field(name).unwrap_or_else(|| panic!("{}.{name} is catalogued", entity.name));
                assert_eq!(field.policy, fields::Policy::ReadOnly, "{}.{name}", entity.name);
            }
            if let Some(name) = of(entity).head_field {
                assert!(entity.field(name).is_some(), "{}.{name}", entity.name);
            }
        }
    }
}
