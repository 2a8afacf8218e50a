//! A caller asking for a report: which roles get reports and for which region, and the
//! limits one report is made within (a slot of the reports gate, a cap on households;
//! M9), from the region's lookup to the finished file.
//!
//! What this must never do: make a report of a region the caller does not read, make
//! one for an officer, start one past the cap, hand out a paper form with whole ID
//! numbers (`ReportName::shows_whole_numbers`) before its audit entries are written, or
//! write `print` entries for a preview, which masks the numbers and prints nothing.
//! The slot is held until the file is written, because laying out and writing a large
//! XLSX is the heaviest part.

use super::{Body, Numbers, Period, Region, Report, ReportName, build_with, paper, queries, sheet, write};
use crate::audit;
use crate::auth::{Caller, Grant, Role};
use crate::db::Db;
use crate::error::{Kind, Refusal};
use crate::gate::Gate;
use crate::records::scope;
use crate::registry::Actor;
use jingzhun_mobile_api::errors::{ErrorCode, FieldError};

/// The roles reports are for (DESIGN §1: county office, township, village team, supervisor).
const REPORT_ROLES: [Role; 5] = [Role::Village, Role::Township, Role::County, Role::Supervisor, Role::Admin];

/// The region a caller may report on. Only [`unit_for`] makes one, so a report is never
/// made for a region nobody checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportUnit(String);

impl ReportUnit {
    pub fn code(&self) -> &str {
        &self.0
    }
}

fn reporting_grants(caller: &Caller) -> Vec<&Grant> {
    caller.grants.iter().filter(|g| REPORT_ROLES.contains(&g.role)).collect()
}

/// The regions of the caller's reporting roles, first the default one: a report's unit
/// is one of them or a region below it that the caller reads ([`unit_for`]). Empty for
/// a caller who gets no reports. The console offers its units from this.
pub fn report_regions(caller: &Caller) -> Vec<String> {
    let mut regions: Vec<String> = Vec::new();
    for grant in reporting_grants(caller) {
        if !regions.contains(&grant.region_code) {
            regions.push(grant.region_code.clone());
        }
    }
    regions
}

/// The region the caller asks for (12 digits), or by default the region of their first
/// reporting role; refused unless they hold a reporting role over it and read it.
pub fn unit_for(caller: &Caller, requested: Option<&str>) -> Result<ReportUnit, Refusal> {
    let grants = reporting_grants(caller);
    let Some(first) = grants.first() else { return Err(Refusal::forbidden()) };
    let region_code = requested.map(str::trim).unwrap_or(&first.region_code).to_owned();
    if region_code.len() != 12 || !region_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::invalid(ErrorCode::InvalidRegion).on_field("region_code"));
    }
    if !caller.reads_region(&region_code) || !grants.iter().any(|g| region_code.starts_with(&g.prefix)) {
        return Err(Refusal::forbidden());
    }
    Ok(ReportUnit(region_code))
}

/// The file a report goes out as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    /// UTF-8 with a BOM, so Excel opens the Chinese.
    Csv,
    Json,
}

impl Format {
    pub fn parse(code: &str) -> Option<Format> {
        match code {
            "xlsx" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// What some reports take besides region and period.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// 对照表: only these households (ids), each of the unit and in the caller's scope.
    pub households: Option<Vec<String>>,
    /// Spot check: the seed of the draw.
    pub seed: Option<u64>,
}

/// What bounds one report.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// Few whole-region reports at once: each holds a connection and its rows in memory.
    pub gate: &'a Gate,
    /// `[reports] max_households`.
    pub max_households: u64,
}

/// A finished report.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub content_type: &'static str,
    /// The `Content-Disposition` of a download (title, unit and period, in Chinese with
    /// an ASCII fallback); none for JSON, which is read, not saved.
    pub disposition: Option<String>,
    pub bytes: Vec<u8>,
}

/// A paper form with whole ID numbers is a whole-record view of each household on it:
/// one `print` entry per household, in the household's trail, before the file goes out.
/// A masked one (the preview) is a list like any other and writes nothing.
async fn audit_paper(db: &Db, caller: &Caller, report: &Report) -> Result<(), Refusal> {
    let Body::Paper(paper) = &report.body else { return Ok(()) };
    if report.numbers != Numbers::Whole || !report.name.shows_whole_numbers() || paper.households.is_empty() {
        return Ok(());
    }
    let actor = Actor::of(caller);
    let entries: Vec<_> = paper
        .households
        .iter()
        .map(|id| {
            let mut entry = actor.audit("print", "household", id);
            entry.note = Some(format!("{}（{}）", report.title(), report.period.label()));
            entry
        })
        .collect();
    let txn = db.begin_write().await?;
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    Ok(())
}

