//! End-to-end tests: a real server on a random port, on SQLite and on PostgreSQL,
//! driven through the phone client and the admin API. One test binary of modules,
//! because every extra binary costs link time.

mod browser;
mod harness;
mod standins;

mod abilities;
mod accounts;
mod assignments_moved;
mod attachments;
mod campaigns;
mod comparison;
mod concurrency;
mod console;
mod console_access;
mod console_api;
mod console_household;
mod console_notices;
mod console_people;
mod console_reports;
mod console_supervision;
mod console_sync;
mod county_year;
mod edge_households;
mod exit_facts;
mod facts_admin;
mod household_record;
mod imports;
mod members_without_id;
mod natural_villages;
mod notice_postings;
mod notices;
mod notifications;
mod objections_investigated;
mod office_lists;
mod ops;
mod outbox;
mod paper;
mod plans;
mod procedures;
mod record_views;
mod recorded_facts;
mod rejected_masked;
mod removals;
mod reports;
mod rules;
mod sync_pull;
mod sync_push;
mod trust_authority;
mod trust_input;
mod trust_notify;
mod trust_sync;
mod trust_uploads;
mod users_listed;
mod verifier_guard;
mod village_exit;
