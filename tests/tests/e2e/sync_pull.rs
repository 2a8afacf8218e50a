//! Pull: scope, whole households on entry, eviction, resumable paging, expiry.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op, PullOp, PulledChange};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

on_both_backends!(
    pull_is_limited_to_scope,
    assigning_delivers_the_whole_household_and_unassigning_evicts,
    paging_resumed_from_a_saved_cursor_yields_every_change_once,
    cursor_older_than_the_kept_history_expires,
    a_walk_ends_without_a_log_page_only_when_nothing_was_logged_since_it_began,
);

fn households(changes: &[PulledChange]) -> BTreeSet<Uuid> {
    changes.iter().filter(|c| c.entity == "household" && c.op == PullOp::Upsert).map(|c| c.id).collect()
}

async fn pull_is_limited_to_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (mine, _) = create_household(&a, VILLAGE_1, 2).await;
    let (theirs, _) = create_household(&b, VILLAGE_1, 0).await;
    let village = app.phone("village-1", "phone-v").await;
    let (elsewhere, _) = {
        let county = app.phone("county", "phone-c").await;
        create_household(&county, VILLAGE_2, 0).await
    };

    let (pulled, _) = a.pull_all(None, Some(50)).await.expect("pull");
    assert_eq!(households(&pulled), BTreeSet::from([mine]));
    assert!(
        pulled.iter().all(|c| c.entity != "member" || c.data["household_id"] == mine.to_string()),
        "members of others leak"
    );
    assert_eq!(pulled.iter().filter(|c| c.entity == "member").count(), 3);

    let (pulled, _) = village.pull_all(None, Some(50)).await.expect("pull");
    assert_eq!(households(&pulled), BTreeSet::from([mine, theirs]), "the village team sees its village only");
    let supervisor = app.phone("supervisor", "phone-s").await;
    let (pulled, _) = supervisor.pull_all(None, Some(50)).await.expect("pull");
    assert_eq!(households(&pulled), BTreeSet::from([mine, theirs, elsewhere]));

    // Reading another officer's household directly is refused with a stable code.
    let other = Admin::login(&app.base, "officer-b", PASSWORD).await;
    let (status, body) = other.get(&format!("/api/v1/households/{mine}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")));
    assert_eq!(a.status().await.expect("status").scope_households, 1);
}