/// Every report slot stayed taken.
pub fn busy() -> Refusal {
    Refusal::new(Kind::Busy, ErrorCode::Busy)
}

/// More households than one report may cover: `report_too_large`, saying how many.
pub fn too_large(households: u64, limit: u64) -> Refusal {
    let mut detail = FieldError::new("region_code", ErrorCode::ReportTooLarge);
    detail.message_en = format!("{households} households; at most {limit} in one report");
    Refusal::new(Kind::Rejected, ErrorCode::ReportTooLarge).with_fields(vec![detail])
}

/// Builds the report `name` of `unit` over `period` for the caller, within `limits`,
/// and writes the audit entries of a paper form with whole numbers: the caller's scope
/// condition keeps it to households they read. The slot is held while the caller lays
/// the report out, so it is handed back with the report.
#[allow(clippy::too_many_arguments)]
async fn report_for(
    db: &Db,
    caller: &Caller,
    name: ReportName,
    unit: ReportUnit,
    period: Period,
    options: &Options,
    limits: Limits<'_>,
    numbers: Numbers,
) -> Result<(Report, tokio::sync::OwnedSemaphorePermit), Refusal> {
    let conn = &db.conn;
    let unit: Region = queries::region(conn, unit.code()).await?.ok_or_else(Refusal::not_found)?;
    let scope = scope::households_condition(caller, "h.id", "h.region_code");
    let slot = limits.gate.enter().await.map_err(|_| busy())?;
    let households = match (&options.households, name) {
        (Some(ids), ReportName::HouseholdForm) => ids.len() as u64,
        _ => queries::count_households(conn, &unit, &scope).await?,
    };
    if households > limits.max_households {
        return Err(too_large(households, limits.max_households));
    }
    if name == ReportName::HouseholdForm && households > paper::FORM_MAX_HOUSEHOLDS {
        return Err(too_large(households, paper::FORM_MAX_HOUSEHOLDS));
    }
    let report = build_with(conn, name, unit, period, scope, options, numbers).await?;
    if let (Some(wanted), Body::Paper(paper)) = (&options.households, &report.body) {
        // A household asked for by id that is not on the form is one the caller does not
        // read, or not of this region: refused, never silently left out.
        if name == ReportName::HouseholdForm && wanted.iter().any(|id| !paper.households.contains(id)) {
            return Err(Refusal::out_of_scope());
        }
    }
    audit_paper(db, caller, &report).await?;
    Ok((report, slot))
}

/// How many rows of a laid-out report the console's preview shows; the file has them all.
pub const PREVIEW_MAX_ROWS: usize = 500;

/// The report laid out as its file would be (the same cells and merges), for the
/// console to preview, cut after [`PREVIEW_MAX_ROWS`] rows. A paper form's ID and phone
/// numbers are masked and nothing is audited: only the file is a print.
pub async fn report_sheet_for(
    db: &Db,
    caller: &Caller,
    name: ReportName,
    unit: ReportUnit,
    period: Period,
    options: &Options,
    limits: Limits<'_>,
) -> Result<sheet::SheetView, Refusal> {
    let (report, _slot) = report_for(db, caller, name, unit, period, options, limits, Numbers::Masked).await?;
    Ok(sheet::SheetView::of(&report, &sheet::layout(&report), PREVIEW_MAX_ROWS))
}

/// Makes the report `name` of `unit` over `period` for the caller, within `limits`, as
/// a file in `format`: a paper form with its numbers whole, each household audited.
#[allow(clippy::too_many_arguments)]
pub async fn report_file_for(
    db: &Db,
    caller: &Caller,
    name: ReportName,
    unit: ReportUnit,
    period: Period,
    format: Format,
    options: &Options,
    limits: Limits<'_>,
) -> Result<ReportFile, Refusal> {
    let (report, _slot) = report_for(db, caller, name, unit, period, options, limits, Numbers::Whole).await?;
    let download = |extension: &str, content_type: &'static str, bytes: Vec<u8>| ReportFile {
        content_type,
        disposition: Some(write::content_disposition(&report.file_name(extension), &report.ascii_file_name(extension))),
        bytes,
    };
    Ok(match format {
        Format::Json => ReportFile {
            content_type: "application/json",
            disposition: None,
            bytes: serde_json::to_vec(&report.to_json()).map_err(Refusal::internal)?,
        },
        Format::Csv => {
            let bytes = write::csv(&sheet::layout(&report)).map_err(Refusal::internal)?;
            download("csv", write::CSV_CONTENT_TYPE, bytes)
        }
        Format::Xlsx => {
            let bytes = write::xlsx(&sheet::layout(&report)).map_err(Refusal::internal)?;
            download("xlsx", write::XLSX_CONTENT_TYPE, bytes)
        }
    })
}
