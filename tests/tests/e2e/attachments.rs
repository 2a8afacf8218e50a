//! Attachments: idempotent by content hash, size-limited, scope-checked; photos the
//! phone names itself, listed by a visit log before their upload (issue 13); the error
//! texts and rule choices a phone keeps for offline use.

use crate::harness::*;
use crate::on_both_backends;
use jingzhun_mobile_api::client::Client;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::wire::{ChangeSetStatus, Op, RegionPolicy};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    attachments_are_idempotent_limited_and_scoped,
    photos_named_by_the_phone_are_listed_before_their_upload,
    a_reassigned_officer_uploads_only_the_photos_they_listed,
    the_schema_carries_every_error_text_and_policies_answer_officers,
);

async fn attachments_are_idempotent_limited_and_scoped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.sync.attachment_max_bytes = 64 * 1024).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    // A JPEG by its first bytes: only images and PDFs are kept (issue 9, M8).
    let photo: Vec<u8> =
        b"\xff\xd8\xff\xe0".iter().copied().chain((4..20_000u32).map(|i| (i * 7 % 251) as u8)).collect();

    let first = a.upload_attachment(household, "visit.jpg", "image/jpeg", photo.clone()).await.expect("upload");
    let again =
        a.upload_attachment(household, "visit-retry.jpg", "image/jpeg", photo.clone()).await.expect("upload again");
    assert_eq!(first.id, again.id, "the same bytes are one attachment");
    assert_eq!(first.sha256.len(), 64);
    assert_eq!(first.size, 20_000);
    assert_eq!(a.download_attachment(first.id).await.expect("download"), photo);

    // Not B's household: the same answer as an unknown id (L10).
    let err = b.download_attachment(first.id).await.expect_err("not B's household");
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
    let err =
        b.upload_attachment(household, "x.jpg", "image/jpeg", vec![1, 2, 3]).await.expect_err("not B's household");
    assert_eq!((err.status(), err.code()), (Some(403), Some("out_of_scope")));

    let big = vec![0u8; 65 * 1024];
    let err = a.upload_attachment(household, "big.jpg", "image/jpeg", big).await.expect_err("too large");
    assert_eq!((err.status(), err.code()), (Some(413), Some("attachment_too_large")));
}

/// A JPEG by its first bytes, `size` long, its content varied by `seed`.
fn jpeg(size: usize, seed: u32) -> Vec<u8> {
    let mut bytes = b"\xff\xd8\xff\xe0".to_vec();
    bytes.extend((4..size as u32).map(|i| (i.wrapping_mul(7).wrapping_add(seed) % 251) as u8));
    bytes
}

async fn applied(phone: &Client, changes: Vec<jingzhun_mobile_api::wire::Change>) {
    let res = push(phone, vec![changeset(changes)]).await;
    assert_eq!(res.results[0].status, ChangeSetStatus::Applied, "{:?}", res.results[0]);
}

