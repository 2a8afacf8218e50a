//! The officer app at `/app/` (issue 13) in a real Chromium at a phone's size, on both
//! backends: an officer signs in once online (the device id made on the phone, the token
//! kept in IndexedDB), the service worker takes the shell, and with the network off a
//! reload still opens the app and greets the officer. Also proves the browser tooling
//! the later app tests stand on: CDP through chromedriver (offline, CPU throttling).
//! Screenshots: officer-app-*.png. The serving's cache rules: `server/src/http/app.rs`.

use crate::browser::{Browser, click, count_when, text_when, type_into};
use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::wire::ChangeSetStatus;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

on_both_backends!(
    officer_app_shell,
    officer_app_sync_evict_and_revoke,
    officer_app_starts_over_when_its_cursor_expired
);

/// What the app keeps in IndexedDB `jingzhun-app` / `meta`, read by the page itself
/// (empty when the database does not exist: never created, or wiped).
pub(crate) async fn meta(browser: &Browser) -> Value {
    let script = r#"
        const done = arguments[arguments.length - 1];
        indexedDB.databases().then((all) => {
            if (!all.some((d) => d.name === 'jingzhun-app')) return done({});
            const open = indexedDB.open('jingzhun-app');
            open.onerror = () => done({error: String(open.error)});
            open.onsuccess = () => {
                const db = open.result;
                const all = db.transaction('meta').objectStore('meta').getAll();
                all.onsuccess = () => { db.close(); done(Object.fromEntries(all.result.map((r) => [r.key, r.value]))); };
                all.onerror = () => { db.close(); done({error: String(all.error)}); };
            };
        });
    "#;
    browser.client.execute_async(script, vec![]).await.expect("read IndexedDB")
}

async fn officer_app_shell(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "li-mei", "name": "李梅", "password": PASSWORD,
                   "roles": [{"role": "officer", "region_code": TOWNSHIP}]}),
        )
        .await;

    // The service worker must be revalidated on every update check, or phones keep an
    // old app for a day.
    let sw = reqwest::get(format!("{}/app/sw.js", app.base)).await.expect("sw.js");
    assert_eq!(sw.status(), 200);
    assert_eq!(sw.headers()["cache-control"], "no-cache");

    let browser = Browser::start().await;
    let client = &browser.client;
    client.goto(&format!("{}/app", app.base)).await.expect("open /app");
    assert_eq!(browser.wait_for_path("/app/login").await, "/app/login", "not signed in: the sign-in page");

    // A wrong password is refused with the server's Chinese message, and nothing is kept.
    type_into(client, "#login-username", "li-mei").await;
    type_into(client, "#login-password", "not-the-password").await;
    click(client, "#login-submit").await;
    let refused = text_when(client, "#login-error", |t| !t.is_empty()).await;
    assert!(refused.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "a Chinese refusal: {refused:?}");
    assert!(meta(&browser).await.get("session").is_none(), "no session after a refusal");
    browser.screenshot("officer-app-login-refused").await;

    client.goto(&format!("{}/app/login", app.base)).await.expect("open the sign-in page again");
    type_into(client, "#login-username", "li-mei").await;
    type_into(client, "#login-password", PASSWORD).await;
    click(client, "#login-submit").await;
    let greeting = text_when(client, "#greeting", |t| t.contains("李梅")).await;
    if !greeting.contains("您好，李梅") {
        browser.screenshot("officer-app-sign-in-failed").await;
    }
    assert!(greeting.contains("您好，李梅"), "the officer is greeted by name: {greeting:?}");
    assert_eq!(browser.wait_for_path("/app/").await, "/app/");

    // The token and the device id the server bound it to are on the phone.
    let kept = meta(&browser).await;
    let device = kept["device"]["id"].as_str().expect("device id kept").to_owned();
    assert!(kept["session"]["token"].as_str().is_some_and(|t| !t.is_empty()), "token kept: {kept}");
    assert_eq!(kept["session"]["user"]["username"], "li-mei");
    let bound = format!("SELECT COUNT(*) FROM device WHERE id = '{device}' AND revoked_mode IS NULL");
    assert_eq!(app.count(&bound).await, 1, "the server knows this phone's device id");

    // The service worker is installed (its precache filled) and controls the page.
    let ready: Value = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               navigator.serviceWorker.ready
                 .then((r) => caches.keys().then((keys) => done({scope: r.scope, caches: keys})))
                 .catch((e) => done({error: String(e)}));"#,
            vec![],
        )
        .await
        .expect("serviceWorker.ready");
    assert_eq!(ready["scope"], format!("{}/app/", app.base), "{ready}");
    assert!(
        ready["caches"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k.as_str().is_some_and(|k| k.starts_with("jz-app-"))))
    );
    browser.screenshot("officer-app-home").await;

    // No network at all for the page: the reload comes from the worker's cache and the
    // greeting from IndexedDB.
    browser.offline(true).await;
    let online: Value = client.execute("return navigator.onLine", vec![]).await.expect("onLine");
    assert_eq!(online, json!(false), "CDP took the page offline");
    let api = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch('/api/mobile/v1/schema').then((r) => done('answered ' + r.status)).catch(() => done('failed'));"#,
            vec![],
        )
        .await
        .expect("fetch offline");
    assert_eq!(api, json!("failed"), "the worker never answers the API from a cache");
    client.refresh().await.expect("reload offline");
    let greeting = text_when(client, "#greeting", |t| t.contains("李梅")).await;
    assert!(greeting.contains("您好，李梅"), "the shell opens offline: {greeting:?}");
    let load: Value = client
        .execute("return performance.getEntriesByType('navigation')[0].loadEventEnd", vec![])
        .await
        .expect("navigation timing");
    eprintln!("officer app: the shell reloaded offline in {load} ms (loadEventEnd)");
    assert!(load.as_f64().is_some_and(|ms| ms < 1000.0), "the shell loads in under a second: {load}");
    browser.screenshot("officer-app-offline").await;

    // The low-end profile the list tests will use answers.
    browser.throttle_cpu(4.0).await;
    browser.throttle_cpu(1.0).await;
    browser.offline(false).await;
    browser.close().await;
}

