//! Data comparison (C8; 000 §四(三), 002 §三(四) and its annex of department duties):
//! county staff import department lists, rows are matched by ID number to members, and
//! each match becomes a lead (疑点) on the household with the removal reason it points to.
//!
//! A match is never applied to a household by itself: a person confirms or dismisses
//! each lead with a field note, and only a confirmed lead records what it found (the
//! possession, or the member's post or death), through `household_facts`. A bad file
//! changes nothing.

pub mod import;
pub mod parse;

use serde::{Deserialize, Serialize};

/// The department lists the county compares against, and which 002 §二(二) removal
/// reason a match points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 公安交警: motor vehicles (reason 3, over 30,000 yuan).
    Vehicles,
    /// 住建 / 国土: houses and shops in town (reason 4).
    UrbanProperty,
    /// 市场监管: business registrations (reason 6).
    Business,
    /// 编办 / 财政: staff paid from public funds (reason 1).
    PublicServants,
    /// 组织部: serving village cadres (reason 2).
    VillageCadres,
    /// 公安 / 民政: deaths (reason 9, about the person: the lead names the member, and a
    /// removal opened on it names and removes that member, never the household).
    Deaths,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Vehicles,
        Source::UrbanProperty,
        Source::Business,
        Source::PublicServants,
        Source::VillageCadres,
        Source::Deaths,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Source::Vehicles => "vehicles",
            Source::UrbanProperty => "urban_property",
            Source::Business => "business",
            Source::PublicServants => "public_servants",
            Source::VillageCadres => "village_cadres",
            Source::Deaths => "deaths",
        }
    }

    pub fn parse(code: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The removal reason (002 §二(二); code table `removal_reason`) a match raises.
    pub fn reason(self) -> &'static str {
        match self {
            Source::Vehicles => "vehicle",
            Source::UrbanProperty => "urban_property",
            Source::Business => "registered_business",
            Source::PublicServants => "public_servant",
            Source::VillageCadres => "village_cadre",
            Source::Deaths => "dead_missing_or_separate",
        }
    }

    /// Whether acquiring it after registration, as an exit measure, makes it a normal
    /// exit rather than a mis-registration (002 §二(二) 1–4, 6). Deaths have no such case.
    pub fn has_exit_measure_exception(self) -> bool {
        !matches!(self, Source::Deaths)
    }
}

/// 002 §二(二)3: a vehicle counts from 30,000 yuan.
pub const VEHICLE_MIN_YUAN: f64 = 30_000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_points_to_a_removal_reason_of_the_code_table() {
        for source in Source::ALL {
            assert!(jingzhun_mobile_api::codes::REMOVAL_REASON.contains(source.reason()), "{source:?}");
        }
    }
}