async fn photos_named_by_the_phone_are_listed_before_their_upload(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.sync.attachment_max_bytes = 64 * 1024;
        config.uploads.attachment_quota_per_household_bytes = 50_000;
    })
    .await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;
    let b = app.phone("officer-b", "phone-b").await;
    let (mine, _) = create_household(&a, VILLAGE_1, 0).await;
    let (theirs, _) = create_household(&b, VILLAGE_2, 0).await;
    let photo = jpeg(20_000, 1);

    // The visit is recorded offline with the id the camera gave the photo; the upload
    // comes when there is signal, and until then the id leads nowhere.
    let taken = Uuid::new_v4();
    applied(
        &a,
        vec![change(
            "visit_log",
            Uuid::new_v4(),
            Op::Create,
            0,
            json!({"household_id": mine, "visited_on": "2026-12-01", "note": "走访", "attachment_ids": [taken]}),
        )],
    )
    .await;
    let err = a.download_attachment(taken).await.expect_err("not uploaded yet");
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
    let stored = a.upload_attachment_as(taken, mine, "visit.jpg", "image/jpeg", photo.clone()).await.expect("upload");
    assert_eq!((stored.id, stored.size), (taken, 20_000));
    assert_eq!(a.download_attachment(taken).await.expect("the listed photo"), photo);
    let state = app.admin.household(mine).await;
    assert_eq!(state["visit_log"][0]["attachment_ids"], json!([taken]), "{state}");

    // The answer was lost on the way back: the retry answers the same, once linked,
    // once audited.
    let again = a.upload_attachment_as(taken, mine, "visit.jpg", "image/jpeg", photo.clone()).await.expect("retry");
    assert_eq!((again.id, &again.sha256), (taken, &stored.sha256));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM attachment_link WHERE attachment_id = '{taken}'")).await, 1);
    let uploads = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'upload' AND entity_id = '{taken}'");
    assert_eq!(app.count(&uploads).await, 1);
    // Other bytes under the same id: refused, and the visit's photo stays the one taken.
    let err =
        a.upload_attachment_as(taken, mine, "other.jpg", "image/jpeg", jpeg(1_000, 2)).await.expect_err("id in use");
    assert_eq!((err.status(), err.code()), (Some(409), Some("attachment_id_in_use")));
    assert_eq!(a.download_attachment(taken).await.expect("still the photo"), photo);

    // The same picture for B's household under B's own id: the bytes are kept once and
    // B's id is an alias; each id is read only where it was uploaded.
    let b_taken = Uuid::new_v4();
    let aliased =
        b.upload_attachment_as(b_taken, theirs, "same.jpg", "image/jpeg", photo.clone()).await.expect("alias");
    assert_eq!((aliased.id, &aliased.sha256), (b_taken, &stored.sha256));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM attachment WHERE sha256 = '{}'", stored.sha256)).await, 1);
    let alias = format!("SELECT COUNT(*) FROM attachment_alias WHERE id = '{b_taken}' AND attachment_id = '{taken}'");
    assert_eq!(app.count(&alias).await, 1);
    assert_eq!(b.download_attachment(b_taken).await.expect("B's id"), photo);
    for (phone, id) in [(&b, taken), (&a, b_taken)] {
        let err = phone.download_attachment(id).await.expect_err("the other officer's id");
        assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
    }
    let err =
        b.upload_attachment_as(b_taken, theirs, "x.jpg", "image/jpeg", jpeg(1_000, 3)).await.expect_err("alias in use");
    assert_eq!((err.status(), err.code()), (Some(409), Some("attachment_id_in_use")));

    // Quota of 50,000 bytes a household: each holds 20,000 (B's through the alias), so
    // 20,000 more fit and the next do not. A retry of a photo already there still
    // answers once the quota is used up: it costs nothing.
    for (phone, household, seed) in [(&a, mine, 10), (&b, theirs, 20)] {
        phone
            .upload_attachment_as(Uuid::new_v4(), household, "2.jpg", "image/jpeg", jpeg(20_000, seed))
            .await
            .expect("within the quota");
        let err = phone
            .upload_attachment_as(Uuid::new_v4(), household, "3.jpg", "image/jpeg", jpeg(20_000, seed + 1))
            .await
            .expect_err("over the household's quota");
        assert_eq!((err.status(), err.code()), (Some(413), Some("quota_exceeded")));
    }
    let again = a.upload_attachment_as(taken, mine, "visit.jpg", "image/jpeg", photo.clone()).await.expect("retry");
    assert_eq!(again.id, taken);

    // An id that is not a UUID is the phone's bug, said as such.
    let form = reqwest::multipart::Form::new()
        .text("id", "photo-1")
        .text("household_id", mine.to_string())
        .part("file", reqwest::multipart::Part::bytes(jpeg(1_000, 4)).file_name("x.jpg"));
    let answer = reqwest::Client::new()
        .post(format!("{}/api/mobile/v1/attachments", app.base))
        .bearer_auth(a.token().expect("token"))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status().as_u16(), 400);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_request", "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "id", "{body}");
}

