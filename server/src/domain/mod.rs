//! The policy rules (DESIGN §4, R1–R9) as pure functions over a snapshot of facts.
//!
//! Every rule cites the seed document and section its wording comes from
//! (`../shared/seeds/`, quoted by file number: 000 Jilin 2017, 001 Fujian 2018,
//! 002 Kunming Panlong 2017, 003 Shanxi 2017, 004 Lianyungang 2019).
//!
//! What this module must never do: touch the database, the network, the clock or any
//! other I/O. Facts come in as plain data ([`facts::HouseholdFacts`]); thresholds and
//! regional variants come in as data ([`thresholds::Threshold`], [`policy::RulePolicy`]);
//! dates such as "today" are arguments. A fact that was not recorded is `None` and is
//! never read as "secure" or "fine": rules answer [`Tri::Unknown`] or name what is
//! missing instead of guessing. Money is whole fen (`i64`, yuan × 100).

pub mod edge;
pub mod eligibility;
pub mod error;
pub mod exit;
pub mod facts;
pub mod income;
pub mod main_measure;
pub mod member_change;
pub mod policy;
pub mod quality;
pub mod removal;
pub mod thresholds;
pub mod village;

#[cfg(test)]
mod seed_examples;

pub use error::RuleError;
pub use facts::{Guarantee, Guarantees, HouseholdFacts, IncomeFacts, Kind, MemberFacts, Standard};
pub use policy::RulePolicy;
pub use thresholds::Threshold;

use serde::Serialize;

/// A three-valued answer: a rule over facts that may be unrecorded.
///
/// `Unknown` means "not recorded", which is never the same as `Yes` or `No`
/// (an unrecorded guarantee is not a met guarantee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    pub fn from_bool(b: bool) -> Self {
        if b { Tri::Yes } else { Tri::No }
    }

    pub fn from_option(b: Option<bool>) -> Self {
        b.map_or(Tri::Unknown, Tri::from_bool)
    }

    /// Kleene conjunction: `No` wins over `Unknown`.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Unknown,
        }
    }

    /// Kleene disjunction: `Yes` wins over `Unknown`.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Unknown,
        }
    }

    /// Any of the answers is `Yes`; `Unknown` if none is but one is unknown.
    pub fn any(answers: impl IntoIterator<Item = Tri>) -> Tri {
        answers.into_iter().fold(Tri::No, Tri::or)
    }

    /// Every answer is `Yes`; `No` as soon as one is `No`.
    pub fn all(answers: impl IntoIterator<Item = Tri>) -> Tri {
        answers.into_iter().fold(Tri::Yes, Tri::and)
    }

    pub fn is_yes(self) -> bool {
        self == Tri::Yes
    }
}

/// Negation: unknown stays unknown.
impl std::ops::Not for Tri {
    type Output = Tri;

    fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tri::{self, No, Unknown, Yes};

    #[test]
    fn three_valued_logic_never_turns_unknown_into_yes() {
        let table = [
            (Yes, Yes, Yes, Yes),
            (Yes, No, No, Yes),
            (Yes, Unknown, Unknown, Yes),
            (No, No, No, No),
            (No, Unknown, No, Unknown),
            (Unknown, Unknown, Unknown, Unknown),
        ];
        for (a, b, and, or) in table {
            assert_eq!(a.and(b), and, "{a:?} and {b:?}");
            assert_eq!(b.and(a), and, "{b:?} and {a:?}");
            assert_eq!(a.or(b), or, "{a:?} or {b:?}");
            assert_eq!(b.or(a), or, "{b:?} or {a:?}");
        }
        assert_eq!(Tri::any([]), No);
        assert_eq!(Tri::all([]), Yes);
        assert_eq!(!Tri::from_option(None), Unknown);
        assert_eq!(!Yes, No);
    }
}
