//! Users and their region-scoped roles, with the officer particulars the register
//! prints (性别, 政治面貌, 帮扶单位); the listing filters and pages them for a manager.
//!
//! What this must never do: list a user to someone who manages none of their regions, or
//! show a phone number or e-mail address whole in a list.

use super::{Actor, RegistryError};
use crate::audit;
use crate::auth::roles::level_of_code;
use crate::auth::{self, Caller, Role};
use crate::db::Db;
use crate::db::entities::{access_token, app_user, region, role_grant};
use chrono::Utc;
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::validate;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

pub struct NewUser {
    pub username: String,
    pub name: String,
    pub password: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<(Role, String)>,
}

/// Creates a user with roles. A user made through the API needs at least one role the
/// actor may grant, so every account has a region that someone manages.
pub async fn create(db: &Db, actor: &Actor, new: NewUser) -> Result<app_user::Model, RegistryError> {
    if !actor.manages_any_region() {
        return Err(RegistryError::Forbidden(ErrorCode::Forbidden));
    }
    let username = new.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_control) {
        return Err(RegistryError::Invalid("username must be 1–64 characters"));
    }
    if new.name.chars().count() > 100 || new.name.chars().any(char::is_control) {
        return Err(RegistryError::Invalid("name must be at most 100 characters"));
    }
    check_password(&new.password)?;
    let phone = contact(new.phone.as_deref(), validate::canonical_phone, ErrorCode::InvalidPhone)?;
    let email = contact(new.email.as_deref(), |e| plausible_email(e).then(|| e.to_owned()), ErrorCode::InvalidAddress)?;
    if actor.caller().is_some() && new.roles.is_empty() {
        return Err(RegistryError::Forbidden(ErrorCode::GrantNotAllowed));
    }
    for (role, region_code) in &new.roles {
        check_grant(actor, *role, region_code)?;
    }
    let hash = hash(&new.password).await?;
    let txn = db.begin_write().await?;
    if app_user::Entity::find().filter(app_user::Column::Username.eq(&username)).one(&*txn).await?.is_some() {
        return Err(RegistryError::AlreadyExists);
    }
    let user = insert(&*txn, NewUserRow { username, name: new.name, password_hash: hash, phone, email }).await?;
    let mut entry = actor.audit("create", "user", &user.id);
    entry.new_value = Some(user.username.clone());
    let mut entries = vec![entry];
    for (role, region_code) in &new.roles {
        if region::Entity::find_by_id(region_code.clone()).one(&*txn).await?.is_none() {
            return Err(RegistryError::Invalid("role region does not exist"));
        }
        grant(&*txn, &user.id, *role, region_code).await?;
        let mut entry = actor.audit("grant_role", "user", &user.id);
        entry.new_value = Some(format!("{} {region_code}", role.as_str()));
        entries.push(entry);
    }
    audit::record(&*txn, &entries).await?;
    txn.commit().await?;
    Ok(user)
}