async fn a_reassigned_officer_uploads_only_the_photos_they_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = seed(&app).await;
    let mut a = Client::new(&app.base);
    let officer_a = a.login("officer-a", PASSWORD, "phone-a", "test phone").await.expect("login").user.id;
    let b = app.phone("officer-b", "phone-b").await;
    let (household, _) = create_household(&a, VILLAGE_1, 0).await;
    let (visit, plan, task) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (on_visit, as_evidence, by_b, never) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());

    // Before the move, A records a visit with a photo and a task done with its evidence.
    applied(
        &a,
        vec![
            change("help_plan", plan, Op::Create, 0, json!({"household_id": household, "year": 2026})),
            change(
                "plan_task",
                task,
                Op::Create,
                0,
                json!({"household_id": household, "plan_id": plan, "title": "购买菌棒", "due_date": "2026-12-20",
                       "done": true, "evidence_ids": [as_evidence]}),
            ),
            change(
                "visit_log",
                visit,
                Op::Create,
                0,
                json!({"household_id": household, "visited_on": "2026-12-01", "attachment_ids": [on_visit]}),
            ),
        ],
    )
    .await;
    // A's households move to B, who adds a photo of their own to A's visit.
    app.admin
        .ok_post(
            "/api/v1/assignments/reassign",
            json!({"from_officer_id": officer_a, "to_officer_id": world.officer_b}),
        )
        .await;
    applied(&b, vec![change("visit_log", visit, Op::Update, 1, json!({"attachment_ids": [on_visit, by_b]}))]).await;

    // A's phone gets signal and uploads what it holds: the photos A listed go up.
    for (id, seed) in [(on_visit, 1), (as_evidence, 2)] {
        let stored =
            a.upload_attachment_as(id, household, "p.jpg", "image/jpeg", jpeg(2_000, seed)).await.expect("A's photo");
        assert_eq!(stored.id, id);
    }
    // What A did not list (B's photo, an id nothing lists, no id at all) is refused.
    for id in [by_b, never] {
        let err =
            a.upload_attachment_as(id, household, "p.jpg", "image/jpeg", jpeg(2_000, 3)).await.expect_err("not A's");
        assert_eq!((err.status(), err.code()), (Some(403), Some("assignment_ended")), "{id}");
    }
    let err = a.upload_attachment(household, "p.jpg", "image/jpeg", jpeg(2_000, 4)).await.expect_err("no id");
    assert_eq!((err.status(), err.code()), (Some(403), Some("assignment_ended")));

    // The household's officer now is B, who sees A's photos; A no longer reads them.
    assert_eq!(b.download_attachment(on_visit).await.expect("B reads it"), jpeg(2_000, 1));
    assert_eq!(b.download_attachment(as_evidence).await.expect("B reads it"), jpeg(2_000, 2));
    let err = a.download_attachment(on_visit).await.expect_err("A's assignment ended");
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
}

async fn the_schema_carries_every_error_text_and_policies_answer_officers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = app.phone("officer-a", "phone-a").await;

    // Every code with its words, so the app says what the server would while offline.
    let schema = a.schema().await.expect("schema");
    assert_eq!(schema.error_messages.len(), ErrorCode::ALL.len());
    let in_use = schema.error_messages.iter().find(|m| m.code == "attachment_id_in_use").expect("the new code");
    assert_eq!(in_use.message_zh, "照片编号已被其他文件使用");
    assert_eq!(in_use.message_en, "This photo id is already used by another file");

    let policy = |prefix: &str, pension_counted: bool| RegionPolicy {
        region_code: format!("{prefix:0<12}"),
        region_prefix: prefix.to_owned(),
        pension_counted,
    };
    assert_eq!(a.policies().await.expect("policies").regions, [], "no households yet");
    create_household(&a, VILLAGE_1, 0).await;
    // 3207 (Lianyungang, 004) counts the pension.
    assert_eq!(a.policies().await.expect("policies").regions, [policy("320703", true)]);

    // The county leaves it out, except one township that keeps it: the phone is told
    // both, and the township's households follow the longer prefix.
    let county = Admin::login(&app.base, "county", PASSWORD).await;
    let stored = county.ok_get("/api/v1/rule-policies").await;
    let base = stored.as_array().expect("policies").iter().find(|p| p["region_prefix"] == "3207").expect("3207");
    for (prefix, counted) in [("320703", false), ("320703001", true)] {
        let mut variant = base["policy"].clone();
        variant["pension_counted"] = json!(counted);
        let (status, body) = county
            .put("/api/v1/rule-policies", json!({"region_prefix": prefix, "policy": variant, "source": "测试"}))
            .await;
        assert_eq!(status, 204, "{body}");
    }
    assert_eq!(a.policies().await.expect("policies").regions, [policy("320703", false), policy("320703001", true)]);

    let err = Client::new(&app.base).policies().await.expect_err("no token");
    assert_eq!((err.status(), err.code()), (Some(401), Some("unauthenticated")));
}
