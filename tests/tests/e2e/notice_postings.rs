//! Posting photos (张贴照片) uploaded from the office (issue 12, 公示公告), on both
//! backends: the village team at a PC adds a photo of its published notice on the board
//! (`POST /api/v1/notices/{id}/postings/photo`), the same bytes again add nothing, only a
//! JPEG or PNG is kept, and the photo is readable by exactly the notice's readers
//! (`GET /api/mobile/v1/attachments/{id}`, with a bearer token or the console's cookie):
//! another township's users may neither post nor read it. The villagers' page does not
//! show it: the page is the notice itself, frozen and hashed; a photo of the board may
//! show who stood before it, and proves the posting to the levels above, not to villagers.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(a_posting_photo_from_the_office_is_read_by_the_notices_readers_only);

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 the notice on the village board";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR the board from further away";

fn photo(name: &str, bytes: &[u8]) -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned());
    reqwest::multipart::Form::new().part("file", part)
}

fn postings(view: &Value) -> Vec<String> {
    let ids = view["posting_attachment_ids"].as_array().unwrap_or_else(|| panic!("a notice: {view}"));
    ids.iter().map(|id| id.as_str().expect("id").to_owned()).collect()
}

/// A village notice of one identification, published by the village team: (id, token).
async fn published_notice(app: &TestApp) -> (String, String) {
    case_at_village_notice(app).await;
    let [_, village, _, _] = users(app).await;
    let draft = village.ok_post("/api/v1/notices", json!({"step": "village_notice", "region_code": VILLAGE_1})).await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let (status, body) =
        village.post_multipart(&format!("/api/v1/notices/{id}/postings/photo"), photo("a.jpg", JPEG)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("notice_not_published")), "not while a draft");
    let published = village.ok_post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    let token = published["url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned();
    (id, token)
}

async fn a_posting_photo_from_the_office_is_read_by_the_notices_readers_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (id, token) = published_notice(&app).await;
    let [officer, village, township, county] = users(&app).await;
    let path = format!("/api/v1/notices/{id}/postings/photo");

    // The village team uploads the photo: it is the notice's posting, and its hash stays.
    let before = village.ok_get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(before["actions"], json!(["posting"]), "the console shows the upload to the team");
    let (status, posted) = village.post_multipart(&path, photo("公示张贴.jpg", JPEG)).await;
    assert_eq!(status, 200, "{posted}");
    let ids = postings(&posted);
    assert_eq!(ids.len(), 1, "{posted}");
    assert_eq!(posted["content_sha256"], before["content_sha256"]);
    let photo_id = ids[0].clone();

    // A retry of the same bytes adds nothing: no second posting, link or audit entry.
    let (status, again) = village.post_multipart(&path, photo("公示张贴(1).jpg", JPEG)).await;
    assert_eq!((status, postings(&again)), (200, vec![photo_id.clone()]), "{again}");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM attachment_notice_link WHERE notice_id = '{id}'")).await, 1);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'notice_posting' AND entity_id = '{id}'"))
            .await,
        1
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'upload' AND entity_id = '{photo_id}'"))
            .await,
        1
    );

    // A PNG is a photo too; anything else is refused by its bytes, whatever its name says.
    let (status, second) = village.post_multipart(&path, photo("远景.png", PNG)).await;
    assert_eq!((status, postings(&second).len()), (200, 2), "{second}");
    for (name, bytes) in [
        ("notice.jpg", &b"<html><script>alert(1)</script></html>"[..]),
        ("board.jpg", &b"RIFF\x24\x00\x00\x00WEBPVP8 "[..]),
        ("board.jpg", &b"%PDF-1.7\n"[..]),
    ] {
        let (status, body) = village.post_multipart(&path, photo(name, bytes)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (415, Some("content_type_not_allowed")), "{name}");
    }
    let (status, body) = village.post_multipart(&path, reqwest::multipart::Form::new().text("note", "no file")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_request")));
    assert_eq!(postings(&village.ok_get(&format!("/api/v1/notices/{id}")).await).len(), 2);

    // Who reads the notice reads the photo: the team, the township above it, the county.
    let download = format!("/api/mobile/v1/attachments/{photo_id}");
    for who in [&village, &township, &county] {
        let (status, bytes) = who.get_text(&download).await;
        assert_eq!((status, bytes), (200, String::from_utf8_lossy(JPEG).into_owned()));
    }
    // The township reads the notice but posts nothing to it, as with `postings`.
    let (status, body) = township.post_multipart(&path, photo("镇里.jpg", b"\xff\xd8\xff\xe0 township")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("out_of_scope")), "{body}");
    // An officer reads households, not notices: the photo is no household's.
    assert_eq!(officer.get_text(&download).await.0, 404);

    // Another township's user may neither post nor read it, nor learn that it exists.
    app.admin
        .ok_post(
            "/api/v1/regions",
            json!({"code": "320703002000", "name": "二号镇", "level": "township", "parent_code": COUNTY}),
        )
        .await;
    app.admin
        .ok_post(
            "/api/v1/users",
            json!({"username": "township-2", "name": "二号镇", "password": PASSWORD, "roles": [{"role": "township", "region_code": "320703002000"}]}),
        )
        .await;
    let stranger = Admin::login(&app.base, "township-2", PASSWORD).await;
    let (status, _) = stranger.post_multipart(&path, photo("别处.jpg", b"\xff\xd8\xff\xe0 elsewhere")).await;
    assert_eq!(status, 403);
    assert_eq!(stranger.get_text(&download).await.0, 404);
    assert_eq!(stranger.get_text(&format!("/api/mobile/v1/attachments/{}", Uuid::new_v4())).await.0, 404);
    assert_eq!(postings(&village.ok_get(&format!("/api/v1/notices/{id}")).await).len(), 2);

    // The console reads it with its cookie, as an <img> does; an upload with the cookie
    // must repeat the session's CSRF token.
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/auth/session", app.base))
        .json(&json!({"username": "village-1", "password": PASSWORD}))
        .send()
        .await
        .expect("session");
    let cookie = res.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let csrf = res.json::<Value>().await.expect("session body")["csrf_token"].as_str().expect("csrf").to_owned();
    let res = http.get(format!("{}{download}", app.base)).header("cookie", &cookie).send().await.expect("download");
    assert_eq!((res.status().as_u16(), res.headers()["content-type"].to_str().ok()), (200, Some("image/jpeg")));
    let upload = |csrf: Option<&str>| {
        let mut req = http
            .post(format!("{}{path}", app.base))
            .header("cookie", &cookie)
            .multipart(photo("第三张.jpg", b"\xff\xd8\xff\xe0 a third photo"));
        if let Some(csrf) = csrf {
            req = req.header("x-csrf-token", csrf);
        }
        req.send()
    };
    assert_eq!(upload(None).await.expect("upload").status(), 403, "no CSRF token, no upload");
    let res = upload(Some(&csrf)).await.expect("upload");
    assert_eq!(res.status(), 200);
    assert_eq!(postings(&res.json().await.expect("notice")).len(), 3);

    // The villagers' page is the notice: no photo, no photo id.
    let page = reqwest::get(format!("{}/n/{token}", app.base)).await.expect("page").text().await.expect("html");
    assert!(!page.contains(&photo_id) && !page.contains("/attachments/"), "{page}");
}