pub struct NewUserRow {
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Inserts a user row with an already computed hash (bulk loading shares one hash).
pub async fn insert(conn: &impl ConnectionTrait, row: NewUserRow) -> Result<app_user::Model, sea_orm::DbErr> {
    app_user::ActiveModel {
        id: Set(Uuid::new_v4().to_string()),
        username: Set(row.username),
        name: Set(row.name),
        phone: Set(row.phone),
        email: Set(row.email),
        password_hash: Set(row.password_hash),
        active: Set(true),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
}

pub async fn grant(
    conn: &impl ConnectionTrait,
    user_id: &str,
    role: Role,
    region_code: &str,
) -> Result<(), sea_orm::DbErr> {
    role_grant::ActiveModel {
        id: Set(Uuid::new_v4().to_string()),
        user_id: Set(user_id.to_owned()),
        role: Set(role.as_str().to_owned()),
        region_code: Set(region_code.to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

/// A role the actor may give, and the region under which they may give it (the region of
/// one of their own managing grants) at the level the role is tied to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grantable {
    pub role: Role,
    pub within: String,
    pub level: Option<&'static str>,
}

/// What the actor may grant, from the same rule `check_grant` applies, so the console
/// offers no role or region the server would refuse. Someone who manages nothing gets
/// nothing; the command line is not a caller and gets nothing either.
pub fn grantable(actor: &Actor) -> Vec<Grantable> {
    let Some(caller) = actor.caller() else { return Vec::new() };
    let mut found = Vec::new();
    for own in caller.grants.iter().filter(|g| g.role.manages()) {
        for role in Role::ALL {
            let offer = Grantable { role, within: own.region_code.clone(), level: role.required_level() };
            if own.may_grant(role, &own.region_code) && !found.contains(&offer) {
                found.push(offer);
            }
        }
    }
    found
}

/// Whether the actor may give this role over this region: a lower role than their own,
/// inside their region, at the level the role works at.
fn check_grant(actor: &Actor, role: Role, region_code: &str) -> Result<(), RegistryError> {
    if role.required_level().is_some_and(|level| level_of_code(region_code) != Some(level)) {
        return Err(RegistryError::Rejected(ErrorCode::RegionCodeLevel));
    }
    if !actor.may_grant(role, region_code) {
        return Err(RegistryError::Forbidden(ErrorCode::GrantNotAllowed));
    }
    Ok(())
}

/// A phone or email as stored (phones as digits), None when blank; the notifier sends
/// to what is stored, so a form it cannot send to is refused here.
fn contact(
    value: Option<&str>,
    canonical: impl Fn(&str) -> Option<String>,
    code: ErrorCode,
) -> Result<Option<String>, RegistryError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => canonical(v).map(Some).ok_or(RegistryError::Rejected(code)),
    }
}

fn plausible_email(email: &str) -> bool {
    let parts = email.split_once('@');
    email.len() <= 254
        && !validate::has_control_characters(email, false)
        && !email.contains(char::is_whitespace)
        && parts.is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'))
}

/// At least 8 characters with a letter and a digit; 200 at most (argon2 hashes it whole).
pub fn check_password(password: &str) -> Result<(), RegistryError> {
    let long_enough = (8..=200).contains(&password.chars().count());
    let mixed = password.chars().any(char::is_alphabetic) && password.chars().any(|c| c.is_ascii_digit());
    if long_enough && mixed { Ok(()) } else { Err(RegistryError::Rejected(ErrorCode::WeakPassword)) }
}

async fn hash(password: &str) -> Result<String, RegistryError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| RegistryError::Invalid("could not hash the password"))?
        .map_err(|_| RegistryError::Invalid("could not hash the password"))
}

/// A user with their roles and particulars, as listed.
pub struct Listed {
    pub user: app_user::Model,
    pub roles: Vec<(Role, String)>,
    pub profile: Profile,
}

/// A user's contact and officer particulars (migration 000027).
#[derive(Debug, Clone, Default, sea_orm::FromQueryResult)]
pub struct Profile {
    pub id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A code of the `sex` table.
    pub sex: Option<String>,
    /// A code of the `political_status` table.
    pub political_status: Option<String>,
    /// 帮扶（选派）单位.
    pub work_unit: Option<String>,
}

impl Profile {
    /// As a list shows it: the phone and the e-mail address masked (a list is copied and
    /// passed around; the whole number is on the user's own record).
    pub fn masked(self) -> Profile {
        Profile {
            phone: self.phone.as_deref().map(validate::mask_phone),
            email: self.email.as_deref().map(|e| match e.split_once('@') {
                Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
                None => "***".into(),
            }),
            ..self
        }
    }
}

/// Which users a listing shows, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Users holding this role (in a region the filter's region contains, if given).
    pub role: Option<Role>,
    /// Users with a grant in this region or below it.
    pub region_code: Option<String>,
    /// A part of the username or the name.
    pub q: Option<String>,
    /// From 1. Without `page` and `per_page` the whole list, as before paging existed.
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Most users on one page.
pub const MAX_PER_PAGE: u32 = 200;
const DEFAULT_PER_PAGE: u32 = 50;

/// One page of a listing and how many users the filter matches in all.
pub struct Page {
    pub users: Vec<Listed>,
    pub total: usize,
}

