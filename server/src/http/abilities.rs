//! `GET /api/v1/me/abilities`: what the signed-in caller may do in the console's areas
//! that have no record to carry `actions` (a case, a notice and a household answer
//! their own): import a department list, edit the message templates, which reports for
//! which regions. Each answer is the very function the service refuses by, so the
//! console shows what the server will accept and keeps no rule of its own.
//!
//! What this must never do: decide anything itself (a rule written here would be a
//! second copy that drifts), or stand in for the service's own check on the write.

use crate::auth::Caller;
use crate::comparison;
use crate::notifications::templates;
use crate::reports::{self, ReportName};
use crate::state::AppState;
use axum::Json;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(abilities))
}

/// A report the caller may have.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportAbility {
    /// As in `/api/v1/reports/{name}`.
    pub name: String,
    /// The title the file prints.
    pub title: String,
    /// The downloaded file shows ID and phone numbers whole and is audited as a `print`
    /// on each household (the paper forms copied into the national system); the
    /// preview masks them and audits nothing.
    pub shows_whole_numbers: bool,
}

/// What the caller may do, by the services' own rules.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AbilitiesBody {
    /// 数据比对: may upload a department list (`POST /api/v1/comparisons`).
    pub may_import_comparison: bool,
    /// 通知设置: may change a message template (`PUT /api/v1/notification-templates/…`):
    /// the root administrator only, the templates being deployment-wide.
    pub may_edit_templates: bool,
    /// 统计报表: the regions of the caller's reporting roles, the default first; a report's
    /// unit is one of them or a region below it. Empty: no reports.
    pub report_regions: Vec<String>,
    /// The reports the caller may have, in the server's order; empty without a reporting role.
    pub reports: Vec<ReportAbility>,
}

/// What the caller may do in the areas whose screens have no record to ask: the console
/// shows or hides its forms by this; every write is judged again by its service.
#[utoipa::path(get, path = "/api/v1/me/abilities", tag = "admin",
    responses((status = 200, body = AbilitiesBody), (status = 401)),
    security(("bearer" = [])))]
pub async fn abilities(caller: Caller) -> Json<AbilitiesBody> {
    let report_regions = reports::report_regions(&caller);
    let reports = if report_regions.is_empty() {
        Vec::new()
    } else {
        ReportName::ALL
            .into_iter()
            .map(|n| ReportAbility {
                name: n.code().to_owned(),
                title: n.title().to_owned(),
                shows_whole_numbers: n.shows_whole_numbers(),
            })
            .collect()
    };
    Json(AbilitiesBody {
        may_import_comparison: comparison::import::may_import(&caller),
        may_edit_templates: templates::may_edit(&caller),
        report_regions,
        reports,
    })
}
