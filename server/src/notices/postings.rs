//! Posting photos uploaded from the office: the village team at a PC adds a photo of the
//! notice on the village board (from a phone's gallery, not through a device's sync), as
//! evidence that the notice was posted. One transaction stores the photo, links it to
//! the notice (so exactly the notice's readers may download it, `attachments::load`) and
//! adds it to the notice's postings, audited.
//!
//! What it must never do: take a photo from someone who may not add postings to this
//! notice (`notice::add_posting`'s rule: the grant for the notice's step and region), or
//! add the same photo twice to a notice when an upload is retried.

use super::notice::{self, NoticeView};
use crate::attachments::{self, Photo, Quotas};
use crate::auth::Caller;
use crate::db::Db;
use crate::error::Refusal;
use jingzhun_mobile_api::errors::ErrorCode;

/// Stores `photo` as a posting of notice `id` and answers the notice as it then stands.
/// The same bytes again answer the notice unchanged.
pub async fn upload_photo(
    db: &Db,
    caller: &Caller,
    id: &str,
    photo: Photo,
    quotas: Quotas,
) -> Result<NoticeView, Refusal> {
    let txn = db.begin_write().await?;
    notice::lock(&*txn, id).await?;
    let row = notice::load_by(&*txn, "id", id).await?.ok_or_else(Refusal::not_found)?;
    notice::grant_for(caller, row.step, &row.region_code).ok_or_else(Refusal::out_of_scope)?;
    if !matches!(row.status.as_str(), "published" | "closed") {
        return Err(Refusal::conflict(ErrorCode::NoticeNotPublished));
    }
    let linked = attachments::link_to_notice(&*txn, caller, id, photo, quotas).await?;
    if linked.added {
        notice::append_posting(&*txn, caller, &row, &linked.id).await?;
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    notice::view(db, id, None).await
}