/// Users with a role in a region the actor manages, by username, each with all their
/// roles and particulars (phone and e-mail masked), filtered and paged. Managers only.
pub async fn list(conn: &impl ConnectionTrait, actor: &Actor, filter: &UserFilter) -> Result<Page, RegistryError> {
    if !actor.manages_any_region() {
        return Err(RegistryError::Forbidden(ErrorCode::Forbidden));
    }
    let region_prefix = filter.region_code.as_deref().map(crate::auth::roles::region_prefix);
    // Role and region match one grant: an officer in one village who is the village team
    // of another is not an officer of the second.
    let matches = |g: &role_grant::Model| {
        filter.role.is_none_or(|r| g.role == r.as_str())
            && region_prefix.is_none_or(|prefix| g.region_code.starts_with(prefix))
    };
    // Each user's grants in the order they were given, on both backends alike.
    let grants = role_grant::Entity::find()
        .order_by_asc(role_grant::Column::UserId)
        .order_by_asc(role_grant::Column::CreatedAt)
        .order_by_asc(role_grant::Column::Id)
        .all(conn)
        .await?;
    let managed: std::collections::HashSet<&str> =
        grants.iter().filter(|g| actor.manages_region(&g.region_code)).map(|g| g.user_id.as_str()).collect();
    let mut ids: Vec<String> = grants
        .iter()
        .filter(|g| managed.contains(g.user_id.as_str()) && matches(g))
        .map(|g| g.user_id.clone())
        .collect();
    ids.dedup();
    let mut users = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        users.extend(app_user::Entity::find().filter(app_user::Column::Id.is_in(chunk.to_vec())).all(conn).await?);
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let q = q.to_lowercase();
        users.retain(|u| u.username.to_lowercase().contains(&q) || u.name.to_lowercase().contains(&q));
    }
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let total = users.len();
    if filter.page.is_some() || filter.per_page.is_some() {
        let per_page = filter.per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE) as usize;
        let page = filter.page.unwrap_or(1).max(1) as usize;
        users = users.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).collect();
    }
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let mut profiles = profiles(conn, &ids).await?;
    Ok(Page {
        users: users
            .into_iter()
            .map(|user| {
                let roles = grants
                    .iter()
                    .filter(|g| g.user_id == user.id)
                    .filter_map(|g| Role::parse(&g.role).map(|role| (role, g.region_code.clone())))
                    .collect();
                let profile = profiles.remove(&user.id).unwrap_or_default().masked();
                Listed { user, roles, profile }
            })
            .collect(),
        total,
    })
}

/// The particulars of these users, by id, whole: for one user's own record, or to mask.
pub async fn profiles(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Profile>, sea_orm::DbErr> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let text = format!(
            "SELECT id, phone, email, sex, political_status, work_unit FROM app_user WHERE id IN ({})",
            crate::db::placeholders(chunk.len())
        );
        let values = chunk.iter().map(|id| id.as_str().into()).collect();
        let rows = <Profile as sea_orm::FromQueryResult>::find_by_statement(crate::db::sql(
            conn.get_database_backend(),
            &text,
            values,
        ));
        for row in rows.all(conn).await? {
            found.insert(row.id.clone(), row);
        }
    }
    Ok(found)
}

/// A user's grants as (role, region), for the actor's `manages_user` check.
pub async fn grants(conn: &impl ConnectionTrait, user_id: &str) -> Result<Vec<(Role, String)>, sea_orm::DbErr> {
    Ok(role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|g| Role::parse(&g.role).map(|role| (role, g.region_code)))
        .collect())
}

/// Loads a user the actor manages, inside the transaction; 404 for one they cannot see.
async fn managed_user(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    user_id: &str,
) -> Result<app_user::Model, RegistryError> {
    let user = app_user::Entity::find_by_id(user_id.to_owned()).one(conn).await?.ok_or(RegistryError::NotFound)?;
    if !actor.manages_user(&grants(conn, user_id).await?) {
        return Err(RegistryError::Forbidden(ErrorCode::GrantNotAllowed));
    }
    Ok(user)
}

/// Ends every token of a user (all devices): after a password change, a reset or a
/// deactivation. `keep` spares the token of the request that changed the password.
async fn revoke_tokens(conn: &impl ConnectionTrait, user_id: &str, keep: Option<&str>) -> Result<u64, sea_orm::DbErr> {
    let mut update = access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(access_token::Column::UserId.eq(user_id))
        .filter(access_token::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(access_token::Column::TokenHash.ne(keep));
    }
    let sessions = crate::auth::session::revoke_all_of(conn, user_id, keep).await?;
    Ok(update.exec(conn).await?.rows_affected + sessions)
}