/// Counts in the phone's store: all records, those of `household`, change sets in the
/// outbox, whether a session is kept, the device id. Closes its connection, so the app
/// can delete the database (a wipe) while the test is not looking.
pub(crate) async fn store(browser: &Browser, household: Uuid) -> Value {
    let script = r#"
        const [household, done] = [arguments[0], arguments[arguments.length - 1]];
        indexedDB.databases().then((all) => {
          if (!all.some((d) => d.name === 'jingzhun-app')) {
            return done({records: 0, household: 0, outbox: 0, session: false, device: null});
          }
          const open = indexedDB.open('jingzhun-app');
          open.onerror = () => done({error: String(open.error)});
          open.onsuccess = () => {
            const db = open.result;
            const out = {};
            const tx = db.transaction(['records', 'outbox', 'meta']);
            const into = (key) => (e) => { out[key] = e.target.result; };
            tx.objectStore('records').count().onsuccess = into('records');
            tx.objectStore('records').index('household_id').count(household).onsuccess = into('household');
            tx.objectStore('outbox').count().onsuccess = into('outbox');
            tx.objectStore('meta').get('session').onsuccess = (e) => { out.session = !!e.target.result; };
            tx.objectStore('meta').get('device').onsuccess = (e) => { out.device = e.target.result ? e.target.result.value.id : null; };
            tx.oncomplete = () => { db.close(); done(out); };
          };
        });
    "#;
    browser.client.execute_async(script, vec![json!(household.to_string())]).await.expect("read IndexedDB")
}

/// An officer `username` named 李梅 over the township, and her other phone (a
/// `mobile-api` client) that the tests record her households from.
pub(crate) async fn officer(app: &TestApp, username: &str) -> Client {
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": username, "name": "李梅", "password": PASSWORD,
                   "roles": [{"role": "officer", "region_code": TOWNSHIP}]}),
        )
        .await;
    app.phone(username, &format!("{username}-old-phone")).await
}

