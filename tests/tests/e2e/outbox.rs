//! The phone's persistent outbox against a real server: queue order, rejected change
//! sets set aside without blocking the queue, retries that apply nothing twice.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::outbox::Outbox;
use jingzhun_mobile_api::wire::{Op, PushRequest};
use serde_json::json;
use uuid::Uuid;

on_both_backends!(outbox_sets_aside_rejected_changesets_and_keeps_going);

async fn outbox_sets_aside_rejected_changesets_and_keeps_going(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let phone = app.phone("officer-a", "phone-a").await;
    let dir = std::env::temp_dir().join(format!("jingzhun-outbox-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("outbox.json");

    // A day offline in the village: a new household entered members-first, a member
    // with a mistyped ID number, then a visit note.
    let (household, _, mut create) = new_household(VILLAGE_1, 1);
    create.reverse();
    let bad_member = Uuid::new_v4();
    let valid = fresh_id_number();
    let mistyped = format!("{}{}", &valid[..17], if valid.ends_with('0') { '1' } else { '0' });
    let typo = change(
        "member",
        bad_member,
        Op::Create,
        0,
        json!({"household_id": household, "name": "王五", "sex": "male", "id_number": mistyped, "relation": "son"}),
    );
    let visit = change(
        "visit_log",
        Uuid::new_v4(),
        Op::Create,
        0,
        json!({"household_id": household, "visited_on": "2026-11-20", "note": "入户核实收入"}),
    );
    let first_id;
    {
        let mut outbox = Outbox::open(&path).expect("open");
        first_id = outbox.enqueue(create).expect("enqueue");
        outbox.enqueue(vec![typo.clone()]).expect("enqueue");
        outbox.enqueue(vec![visit]).expect("enqueue");
        assert_eq!(outbox.pending()[0].changes[0].entity, "household", "household before its members");
    }
    // The phone restarts before it gets signal: the queue is still there.
    let mut outbox = Outbox::open(&path).expect("reopen");
    assert_eq!(outbox.pending().len(), 3);

    // The first change set reached the server once already, but the answer was lost.
    let first = outbox.pending()[0].clone();
    phone.push(&PushRequest { changesets: vec![first] }).await.expect("push");

    let report = outbox.flush(&phone, 2).await.expect("flush");
    assert_eq!((report.applied, report.duplicates, report.rejected), (1, 1, 1), "{report:?}");
    assert!(outbox.pending().is_empty());
    assert_eq!(outbox.set_aside().len(), 1, "the bad change set is kept, not deleted");
    let aside = &outbox.set_aside()[0];
    assert_eq!(aside.result.changes[0].errors[0].code, "invalid_id_number");
    assert_ne!(aside.changeset.id, first_id);

    let state = app.admin.household(household).await;
    assert_eq!(state["member"].as_array().map(Vec::len), Some(2), "applied once despite the retry");
    assert_eq!(state["visit_log"][0]["note"], "入户核实收入", "the queue went on past the rejected set");

    // The officer corrects the number and sends it again.
    let mut fixed = typo;
    fixed.fields.insert("id_number".into(), json!(fresh_id_number()));
    let aside_id = aside.changeset.id;
    outbox.retry_set_aside(aside_id, vec![fixed]).expect("retry");
    let report = outbox.flush(&phone, 10).await.expect("flush");
    assert_eq!(report.applied, 1);
    assert!(outbox.set_aside().is_empty() && outbox.pending().is_empty());
    assert_eq!(app.admin.household(household).await["member"].as_array().map(Vec::len), Some(3));
    let _ = std::fs::remove_dir_all(dir);
}