pub async fn add_role(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    role: Role,
    region_code: &str,
) -> Result<(), RegistryError> {
    check_grant(actor, role, region_code)?;
    let txn = db.begin_write().await?;
    managed_user(&*txn, actor, user_id).await?;
    if region::Entity::find_by_id(region_code.to_owned()).one(&*txn).await?.is_none() {
        return Err(RegistryError::Invalid("role region does not exist"));
    }
    grant(&*txn, user_id, role, region_code).await.map_err(|e| {
        if crate::db::is_unique_violation(&e) { RegistryError::AlreadyExists } else { RegistryError::Db(e) }
    })?;
    let mut entry = actor.audit("grant_role", "user", user_id);
    entry.new_value = Some(format!("{} {region_code}", role.as_str()));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// Takes a role away. The actor must be able to grant it; the user's tokens stay (their
/// grants are read on every request, so the role is gone at once).
pub async fn remove_role(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    role: Role,
    region_code: &str,
) -> Result<(), RegistryError> {
    check_grant(actor, role, region_code)?;
    let txn = db.begin_write().await?;
    managed_user(&*txn, actor, user_id).await?;
    let removed = role_grant::Entity::delete_many()
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(role.as_str()))
        .filter(role_grant::Column::RegionCode.eq(region_code))
        .exec(&*txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(RegistryError::NotFound);
    }
    let mut entry = actor.audit("remove_role", "user", user_id);
    entry.old_value = Some(format!("{} {region_code}", role.as_str()));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// Deactivates (or reactivates) a user: a deactivated user cannot sign in and every
/// token they hold ends now.
pub async fn set_active(db: &Db, actor: &Actor, user_id: &str, active: bool) -> Result<app_user::Model, RegistryError> {
    let txn = db.begin_write().await?;
    let user = managed_user(&*txn, actor, user_id).await?;
    if actor.user_id.as_deref() == Some(user_id) && !active {
        return Err(RegistryError::Invalid("you cannot deactivate yourself"));
    }
    let mut model: app_user::ActiveModel = user.into();
    model.active = Set(active);
    let user = model.update(&*txn).await?;
    let revoked = if active { 0 } else { revoke_tokens(&*txn, user_id, None).await? };
    let mut entry = actor.audit(if active { "activate_user" } else { "deactivate_user" }, "user", user_id);
    entry.note = Some(format!("{revoked} tokens revoked"));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(user)
}

/// A manager sets a new password for a user they manage (forgotten password): every
/// token of the user ends, so a phone signed in by someone else is signed out.
pub async fn reset_password(db: &Db, actor: &Actor, user_id: &str, password: &str) -> Result<(), RegistryError> {
    check_password(password)?;
    let hash = hash(password).await?;
    let txn = db.begin_write().await?;
    let user = managed_user(&*txn, actor, user_id).await?;
    set_password(&txn, actor, user, hash, None).await?;
    txn.commit().await?;
    Ok(())
}

/// Ends the token of the caller's request (`token_hash`); the device stays bound to them.
pub async fn sign_out(db: &Db, caller: &Caller, token_hash: &str) -> Result<(), RegistryError> {
    let txn = db.begin_write().await?;
    access_token::Entity::update_many()
        .col_expr(access_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(access_token::Column::TokenHash.eq(token_hash))
        .exec(&*txn)
        .await?;
    let entry = Actor::of(caller).audit("logout", "user", &caller.user_id);
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

/// A user changes their own password, proving the current one: their other tokens end,
/// the one making the change (`keep`, a token hash) stays.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    current: &str,
    new: &str,
    keep: &str,
) -> Result<(), RegistryError> {
    check_password(new)?;
    let user = app_user::Entity::find_by_id(user_id.to_owned()).one(&db.conn).await?.ok_or(RegistryError::NotFound)?;
    let (current, stored) = (current.to_owned(), user.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&current, &stored)).await.unwrap_or(false);
    if !ok {
        return Err(RegistryError::Forbidden(ErrorCode::WrongPassword));
    }
    let hash = hash(new).await?;
    let txn = db.begin_write().await?;
    set_password(&txn, actor, user, hash, Some(keep)).await?;
    txn.commit().await?;
    Ok(())
}

/// Stores a new password hash, ends the user's tokens (all, or all but `keep`) and
/// audits it as a reset by someone else or the user's own change.
async fn set_password(
    txn: &crate::db::WriteTxn,
    actor: &Actor,
    user: app_user::Model,
    hash: String,
    keep: Option<&str>,
) -> Result<(), RegistryError> {
    let user_id = user.id.clone();
    let mut model: app_user::ActiveModel = user.into();
    model.password_hash = Set(hash);
    model.update(&**txn).await?;
    let revoked = revoke_tokens(&**txn, &user_id, keep).await?;
    let own = actor.user_id.as_deref() == Some(user_id.as_str());
    let mut entry = actor.audit(if own { "change_password" } else { "reset_password" }, "user", &user_id);
    entry.note = Some(format!("{revoked} tokens revoked"));
    audit::record(&**txn, &[entry]).await?;
    Ok(())
}

/// The 帮扶责任人's own particulars that 001 附件1 and 004 附件2 六 print beside the name:
/// 性别 and 政治面貌 as codes of their tables, 帮扶（选派）单位 as text. `None` clears.
#[derive(Debug, Clone, Default)]
pub struct OfficerProfile {
    pub sex: Option<String>,
    pub political_status: Option<String>,
    pub work_unit: Option<String>,
}

/// Longest 帮扶单位 name: the longest real unit names (a county bureau's full title
/// with its 派驻 office) run to some 40 characters.
const WORK_UNIT_MAX_CHARS: usize = 100;

/// Sets a user's officer particulars (a manager of the user), audited with the old and
/// new values. The columns are unbounded text, so whatever passes here is stored on
/// both backends.
pub async fn set_profile(db: &Db, actor: &Actor, user_id: &str, profile: OfficerProfile) -> Result<(), RegistryError> {
    use jingzhun_mobile_api::codes::{POLITICAL_STATUS, SEX};
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let sex = blank(profile.sex);
    let political_status = blank(profile.political_status);
    let work_unit = blank(profile.work_unit);
    if sex.as_deref().is_some_and(|c| !SEX.contains(c))
        || political_status.as_deref().is_some_and(|c| !POLITICAL_STATUS.contains(c))
    {
        return Err(RegistryError::Rejected(ErrorCode::UnknownCode));
    }
    if work_unit.as_deref().is_some_and(|u| u.chars().count() > WORK_UNIT_MAX_CHARS || u.chars().any(char::is_control))
    {
        return Err(RegistryError::Invalid("work_unit must be at most 100 characters"));
    }
    let txn = db.begin_write().await?;
    managed_user(&*txn, actor, user_id).await?;
    #[derive(sea_orm::FromQueryResult)]
    struct ProfileRow {
        sex: Option<String>,
        political_status: Option<String>,
        work_unit: Option<String>,
    }
    let backend = txn.get_database_backend();
    let old = <ProfileRow as sea_orm::FromQueryResult>::find_by_statement(crate::db::sql(
        backend,
        "SELECT sex, political_status, work_unit FROM app_user WHERE id = ?",
        vec![user_id.into()],
    ))
    .one(&*txn)
    .await?
    .ok_or(RegistryError::NotFound)?;
    txn.execute_raw(crate::db::sql(
        backend,
        "UPDATE app_user SET sex = ?, political_status = ?, work_unit = ? WHERE id = ?",
        vec![sex.clone().into(), political_status.clone().into(), work_unit.clone().into(), user_id.into()],
    ))
    .await?;
    let shown = |s: &Option<String>, p: &Option<String>, u: &Option<String>| {
        serde_json::json!({"sex": s, "political_status": p, "work_unit": u}).to_string()
    };
    let mut entry = actor.audit("set_profile", "user", user_id);
    entry.old_value = Some(shown(&old.sex, &old.political_status, &old.work_unit));
    entry.new_value = Some(shown(&sex, &political_status, &work_unit));
    audit::record(&*txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}
