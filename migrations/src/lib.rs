//! Schema migrations of Jingzhun: one backend-neutral set for SQLite and PostgreSQL,
//! applied on start.
//!
//! Never edit a migration once it has landed: add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_registry;
mod m20261122_000002_sync;
mod m20261122_000003_procedures;
mod m20261122_000004_household_record;
mod m20261122_000005_comparison;
mod m20261122_000006_help_plans;
mod m20261122_000007_outside_system;
mod m20261122_000008_thresholds;
mod m20261122_000009_rule_policy;
mod m20261122_000010_region_population;
mod m20261122_000011_natural_village;
mod m20261122_000012_notices;
mod m20261122_000013_notifications;
mod m20261122_000014_campaigns;
mod m20261206_000015_authority;
mod m20261206_000016_sync_trust;
mod m20261206_000018_uploads;
mod m20261206_000019_deployment_root;
mod m20261206_000020_register_import;
mod m20261206_000021_exit_facts;
mod m20261206_000022_import_jobs;
mod m20261206_000023_household_facts;
mod m20261206_000024_edge_list;
mod m20261206_000025_member_identity;
mod m20261206_000026_verification_group;
mod m20261206_000027_officer_profile;
mod m20261206_000028_village_exit;
mod m20261206_000029_console_session;
mod m20261207_000033_event_preferences;
mod m20261207_000035_member_id_number;
mod m20261207_000036_notice_photo;
mod m20261207_000037_assignment_active;
mod m20261208_000038_attachment_alias;
mod m20261209_000039_change_log_commit_order;
mod m20261209_000040_change_log_scope;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_registry::Migration),
            Box::new(m20261122_000002_sync::Migration),
            Box::new(m20261122_000003_procedures::Migration),
            Box::new(m20261122_000004_household_record::Migration),
            Box::new(m20261122_000005_comparison::Migration),
            Box::new(m20261122_000006_help_plans::Migration),
            Box::new(m20261122_000007_outside_system::Migration),
            Box::new(m20261122_000008_thresholds::Migration),
            Box::new(m20261122_000009_rule_policy::Migration),
            Box::new(m20261122_000010_region_population::Migration),
            Box::new(m20261122_000011_natural_village::Migration),
            Box::new(m20261122_000012_notices::Migration),
            Box::new(m20261122_000013_notifications::Migration),
            Box::new(m20261122_000014_campaigns::Migration),
            Box::new(m20261206_000015_authority::Migration),
            Box::new(m20261206_000016_sync_trust::Migration),
            Box::new(m20261206_000018_uploads::Migration),
            Box::new(m20261206_000019_deployment_root::Migration),
            Box::new(m20261206_000020_register_import::Migration),
            Box::new(m20261206_000021_exit_facts::Migration),
            Box::new(m20261206_000022_import_jobs::Migration),
            Box::new(m20261206_000023_household_facts::Migration),
            Box::new(m20261206_000024_edge_list::Migration),
            Box::new(m20261206_000025_member_identity::Migration),
            Box::new(m20261206_000026_verification_group::Migration),
            Box::new(m20261206_000027_officer_profile::Migration),
            Box::new(m20261206_000028_village_exit::Migration),
            Box::new(m20261206_000029_console_session::Migration),
            Box::new(m20261207_000033_event_preferences::Migration),
            Box::new(m20261207_000035_member_id_number::Migration),
            Box::new(m20261207_000036_notice_photo::Migration),
            Box::new(m20261207_000037_assignment_active::Migration),
            Box::new(m20261208_000038_attachment_alias::Migration),
            Box::new(m20261209_000039_change_log_commit_order::Migration),
            Box::new(m20261209_000040_change_log_scope::Migration),
        ]
    }
}