/// An officer `username` (named 李梅) and `count` households of hers, four people each,
/// recorded from her other phone, which is returned with them.
async fn officer_with_households(app: &TestApp, username: &str, count: usize) -> (Client, Vec<Uuid>) {
    let other_phone = officer(app, username).await;
    let mut households = Vec::new();
    for chunk in 0..count.div_ceil(20) {
        let sets: Vec<_> = (chunk * 20..count.min(chunk * 20 + 20))
            .map(|_| {
                let (household, _, changes) = new_household(VILLAGE_1, 3);
                households.push(household);
                changeset(changes)
            })
            .collect();
        let answer = push(&other_phone, sets).await;
        assert!(answer.results.iter().all(|r| r.status == ChangeSetStatus::Applied), "{answer:?}");
    }
    (other_phone, households)
}

/// Ends `officer`'s assignment of `household` (as the township does when moving it).
async fn end_assignment(app: &TestApp, household: Uuid) {
    let assignments = app.admin.ok_get(&format!("/api/v1/assignments?household_id={household}")).await;
    let open = assignments.as_array().expect("assignments").iter().find(|a| a["end_date"].is_null()).expect("open");
    app.admin.ok_post(&format!("/api/v1/assignments/{}/end", open["id"].as_str().expect("id")), json!({})).await;
}

/// Signs in on the app's page and waits for the first pull to list `households` rows;
/// returns how long the app's first sync took by its own clock (push, catalogue, pull, status).
pub(crate) async fn sign_in_and_pull(browser: &Browser, base: &str, username: &str, households: usize) -> Duration {
    let client = &browser.client;
    client.goto(&format!("{base}/app/login")).await.expect("open the sign-in page");
    type_into(client, "#login-username", username).await;
    type_into(client, "#login-password", PASSWORD).await;
    click(client, "#login-submit").await;
    let all = format!("共 {households} 户");
    assert_eq!(text_when(client, "#household-count", |t| t == all).await, all, "the first pull lists them all");
    assert_eq!(text_when(client, "#sync-state", |t| t == "已同步").await, "已同步");
    let took = meta(browser).await["last_sync"]["took_ms"].as_u64().expect("the sync's duration");
    Duration::from_millis(took)
}

/// Taps the sync bar (as a pull-to-refresh would) until `css` is on the page. On
/// PostgreSQL a change becomes visible to pulls once every older transaction of the
/// cluster has ended, so the sync right after a push may not see it yet.
pub(crate) async fn sync_until_shown(browser: &Browser, css: &str) {
    sync_until(browser, css, |_| true).await;
}

