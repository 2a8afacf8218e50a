//! `TestApp`: a real server on a random port over a fresh SQLite file or a fresh
//! PostgreSQL database, with real migrations, dropped when the test ends.
//!
//! PostgreSQL tests need `JINGZHUN_TEST_POSTGRES_URL` (a role that may create
//! databases, e.g. `postgres://jingzhun:jingzhun@127.0.0.1:5432/postgres`); the
//! README's test command sets it up. Without it they fail rather than pass unseen.

use jingzhun::Config;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::{Change, ChangeSet, Op, PushRequest, PushResponse};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

pub const ADMIN_PASSWORD: &str = "admin-pass-1234";
pub const PASSWORD: &str = "field-pass-1234";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test against SQLite and PostgreSQL, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::harness::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::harness::Backend::Postgres).await }
            )*
        }
    };
}

enum Database {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub base: String,
    /// The server's own database, for the few checks no API shows.
    pub database_url: String,
    pub admin: Admin,
    /// The server's clock: tests move time forward with it instead of sleeping.
    pub clock: jingzhun::Clock,
    /// The server's state, for tests that drive background work (dispatch, schedules) directly.
    pub state: jingzhun::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    database: Database,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a config tweak (token lifetime, limits).
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::defaults().expect("default config");
        let database = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("jingzhun-test-{}.db", Uuid::new_v4().simple()));
                std::fs::copy(sqlite_template().await, &path).expect("copy the migrated SQLite template");
                config.database_url = format!("sqlite://{}?mode=rwc", path.display());
                Database::Sqlite(path)
            }
            Backend::Postgres => {
                let admin_url = std::env::var("JINGZHUN_TEST_POSTGRES_URL").expect(
                    "JINGZHUN_TEST_POSTGRES_URL is not set: run the tests with scripts/test (see README), which starts PostgreSQL",
                );
                let name = format!("jz_test_{}", Uuid::new_v4().simple());
                let template = postgres_template(&admin_url).await;
                postgres_admin(&admin_url, &format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
                config.database_url = replace_database(&admin_url, &name);
                config.max_connections = 10;
                Database::Postgres { admin_url, name }
            }
        };
        config.bootstrap.admin_password = ADMIN_PASSWORD.into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        // QR codes and notice links point at this server.
        config.notices.public_url = base.clone();
        tweak(&mut config);
        let database_url = config.database_url.clone();
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn,jingzhun=info").try_init();
        let state = jingzhun::prepare(config).await.expect("server prepares");
        let clock = state.clock.clone();
        let served = state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            jingzhun::serve_state(served, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        let admin = Admin::login(&base, "admin", ADMIN_PASSWORD).await;
        TestApp { base, database_url, admin, clock, state, shutdown: Some(tx), server: Some(server), database }
    }

    /// Runs a statement on the server's database directly (to age a token, say).
    pub async fn execute_sql(&self, statement: &str) {
        use sea_orm::{ConnectionTrait, Database};
        let conn = Database::connect(&self.database_url).await.expect("connect");
        conn.execute_unprepared(statement).await.expect("statement");
        let _ = conn.close().await;
    }

    /// The first column of a `SELECT COUNT(*) …` on the server's database, for the few
    /// checks no API shows (nothing left behind, a row written).
    pub async fn count(&self, query: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = &self.state.db.conn;
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), query.to_owned()))
            .await
            .expect("query")
            .expect("a row");
        row.try_get_by_index(0).expect("count")
    }

    /// A phone client logged in as `username` on `device_id`.
    pub async fn phone(&self, username: &str, device_id: &str) -> Client {
        let mut client = Client::new(&self.base);
        client.login(username, PASSWORD, device_id, "test phone").await.expect("login");
        client
    }

    /// Stops the server for good (the database stays until the drop): nothing answers on
    /// `base` any more, for tests of what a client does with no server at all. Open
    /// connections are closed gracefully, then whatever is left is aborted.
    pub async fn stop_serving(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), server).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        match &self.database {
            Database::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Database::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a separate thread may block.
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(postgres_admin(
                            &admin_url,
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        ));
                    }
                })
                .join();
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{url}/{name}"),
    }
}

