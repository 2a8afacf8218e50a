//! Attachments: idempotent by content hash, size-limited, scope-checked.

use crate::harness::*;
use crate::on_both_backends;

on_both_backends!(attachments_are_idempotent_limited_and_scoped);

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