/// Taps the sync bar until the first element matching `css` has a text `done` accepts,
/// and returns that text (see [`sync_until_shown`] for why one sync may not be enough).
pub(crate) async fn sync_until(browser: &Browser, css: &str, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..20 {
        if let Ok(found) = browser.client.find(fantoccini::Locator::Css(css)).await
            && let Ok(text) = found.text().await
            && done(&text)
        {
            return text;
        }
        click(&browser.client, "#sync-bar").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{css} never showed what was awaited");
}

async fn server_address(app: &TestApp, household: Uuid) -> Value {
    app.admin.household(household).await["household"]["address"].clone()
}

/// Waits up to ten seconds for `query` to count `want` (the app syncs in the background).
pub(crate) async fn count_becomes(app: &TestApp, query: &str, want: i64) -> i64 {
    let mut last = -1;
    for _ in 0..100 {
        last = app.count(query).await;
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Edits the address of the household whose page is open, through the app's form (the
/// outbox's first), and waits for the household page to show it. The pages change
/// inside the app, as an officer's taps do: a page loaded while the browser's network
/// is emulated offline would not see `navigator.onLine` go false, nor the `online` event.
pub(crate) async fn edit_address(browser: &Browser, address: &str) {
    let client = &browser.client;
    click(client, "#edit-address").await;
    click(client, "#address-form .van-field__clear").await;
    type_into(client, "#address-input", address).await;
    click(client, "#address-save").await;
    let shown = text_when(client, "#household-basics", |t| t.contains(address)).await;
    assert!(shown.contains(address), "the household shows the edit at once: {shown}");
}

/// The officer's day around a reassignment and two revocations, on the app's own sync:
/// 40 households pulled at sign-in, an address edited offline, the household moved to
/// another officer meanwhile; back online the edit reaches the server exactly once and
/// only then does the household leave the phone. A `drain` revocation delivers a
/// pending edit, then clears the phone; a `wipe` clears it at once.
async fn officer_app_sync_evict_and_revoke(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    // Her 40 households, four people each, recorded from her other phone.
    let (_, households) = officer_with_households(&app, "li-mei", 40).await;
    let (moved, drained) = (households[0], households[1]);

    let browser = Browser::start().await;
    let client = &browser.client;
    let first_pull = sign_in_and_pull(&browser, &app.base, "li-mei", 40).await;
    eprintln!(
        "officer app: the first sync after sign-in (catalogue, pull of 40 households, status) took {first_pull:?}"
    );
    assert!(first_pull < Duration::from_secs(2), "the first pull of 40 households: {first_pull:?}");
    browser.screenshot("officer-app-households").await;

    client.goto(&format!("{}/app/households/{moved}", app.base)).await.expect("a household");
    assert_eq!(count_when(client, ".member-row", 4).await, 4, "the household page lists its four members");
    let members = text_when(client, "#household-members", |t| t.contains("户主")).await;
    assert!(members.contains("成员0（户主）"), "members with relations from the code tables: {members}");
    browser.screenshot("officer-app-household").await;

    // Offline: the edit is queued and shown at once; the server has nothing yet.
    browser.offline(true).await;
    edit_address(&browser, "东村二组8号").await;
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 1").await, "待同步 1");
    assert_eq!(text_when(client, "#sync-state", |t| t == "离线").await, "离线");
    browser.screenshot("officer-app-offline-edit").await;
    assert_eq!(server_address(&app, moved).await, json!("东村一组1号"));

    // Meanwhile the township gives the household to officer-b.
    end_assignment(&app, moved).await;
    app.admin.ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": moved})).await;

    // Online again: the browser's `online` event syncs. The edit made before the move
    // arrives once; then the household leaves the phone.
    browser.offline(false).await;
    let edits = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{moved}' AND field = 'address'");
    if count_becomes(&app, &edits, 1).await != 1 {
        browser.screenshot("officer-app-edit-not-delivered").await;
        panic!(
            "the offline edit did not reach the server: {} {}",
            meta(&browser).await["last_sync"],
            store(&browser, moved).await
        );
    }
    assert_eq!(server_address(&app, moved).await, json!("东村二组8号"));
    sync_until_shown(&browser, "#household-missing").await;
    let kept = store(&browser, moved).await;
    assert_eq!((kept["household"].as_i64(), kept["outbox"].as_i64()), (Some(0), Some(0)), "{kept}");
    client.goto(&format!("{}/app/", app.base)).await.expect("the list");
    assert_eq!(text_when(client, "#household-count", |t| t == "共 39 户").await, "共 39 户", "the moved one is gone");
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 0").await, "待同步 0");
    assert_eq!(app.count(&edits).await, 1, "and only once, after more syncs");

    // Drain: an edit and a visit's photo still pending when the phone is revoked are
    // delivered, then the phone is cleared.
    let device = kept["device"].as_str().expect("device id").to_owned();
    let picture = browser.screenshot("officer-app-before-drain").await.canonicalize().expect("the picture's path");
    client.goto(&format!("{}/app/households/{drained}", app.base)).await.expect("another household");
    assert_eq!(count_when(client, ".member-row", 4).await, 4);
    browser.offline(true).await;
    edit_address(&browser, "东村三组2号").await;
    click(client, "#add-visit").await;
    crate::browser::element(client, "#visit-photo input[type=file]")
        .await
        .send_keys(picture.to_str().expect("a UTF-8 path"))
        .await
        .expect("choose the photo");
    assert_eq!(count_when(client, "#visit-photo .van-uploader__preview", 1).await, 1, "the photo is previewed");
    click(client, "#visit-save").await;
    assert_eq!(text_when(client, "#sync-photos", |t| t == "照片 1").await, "照片 1");
    app.admin.ok_post(&format!("/api/v1/devices/{device}/revoke"), json!({"mode": "drain"})).await;
    browser.offline(false).await;
    assert_eq!(browser.wait_for_path("/app/login").await, "/app/login", "a drained phone ends at the sign-in page");
    let notice = text_when(client, "#login-wiped", |t| t.contains("已清除")).await;
    assert!(notice.contains("此设备已被停用"), "{notice}");
    assert_eq!(server_address(&app, drained).await, json!("东村三组2号"), "the pending edit was delivered first");
    let photo = format!(
        "SELECT COUNT(*) FROM visit_log v JOIN attachment a ON v.attachment_ids = '[\"' || a.id || '\"]' \
         WHERE v.household_id = '{drained}'"
    );
    assert_eq!(app.count(&photo).await, 1, "and the visit's photo, under the id its visit log names");
    let wiped = store(&browser, drained).await;
    assert_eq!((wiped["records"].as_i64(), wiped["session"].as_bool()), (Some(0), Some(false)), "{wiped}");
    browser.screenshot("officer-app-drained").await;

    // Signing in again makes a new device; a wipe clears it at the next sync.
    sign_in_and_pull(&browser, &app.base, "li-mei", 39).await;
    let again = store(&browser, drained).await;
    let second = again["device"].as_str().expect("a new device id").to_owned();
    assert_ne!(second, device, "the revoked device id is never reused");
    app.admin.ok_post(&format!("/api/v1/devices/{second}/revoke"), json!({"mode": "wipe"})).await;
    click(client, "#sync-bar").await;
    if browser.wait_for_path("/app/login").await != "/app/login" {
        panic!("a wiped phone ends at the sign-in page; last sync: {}", meta(&browser).await["last_sync"]);
    }
    let wiped = store(&browser, drained).await;
    assert_eq!((wiped["records"].as_i64(), wiped["session"].as_bool()), (Some(0), Some(false)), "{wiped}");
    browser.close().await;
}

/// The phone slept past the server's kept history (410 `cursor_expired`): it pushes its
/// pending edit, pulls everything again, and drops what the new snapshot did not bring —
/// a household that left her scope meanwhile, whose evict was compacted away — while
/// keeping the ones that stayed and gaining the one made meanwhile.
async fn officer_app_starts_over_when_its_cursor_expired(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (other_phone, households) = officer_with_households(&app, "li-mei", 3).await;
    let (edited, left) = (households[0], households[2]);
    let browser = Browser::start().await;
    let client = &browser.client;
    sign_in_and_pull(&browser, &app.base, "li-mei", 3).await;
    client.goto(&format!("{}/app/households/{edited}", app.base)).await.expect("a household");
    assert_eq!(count_when(client, ".member-row", 4).await, 4);

    browser.offline(true).await;
    edit_address(&browser, "东村四组9号").await;
    let (made, _) = create_household(&other_phone, VILLAGE_1, 0).await;
    end_assignment(&app, left).await;
    // Only rows of finished transactions go; on PostgreSQL "finished" is judged across
    // the cluster, where other tests' transactions may still run, so try a while.
    let mut removed = 0;
    for _ in 0..100 {
        let compacted = app.admin.ok_post("/api/v1/sync/compact", json!({"older_than_seconds": 0})).await;
        removed += compacted["removed"].as_u64().unwrap_or(0);
        let evict_kept = app.count(&format!("SELECT COUNT(*) FROM change_log WHERE entity_id = '{left}'")).await;
        if removed > 0 && evict_kept == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    browser.offline(false).await;
    let edits = format!("SELECT COUNT(*) FROM audit_log WHERE entity_id = '{edited}' AND field = 'address'");
    assert_eq!(count_becomes(&app, &edits, 1).await, 1, "pushed before starting over");
    client.goto(&format!("{}/app/", app.base)).await.expect("the list");
    sync_until_shown(&browser, &format!("#household-{made}")).await;
    assert_eq!(count_when(client, ".household-row", 3).await, 3, "the kept two and the new one: {households:?}");
    assert!(
        client.find(fantoccini::Locator::Css(&format!("#household-{left}"))).await.is_err(),
        "the one that left is gone"
    );
    let kept = store(&browser, left).await;
    assert_eq!(kept["household"].as_i64(), Some(0), "nothing of it stays in IndexedDB: {kept}");
    let after = meta(&browser).await;
    assert_eq!(after["cursor"]["generation"], json!(2), "a second generation: {}", after["cursor"]);
    assert!(after.get("resync").is_none(), "the start-over finished");
    assert_eq!(server_address(&app, edited).await, json!("东村四组9号"));
    assert_eq!(app.count(&edits).await, 1, "once");
    browser.close().await;
}

/// A low-end phone (Chromium's CPU throttled 4×) with 200 households: typing in the
/// search box and scrolling never blocks the page for long (long tasks measured by the
/// page's own PerformanceObserver); then with the server gone for good the app reloads
/// from the service worker and IndexedDB alone, lists the households and takes an edit.
/// SQLite only: it measures the browser, not the backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_app_on_a_low_end_phone_and_with_no_server() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    seed(&app).await;
    let (_, households) = officer_with_households(&app, "li-mei", 200).await;
    let browser = Browser::start().await;
    let client = &browser.client;
    sign_in_and_pull(&browser, &app.base, "li-mei", 200).await;
    assert_eq!(count_when(client, ".household-row", 20).await, 20, "rendered 20 at a time");
    let ready: Value = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               navigator.serviceWorker.ready.then(() => done(true));"#,
            vec![],
        )
        .await
        .expect("service worker ready");
    assert_eq!(ready, json!(true));

    browser.throttle_cpu(4.0).await;
    client
        .execute(
            r#"window.longest = 0;
               new PerformanceObserver((list) => {
                 for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration);
               }).observe({type: 'longtask'});"#,
            vec![],
        )
        .await
        .expect("observe long tasks");
    for text in ["成员", "0", "x"] {
        type_into(client, ".van-search input", text).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(count_when(client, ".household-row", 0).await, 0, "nothing matches 成员0x");
    // Emptied with four backspaces, as a person would.
    type_into(client, ".van-search input", &"\u{E003}".repeat(4)).await;
    assert_eq!(count_when(client, ".household-row", 20).await, 20, "the first step of the list again");
    for _ in 0..30 {
        client.execute("window.scrollTo(0, document.body.scrollHeight)", vec![]).await.expect("scroll");
        tokio::time::sleep(Duration::from_millis(300)).await;
        if client.find_all(fantoccini::Locator::Css(".household-row")).await.map(|r| r.len()).unwrap_or(0) == 200 {
            break;
        }
    }
    assert_eq!(count_when(client, ".household-row", 200).await, 200, "scrolling brings the rest, 20 at a time");
    let longest: Value = client.execute("return window.longest", vec![]).await.expect("longest task");
    eprintln!("officer app at 4x CPU: longest task while searching and scrolling 200 households {longest} ms");
    // Half a second is where a person calls a page frozen. Measured here: 240-400 ms, the
    // longest being the render of the next 20 rows while scrolling, with other browser
    // tests sharing the two cores; typing and filtering stay under 100 ms.
    assert!(longest.as_f64().is_some_and(|ms| ms < 500.0), "no freeze: {longest} ms");
    browser.throttle_cpu(1.0).await;

    // No server at all: the app comes from the worker's cache and the list from IndexedDB.
    app.stop_serving().await;
    assert!(reqwest::get(format!("{}/app/", app.base)).await.is_err(), "nothing answers any more");
    client.refresh().await.expect("reload with no server");
    assert_eq!(
        text_when(client, "#household-count", |t| t == "共 200 户").await,
        "共 200 户",
        "the list opens from the phone's store"
    );
    let edited = households[0];
    client.goto(&format!("{}/app/households/{edited}", app.base)).await.expect("a household, from the worker");
    assert_eq!(count_when(client, ".member-row", 4).await, 4);
    edit_address(&browser, "东村五组1号").await;
    assert_eq!(text_when(client, "#sync-pending", |t| t == "待同步 1").await, "待同步 1");
    assert_eq!(text_when(client, "#sync-state", |t| t == "离线").await, "离线", "no server is offline to the officer");
    browser.screenshot("officer-app-no-server").await;
    browser.close().await;
}