// The migrated schema, made once per test process: each test's database is a copy of it
// (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL), a fraction of the
// cost of running every migration again for each of the suite's tests. The server still
// runs its migrations at start, finding them applied, as it does on every restart.

static SQLITE_TEMPLATE: tokio::sync::OnceCell<std::path::PathBuf> = tokio::sync::OnceCell::const_new();

async fn sqlite_template() -> &'static std::path::Path {
    SQLITE_TEMPLATE
        .get_or_init(|| async {
            // Templates of runs that have ended go (the name holds the test process's id).
            for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("jingzhun-test-template-").and_then(|n| n.split('.').next())
                    && !std::path::Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            let path = std::env::temp_dir().join(format!("jingzhun-test-template-{}.db", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let db = jingzhun::db::Db::connect(&format!("sqlite://{}?mode=rwc", path.display()), 1)
                .await
                .expect("create the SQLite template");
            db.migrate().await.expect("migrate the template");
            // The migrations' pages go from the log (WAL) into the file, which is then
            // whole: copied alone, it would miss them. Closing our connections would not
            // do it (the writer's and the checkpoint thread's stay open), and a checkpoint
            // already running answers busy at once.
            use sea_orm::{ConnectionTrait, Statement};
            let truncate = Statement::from_string(db.backend(), "PRAGMA wal_checkpoint(TRUNCATE)");
            loop {
                let row = db.conn.query_one_raw(truncate.clone()).await.expect("checkpoint").expect("a row");
                if row.try_get_by_index::<i64>(0).expect("busy") == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let _ = db.conn.close().await;
            path
        })
        .await
}

static POSTGRES_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn postgres_template(admin_url: &str) -> String {
    POSTGRES_TEMPLATE
        .get_or_init(|| async {
            use sea_orm::{ConnectionTrait, Database, Statement};
            let conn = Database::connect(admin_url).await.expect("connect to PostgreSQL as admin");
            // Named by the test process, so a run never copies another build's schema; the
            // templates of runs that have ended are dropped here (the cluster is local:
            // scripts/postgres.sh starts it).
            let rows = conn
                .query_all_raw(Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT datname FROM pg_database WHERE datname LIKE 'jz\\_tpl\\_%'",
                ))
                .await
                .expect("list templates");
            for row in rows {
                let name: String = row.try_get("", "datname").expect("datname");
                let pid = name.trim_start_matches("jz_tpl_");
                if !std::path::Path::new("/proc").join(pid).exists() {
                    let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            }
            let name = format!("jz_tpl_{}", std::process::id());
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .expect("drop template");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create template");
            let _ = conn.close().await;
            let db =
                jingzhun::db::Db::connect(&replace_database(admin_url, &name), 1).await.expect("connect to template");
            db.migrate().await.expect("migrate the template");
            // A template may not be copied while anyone is connected to it.
            let _ = db.conn.close().await;
            name
        })
        .await
        .clone()
}

async fn postgres_admin(admin_url: &str, statement: &str) {
    use sea_orm::{ConnectionTrait, Database};
    let conn = Database::connect(admin_url).await.expect("connect to PostgreSQL as admin");
    conn.execute_unprepared(statement).await.expect("admin statement");
    let _ = conn.close().await;
}

/// The administration API, signed in as a user.
#[derive(Clone)]
pub struct Admin {
    pub base: String,
    token: String,
    http: reqwest::Client,
}

impl Admin {
    pub async fn login(base: &str, username: &str, password: &str) -> Admin {
        let http = reqwest::Client::new();
        let body = json!({"username": username, "password": password, "device_id": format!("web-{}", Uuid::new_v4())});
        let res = http.post(format!("{base}/api/v1/auth/login")).json(&body).send().await.expect("login request");
        assert_eq!(res.status(), 200, "login {username}");
        let value: Value = res.json().await.expect("login body");
        Admin { base: base.to_owned(), token: value["token"].as_str().expect("token").to_owned(), http }
    }

    /// Any call with an optional JSON body: the status and the JSON answer (null if none).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    pub async fn ok_post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert!((200..300).contains(&status), "POST {path} answered {status}: {value}");
        value
    }

    pub async fn ok_get(&self, path: &str) -> Value {
        let (status, value) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {value}");
        value
    }

    pub async fn household(&self, id: Uuid) -> Value {
        self.ok_get(&format!("/api/v1/households/{id}")).await
    }
}

pub const COUNTY: &str = "320703000000";
pub const TOWNSHIP: &str = "320703001000";
pub const VILLAGE_1: &str = "320703001001";
pub const VILLAGE_2: &str = "320703001002";

/// A small county: one township with two villages, two officers, a village team, a
/// supervisor, a county officer.
pub struct World {
    pub officer_b: String,
}

pub async fn seed(app: &TestApp) -> World {
    let admin = &app.admin;
    for (code, name, level, parent) in [
        ("320000000000", "江苏省", "province", None),
        ("320700000000", "连云港市", "city", Some("320000000000")),
        (COUNTY, "测试县", "county", Some("320700000000")),
        (TOWNSHIP, "一号镇", "township", Some(COUNTY)),
        (VILLAGE_1, "东村", "village", Some(TOWNSHIP)),
        (VILLAGE_2, "西村", "village", Some(TOWNSHIP)),
    ] {
        admin
            .ok_post("/api/v1/regions", json!({"code": code, "name": name, "level": level, "parent_code": parent}))
            .await;
    }
    let mut ids = Vec::new();
    for (username, role, region) in [
        ("officer-a", "officer", TOWNSHIP),
        ("officer-b", "officer", TOWNSHIP),
        ("village-1", "village", VILLAGE_1),
        ("supervisor", "supervisor", "320700000000"),
        ("county", "county", COUNTY),
        ("township-1", "township", TOWNSHIP),
        // 002 §三(一)'s 动态管理工作核查组 over the township: answers village notices' objections.
        ("verifier-1", "verifier", TOWNSHIP),
    ] {
        let user = admin
            .ok_post(
                "/api/v1/users",
                json!({"username": username, "name": username, "password": PASSWORD, "roles": [{"role": role, "region_code": region}]}),
            )
            .await;
        ids.push(user["id"].as_str().expect("id").to_owned());
    }
    World { officer_b: ids[1].clone() }
}

/// A valid ID number born on `birth` (YYYYMMDD) with sequence `seq` (odd: male).
pub fn id_number(birth: &str, seq: u32) -> String {
    let first17 = format!("320703{birth}{:03}", seq % 1000);
    let check = jingzhun_mobile_api::validate::id_check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

static NEXT_PERSON: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A fresh, valid ID number no other test person has.
pub fn fresh_id_number() -> String {
    let n = NEXT_PERSON.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Vary the birth day and sequence so numbers stay unique across a run.
    let day = 1 + (n / 1000) % 28;
    id_number(&format!("196001{day:02}"), n % 1000)
}

pub fn change(entity: &str, id: Uuid, op: Op, base_version: i64, fields: Value) -> Change {
    Change { entity: entity.into(), id, op, base_version, fields: fields.as_object().cloned().unwrap_or_default() }
}

pub fn changeset(changes: Vec<Change>) -> ChangeSet {
    ChangeSet { id: Uuid::new_v4(), changes, recorded_at: None }
}

pub async fn push(client: &Client, changesets: Vec<ChangeSet>) -> PushResponse {
    client.push(&PushRequest { changesets }).await.expect("push answered")
}

/// The changes that create a household in `village` with a head and `extra` members.
pub fn new_household(village: &str, extra: usize) -> (Uuid, Vec<Uuid>, Vec<Change>) {
    let household = Uuid::new_v4();
    let mut changes = vec![change(
        "household",
        household,
        Op::Create,
        0,
        json!({"region_code": village, "address": "东村一组1号", "phone": "13812345678", "standard": "national", "kind": "general", "poverty_causes": ["illness"]}),
    )];
    let mut members = Vec::new();
    for i in 0..=extra {
        let member = Uuid::new_v4();
        members.push(member);
        let relation = if i == 0 { "head" } else { "son" };
        changes.push(change(
            "member",
            member,
            Op::Create,
            0,
            json!({"household_id": household, "name": format!("成员{i}"), "sex": "male", "id_number": fresh_id_number(), "relation": relation, "health": "healthy"}),
        ));
    }
    (household, members, changes)
}

/// Creates a household from a phone and returns its id and members.
pub async fn create_household(client: &Client, village: &str, extra: usize) -> (Uuid, Vec<Uuid>) {
    let (household, members, changes) = new_household(village, extra);
    let res = push(client, vec![changeset(changes)]).await;
    assert_eq!(
        res.results[0].status,
        jingzhun_mobile_api::wire::ChangeSetStatus::Applied,
        "create household: {:?}",
        res.results[0]
    );
    (household, members)
}

/// Pulls from `cursor` until `done` holds for what arrived, or ten seconds pass.
///
/// On PostgreSQL a change becomes visible to pulls once it is numbered (by its push
/// group in the background, or by the next pull); a pull that found a numbering
/// running may be a moment behind, never lose it.
pub async fn pull_until(
    client: &Client,
    cursor: Option<String>,
    done: impl Fn(&[jingzhun_mobile_api::wire::PulledChange]) -> bool,
) -> (Vec<jingzhun_mobile_api::wire::PulledChange>, String) {
    let mut all = Vec::new();
    let mut cursor = cursor;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (changes, next) = client.pull_all(cursor.clone(), None).await.expect("pull");
        all.extend(changes);
        cursor = Some(next.clone());
        if done(&all) || std::time::Instant::now() > deadline {
            return (all, next);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The region a notice of `step` is posted in, for a household in `village`.
pub fn notice_region(step: &str, village: &str) -> String {
    match step {
        "village_notice" => village.to_owned(),
        "township_notice" => format!("{}000", &village[..9]),
        _ => format!("{}000000", &village[..6]),
    }
}

/// Moves a case past its current step as a user would: a sign-off, or for a notice
/// step (公示 / 公告) a notice published by `who`, its period run out on the server's
/// clock, and closed. Returns the sign-off's or the close's answer.
/// The test county's officer, village team, township and county users, signed in.
pub async fn users(app: &TestApp) -> [Admin; 4] {
    [
        Admin::login(&app.base, "officer-a", PASSWORD).await,
        Admin::login(&app.base, "village-1", PASSWORD).await,
        Admin::login(&app.base, "township-1", PASSWORD).await,
        Admin::login(&app.base, "county", PASSWORD).await,
    ]
}

/// Passes a case through every step of an identification, each signed at its level (the
/// village notice with the 村民代表会决议 after it, see [`pass_step`]).
pub async fn pass_every_step(app: &TestApp, case: &str) {
    let [officer, village, township, county] = users(app).await;
    for (step, signer) in [
        ("application", &officer),
        ("home_verification", &village),
        ("comparison", &township),
        ("village_assessment", &village),
        ("village_notice", &village),
        ("township_review", &township),
        ("township_notice", &township),
        ("county_review", &county),
        ("announcement", &county),
    ] {
        let (status, body) = pass_step(app, signer, case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
}

/// An identification case of a new household in 东村, signed up to its village notice.
pub async fn case_at_village_notice(app: &TestApp) -> String {
    let [officer, village, township, _] = users(app).await;
    let phone = app.phone("officer-a", &format!("phone-{}", Uuid::new_v4())).await;
    let (household, _) = create_household(&phone, VILLAGE_1, 1).await;
    let case = village.ok_post("/api/v1/cases", json!({"household_id": household, "kind": "identify"})).await;
    let case = case["id"].as_str().expect("case id").to_owned();
    for (step, who) in [
        ("application", &officer),
        ("home_verification", &village),
        ("comparison", &township),
        ("village_assessment", &village),
    ] {
        let (status, body) = pass_step(app, who, &case, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    case
}

/// `who` approves `step` of `case`, as the step's signer would.
///
/// A village notice is passed as 002 §三(七) passes it: once closed with no objection,
/// `who` (the village team) records the 村民代表会决议 on it, and the case of a kind
/// with that step goes on to the township's review. `village_resolution` alone records
/// the resolution on the case's closed village notice.
pub async fn pass_step(app: &TestApp, who: &Admin, case: &str, step: &str) -> (u16, Value) {
    if step == "village_resolution" {
        return record_resolution(app, who, case).await;
    }
    if !matches!(step, "village_notice" | "township_notice" | "announcement") {
        return who.post(&format!("/api/v1/cases/{case}/signoffs"), json!({"step": step, "decision": "approve"})).await;
    }
    let view = who.ok_get(&format!("/api/v1/cases/{case}")).await;
    let village = view["region_code"].as_str().expect("case region").to_owned();
    let (status, notice) =
        who.post("/api/v1/notices", json!({"step": step, "region_code": notice_region(step, &village)})).await;
    if status != 200 {
        return (status, notice);
    }
    let id = notice["id"].as_str().expect("notice id").to_owned();
    let (status, published) = who.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    if status != 200 {
        return (status, published);
    }
    app.clock.advance(chrono::Duration::days(i64::from(published["period_days"].as_i64().unwrap_or(5) as i32) + 2));
    let (status, closed) = who.post(&format!("/api/v1/notices/{id}/close"), json!({})).await;
    let waits = who.ok_get(&format!("/api/v1/cases/{case}")).await["step"] == "village_resolution";
    if status != 200 || step != "village_notice" || !waits {
        return (status, closed);
    }
    record_resolution(app, who, case).await
}

/// The 村民代表会决议 on the closed village notice that listed `case`, recorded by `who`
/// on the server's today: 30 members, 25 present, 24 agreeing.
pub async fn record_resolution(app: &TestApp, who: &Admin, case: &str) -> (u16, Value) {
    let notices = who.ok_get("/api/v1/notices?status=closed").await;
    let notice = notices.as_array().expect("notices").iter().find(|n| {
        n["step"] == "village_notice"
            && n["cases"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c["case_id"] == case && c["status"] == "advanced"))
    });
    let Some(id) = notice.and_then(|n| n["id"].as_str()) else {
        return (404, json!({"error": "no closed village notice lists the case"}));
    };
    let today = app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    who.post(
        &format!("/api/v1/notices/{id}/resolution"),
        json!({"held_on": today, "members": 30, "present": 25, "agreeing": 24}),
    )
    .await
}

/// A villager objects through a notice's public page (`token` from its URL), as a phone
/// that scanned the QR code would: reads the form for its CSRF token, posts, is sent to
/// the receipt page. Returns the receipt page's path.
pub async fn object_on_page(base: &str, token: &str, entry: &str, body: &str) -> String {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client.get(format!("{base}/n/{token}")).send().await.expect("page").text().await.expect("html");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
    let res = client
        .post(format!("{base}/n/{token}/objections"))
        .form(&[("csrf", csrf), ("entry", entry), ("body", body)])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303, "the objection is taken");
    res.headers()["location"].to_str().expect("location").to_owned()
}
