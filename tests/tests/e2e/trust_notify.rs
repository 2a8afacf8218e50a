//! Issue 9 (trust), notifications and public notices: provider texts masked in the
//! delivery log, WeCom's "system busy" retried, start-ups safe to race, per-number
//! limits that hold across dispatchers, test sends only to people the caller manages,
//! objection floods capped and dismissed in bulk, one `objection_received` per notice
//! and hour, security headers on the public pages, and drafts kept from the levels below.

use jingzhun::Config;
use uuid::Uuid;

use crate::harness::Backend;
use crate::on_both_backends;

on_both_backends!(two_servers_starting_together_on_a_fresh_database_both_start,);

/// A fresh, empty database for `backend`: its URL and a way to drop it.
async fn fresh_database(backend: Backend) -> (String, impl FnOnce()) {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("jingzhun-race-{}.db", Uuid::new_v4().simple()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let cleanup = move || {
                for suffix in ["", "-wal", "-shm", ".startup-lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            };
            (url, Box::new(cleanup) as Box<dyn FnOnce()>)
        }
        Backend::Postgres => {
            use sea_orm::{ConnectionTrait, Database};
            let admin_url = std::env::var("JINGZHUN_TEST_POSTGRES_URL").expect("JINGZHUN_TEST_POSTGRES_URL is not set");
            let name = format!("jz_race_{}", Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect as admin");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
            let _ = admin.close().await;
            let url = match admin_url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => format!("{admin_url}/{name}"),
            };
            let cleanup = move || {
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(async {
                            if let Ok(admin) = Database::connect(&admin_url).await {
                                let _ = admin
                                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                    .await;
                                let _ = admin.close().await;
                            }
                        });
                    }
                })
                .join();
            };
            (url, Box::new(cleanup) as Box<dyn FnOnce()>)
        }
    }
}

fn config_for(url: &str) -> Config {
    let mut config = Config::defaults().expect("defaults");
    config.database_url = url.to_owned();
    config.max_connections = 5;
    config.bootstrap.admin_password = crate::harness::ADMIN_PASSWORD.into();
    config.notify.dispatcher_enabled = false;
    config
}

async fn two_servers_starting_together_on_a_fresh_database_both_start(backend: Backend) {
    // Several rounds: the race is between migrations, the first administrator and every
    // seeded row (templates, thresholds, rule variants, the form key).
    for round in 0..3 {
        let (url, cleanup) = fresh_database(backend).await;
        let (first, second) = tokio::join!(jingzhun::prepare(config_for(&url)), jingzhun::prepare(config_for(&url)));
        let (first, second) = (first.map_err(|e| format!("{e:#}")), second.map_err(|e| format!("{e:#}")));
        assert!(first.is_ok() && second.is_ok(), "round {round}: {:?} / {:?}", first.err(), second.err());
        let (first, second) = (first.expect("first"), second.expect("second"));
        // One administrator, one set of seeded rows.
        let admins = jingzhun::db::count(&first.db.conn, "SELECT COUNT(*) FROM app_user", vec![]).await.expect("count");
        assert_eq!(admins, 1);
        let policies =
            jingzhun::db::count(&second.db.conn, "SELECT COUNT(*) FROM rule_policy", vec![]).await.expect("count");
        assert_eq!(policies, 4);
        let _ = first.db.conn.close().await;
        let _ = second.db.conn.close().await;
        cleanup();
    }
}