async fn assigning_delivers_the_whole_household_and_unassigning_evicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, members) = create_household(&a, VILLAGE_1, 2).await;
    let income = Uuid::new_v4();
    let res = push(
        &a,
        vec![changeset(vec![change(
            "income",
            income,
            Op::Create,
            0,
            json!({"household_id": household, "year": 2025, "wage": 3000, "transfer": 800}),
        )])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let (first, cursor) = b.pull_all(None, None).await.expect("pull");
    assert!(first.is_empty(), "B has nothing yet: {first:?}");

    let assignment = app
        .admin
        .ok_post("/api/v1/assignments", json!({"officer_id": world.officer_b, "household_id": household}))
        .await;
    let expected: BTreeSet<Uuid> = [household, income].into_iter().chain(members.iter().copied()).collect();
    // On PostgreSQL the income's own log row may come a page before the scope entry
    // (another test's transaction held the horizon back): wait for the whole household.
    let upserts = |all: &[jingzhun_mobile_api::wire::PulledChange]| -> BTreeSet<Uuid> {
        all.iter().filter(|c| c.op == PullOp::Upsert).map(|c| c.id).collect()
    };
    let (entered, cursor) = pull_until(&b, Some(cursor), |all| upserts(all).is_superset(&expected)).await;
    assert_eq!(upserts(&entered), expected, "the household arrives whole, however long ago it changed");
    let position = |id: Uuid| entered.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    assert!(members.iter().all(|m| position(household) < position(*m)), "parents first");

    app.admin.ok_post(&format!("/api/v1/assignments/{}/end", assignment["id"].as_str().expect("id")), json!({})).await;
    let (evicted, cursor) = pull_until(&b, Some(cursor), |all| all.iter().any(|c| c.op == PullOp::Evict)).await;
    // On PostgreSQL older changes of the household may still arrive first (as upserts of
    // its current state); the eviction comes last and is what the phone keeps.
    assert_eq!(evicted.last().map(|c| (c.op, c.id)), Some((PullOp::Evict, household)), "{evicted:?}");
    assert_eq!(evicted.iter().filter(|c| c.op == PullOp::Evict).count(), 1);

    // Later changes of that household no longer reach B.
    push(&a, vec![changeset(vec![change("household", household, Op::Update, 1, json!({"address": "新地址"}))])]).await;
    let (after, _) = b.pull_all(Some(cursor), None).await.expect("pull");
    assert!(after.is_empty(), "{after:?}");
}

async fn paging_resumed_from_a_saved_cursor_yields_every_change_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let writer = app.phone("village-1", "phone-w").await;
    let reader = app.phone("village-1", "phone-r").await;
    let (initial, start) = reader.pull_all(None, None).await.expect("pull");
    assert!(initial.is_empty());

    let mut created = BTreeSet::new();
    for i in 0..40 {
        let id = Uuid::new_v4();
        created.insert(id);
        let fields =
            json!({"region_code": VILLAGE_1, "address": format!("{i}号"), "standard": "national", "kind": "general"});
        let res = push(&writer, vec![changeset(vec![change("household", id, Op::Create, 0, fields)])]).await;
        assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    }

    let mut seen: BTreeMap<Uuid, usize> = BTreeMap::new();
    let mut cursor = start;
    let mut pages = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = reader.pull(Some(&cursor), Some(7)).await.expect("page");
        // The phone lost the answer and asks again from the saved cursor: same page.
        let again = reader.pull(Some(&cursor), Some(7)).await.expect("page again");
        // Asked again, a page holds the same changes; the last page may have grown since
        // (on PostgreSQL commits become visible when older transactions end).
        assert!(again.changes.starts_with(&page.changes), "a page is reproducible from its cursor");
        if page.has_more {
            assert_eq!(page, again);
        }
        for c in &page.changes {
            *seen.entry(c.id).or_default() += 1;
        }
        pages += 1;
        cursor = page.cursor;
        if !page.has_more {
            // Everything visible has come; on PostgreSQL the last commits may still be
            // waiting for their numbering.
            if seen.len() >= created.len() || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert!(pages >= 6, "paged in pages of 7: {pages}");
    assert_eq!(seen.keys().copied().collect::<BTreeSet<_>>(), created);
    assert!(seen.values().all(|n| *n == 1), "every change exactly once: {seen:?}");
    let (rest, _) = reader.pull_all(Some(cursor), Some(7)).await.expect("pull");
    assert!(rest.is_empty());
}

async fn cursor_older_than_the_kept_history_expires(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let (_, old_cursor) = phone.pull_all(None, None).await.expect("pull");
    let (household, _) = create_household(&phone, VILLAGE_1, 0).await;
    // Only numbered rows go; on PostgreSQL a numbering may be running beside this
    // one, so try a while.
    let mut removed = 0;
    for _ in 0..100 {
        let compacted = app.admin.ok_post("/api/v1/sync/compact", json!({"older_than_seconds": 0})).await;
        removed += compacted["removed"].as_u64().unwrap_or(0);
        if removed >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(removed >= 2, "the household and its head were compacted away ({removed})");
    let err = phone.pull(Some(&old_cursor), None).await.expect_err("expired");
    assert_eq!((err.status(), err.code()), (Some(410), Some("cursor_expired")));
    // Starting over brings everything back.
    let (all, _) = phone.pull_all(None, None).await.expect("pull");
    assert!(households(&all).contains(&household));
    let garbage = phone.pull(Some("not-a-cursor"), None).await.expect_err("invalid");
    assert_eq!((garbage.status(), garbage.code()), (Some(400), Some("invalid_cursor")));
}

/// The last page of a first pull's walk says `has_more` only when something was logged
/// after the walk began: then the log page that follows brings it; otherwise a phone's
/// first pull is over in one request.
async fn a_walk_ends_without_a_log_page_only_when_nothing_was_logged_since_it_began(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let mut households = Vec::new();
    for _ in 0..3 {
        households.push(create_household(&a, VILLAGE_1, 0).await.0);
    }
    // Everything committed so far is numbered (PostgreSQL) once a pull has run.
    a.pull_all(None, None).await.expect("pull");

    let fresh = app.phone("officer-a", "phone-a-new").await;
    let page = fresh.pull(None, Some(500)).await.expect("first pull");
    assert_eq!(page.changes.iter().filter(|c| c.entity == "household").count(), 3);
    assert!(!page.has_more, "nothing was logged since the walk began: one request");
    let after = fresh.pull(Some(&page.cursor), Some(500)).await.expect("log page");
    assert!(after.changes.is_empty() && !after.has_more, "{after:?}");

    // A walk of one household a page; the household already sent changes meanwhile.
    let walker = app.phone("officer-a", "phone-a-walker").await;
    let first = walker.pull(None, Some(10)).await.expect("first page");
    assert!(first.has_more);
    let edited = households[0];
    let res = push(
        &a,
        vec![changeset(vec![change("household", edited, Op::Update, 1, json!({"address": "走访中改的地址"}))])],
    )
    .await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied);
    let mut cursor = first.cursor;
    let mut walked = first.changes;
    loop {
        let page = walker.pull(Some(&cursor), Some(10)).await.expect("page");
        let walk_over = !page.changes.iter().any(|c| c.entity == "household") || page.changes.is_empty();
        walked.extend(page.changes);
        cursor = page.cursor;
        if walk_over {
            assert!(page.has_more, "the edit made during the walk is still to come");
            break;
        }
        assert!(page.has_more);
    }
    let (rest, _) = walker.pull_all(Some(cursor), Some(10)).await.expect("rest");
    let address = rest.iter().rev().find(|c| c.id == edited).map(|c| c.data["address"].clone());
    assert_eq!(address, Some(json!("走访中改的地址")), "the log after the walk brings the edit: {rest:?}");
}
