//! Pulling what changed in the caller's scope (DESIGN §5).
//!
//! A first pull (no cursor) walks the scope's households in id order and sends each
//! whole, then continues from the change log position taken before the walk began, so
//! anything changed during the walk is sent again rather than missed. Later pulls read
//! the change log from the cursor, only the caller's part of it: each part of the scope
//! (the officer's households, each region, the user's own scope events) an index range
//! from the cursor ([`log_statement`]), so a pull costs the changes in its scope, not the
//! database's. Pages end on transaction boundaries. A few pages are built at once, the
//! other pulls wait their turn, so memory does not grow with the phones pulling at once.
//!
//! A cursor is signed with a server key (a row of `server_secret`, shared by every
//! process) and bound to the user and device it was issued to: a forged, edited or
//! borrowed cursor is refused with 400 `invalid_cursor`. Cursors of the first protocol
//! version were unsigned (`l1.…`, `s1.…`); one is answered 410 `cursor_expired`, which
//! every phone already handles by pushing and starting over, so phones in the field
//! recover by themselves and nobody can rewind an unsigned cursor into old scope events.
//! Even a genuine cursor rewound to an old `enter` event sends the household only if it
//! is in the caller's scope now (H1 of the 2026-12 review).

use super::conflicts;
use super::side;
use crate::auth::Caller;
use crate::db::entities::sync_conflict;
use crate::db::{Db, sql};
use crate::error::{Kind, Refusal};
use crate::records;
use crate::records::changelog::{self, LogOp, Position};
use crate::records::scope::{self, LogScope};
use base64::Engine;
use hmac::{Hmac, Mac};
use jingzhun_mobile_api::errors::ErrorCode;
use jingzhun_mobile_api::fields::{self, CONFLICT_ENTITY};
use jingzhun_mobile_api::wire::{PullOp, PullResponse, PulledChange};
use rand::RngCore;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Statement,
    TransactionTrait, Value,
};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Where a phone is in its pull: walking the scope, or following the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Whole households after `after` (in id order) are still to come; then the log from `from`.
    Snapshot {
        from: Position,
        after: String,
    },
    Log(Position),
}

/// Why a cursor is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorError {
    /// Not a cursor of ours, or not this user's and device's.
    Invalid,
    /// A first-version (unsigned) cursor: the phone starts over.
    Unsigned,
}

/// The key cursors are signed with, and what they are bound to.
pub struct CursorSigner {
    key: Vec<u8>,
    user_id: String,
    device_id: String,
}

const CURSOR_KEY: &str = "sync_cursor_key";

impl CursorSigner {
    pub fn new(key: Vec<u8>, user_id: &str, device_id: &str) -> CursorSigner {
        CursorSigner { key, user_id: user_id.to_owned(), device_id: device_id.to_owned() }
    }

    /// Loads the shared key, making it on first use.
    pub async fn load(conn: &impl ConnectionTrait, caller: &Caller) -> Result<CursorSigner, DbErr> {
        let backend = conn.get_database_backend();
        let select = || sql(backend, "SELECT value FROM server_secret WHERE name = ?", vec![CURSOR_KEY.into()]);
        let row = match conn.query_one_raw(select()).await? {
            Some(row) => row,
            None => {
                let mut fresh = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut fresh);
                // Two processes at once: one insert wins, both read the winner.
                conn.execute_raw(sql(
                    backend,
                    "INSERT INTO server_secret (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                    vec![CURSOR_KEY.into(), hex::encode(fresh).into(), chrono::Utc::now().into()],
                ))
                .await?;
                conn.query_one_raw(select()).await?.ok_or_else(|| DbErr::RecordNotFound(CURSOR_KEY.into()))?
            }
        };
        let value: String = row.try_get("", "value")?;
        let key = hex::decode(value).map_err(|e| DbErr::Custom(format!("{CURSOR_KEY}: {e}")))?;
        Ok(CursorSigner::new(key, &caller.user_id, &caller.device_id))
    }

    fn mac(&self, text: &str) -> String {
        #[allow(clippy::expect_used)]
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in ["pull-cursor", &self.user_id, &self.device_id, text] {
            mac.update(part.as_bytes());
            mac.update(b"\x1f");
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn encode(&self, cursor: &Cursor) -> String {
        let text = match cursor {
            Cursor::Snapshot { from, after } => format!("s2.{}.{}.{}", from.tx, from.seq, after),
            Cursor::Log(p) => format!("l2.{}.{}", p.tx, p.seq),
        };
        let signed = format!("{text}.{}", self.mac(&text));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)
    }

    pub fn decode(&self, encoded: &str) -> Result<Cursor, CursorError> {
        let bytes =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|_| CursorError::Invalid)?;
        let signed = String::from_utf8(bytes).map_err(|_| CursorError::Invalid)?;
        if signed.starts_with("l1.") || signed.starts_with("s1.") {
            return Err(CursorError::Unsigned);
        }
        let (text, mac) = signed.rsplit_once('.').ok_or(CursorError::Invalid)?;
        if !constant_time_eq(mac.as_bytes(), self.mac(text).as_bytes()) {
            return Err(CursorError::Invalid);
        }
        Cursor::parse(text).ok_or(CursorError::Invalid)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Cursor {
    /// The cursor's text once its signature is checked: `l2.<tx>.<seq>` or
    /// `s2.<tx>.<seq>.<after>`.
    fn parse(text: &str) -> Option<Cursor> {
        let mut parts = text.splitn(4, '.');
        let kind = parts.next()?;
        let tx = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        let from = Position { tx, seq };
        match kind {
            "s2" => {
                let after = parts.next().unwrap_or("").to_owned();
                if !after.is_empty() && Uuid::parse_str(&after).is_err() {
                    return None;
                }
                Some(Cursor::Snapshot { from, after })
            }
            "l2" if parts.next().is_none() => Some(Cursor::Log(from)),
            _ => None,
        }
    }

    fn position(&self) -> Position {
        match self {
            Cursor::Snapshot { from, .. } | Cursor::Log(from) => *from,
        }
    }
}

/// Records a whole household counts for when sizing a snapshot page.
const RECORDS_PER_HOUSEHOLD: u64 = 10;

pub async fn pull(db: &Db, caller: &Caller, cursor: Option<&str>, limit: u64) -> Result<PullResponse, Refusal> {
    // What committed before this pull is served by it (PostgreSQL numbers commits here).
    let fresh = changelog::number_committed(db).await?;
    let signer = CursorSigner::load(&db.conn, caller).await?;
    let _turn = page_turn().await?;
    // Everything a page reads on one pooled connection: a checkout per statement put
    // each on another connection, with a ping to and fro (three round trips a statement
    // on PostgreSQL, every backend parsing and warming up for the same statements).
    let txn = db.conn.begin().await?;
    let horizon = changelog::horizon(&txn).await?;
    let cursor = match cursor.filter(|c| !c.is_empty()) {
        Some(text) => match signer.decode(text) {
            Ok(cursor) => cursor,
            Err(CursorError::Invalid) => return Err(Refusal::invalid(ErrorCode::InvalidCursor)),
            Err(CursorError::Unsigned) => return Err(Refusal::new(Kind::Gone, ErrorCode::CursorExpired)),
        },
        None => Cursor::Snapshot { from: changelog::stable_position_above(&txn, horizon).await?, after: String::new() },
    };
    if cursor.position() < horizon {
        return Err(Refusal::new(Kind::Gone, ErrorCode::CursorExpired));
    }
    let page = match cursor {
        Cursor::Snapshot { from, after } => snapshot_page(&txn, caller, from, &after, horizon, limit).await?,
        Cursor::Log(from) => log_page(&txn, caller, from, horizon, limit).await?,
    };
    txn.commit().await?;
    Ok(PullResponse {
        changes: page.changes,
        cursor: signer.encode(&page.next),
        has_more: page.has_more,
        behind: fresh.behind,
        retry_after: fresh.retry_after,
    })
}

/// One page, with where the next one starts.
struct Page {
    changes: Vec<PulledChange>,
    next: Cursor,
    has_more: bool,
}

/// Pages built at once in this process. A page is a few hundred records held as JSON
/// trees until it is sent (about 1 MB for an officer's first page); 200 phones pulling
/// at once held 200 of them (324 MB of RSS for the first pulls in `bench sync`, 377 MB
/// for the incremental ones). The work is bound by the CPU and the database anyway, so
/// a few at a time answer as fast in all; the others wait their turn here, holding
/// nothing but their request.
const PAGES_AT_ONCE: usize = 4;
static PAGES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PAGES_AT_ONCE);

/// A turn to build a page, held until the page is built.
async fn page_turn() -> Result<tokio::sync::SemaphorePermit<'static>, Refusal> {
    // The semaphore is never closed: the permit always comes.
    PAGES.acquire().await.map_err(Refusal::internal)
}

async fn snapshot_page(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: Position,
    after: &str,
    horizon: Position,
    limit: u64,
) -> Result<Page, Refusal> {
    let per_page = (limit / RECORDS_PER_HOUSEHOLD).max(1);
    let (cond, mut values) = scope::households_condition(caller, "id", "region_code");
    values.push(after.into());
    values.push((per_page as i64).into());
    let ids: Vec<String> = IdRow::find_by_statement(sql(
        conn.get_database_backend(),
        &format!("SELECT id FROM household WHERE {cond} AND id > ? ORDER BY id LIMIT ?"),
        values,
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect();
    let mut changes = whole_households(conn, &ids).await?;
    if after.is_empty() {
        for (entity, record) in side::snapshot(conn, caller).await? {
            changes.push(upsert(entity, &record.id, record.version, record.data));
        }
    }
    if let Some(last) = ids.last().filter(|_| ids.len() as u64 == per_page) {
        let next = Cursor::Snapshot { from, after: last.clone() };
        return Ok(Page { changes, next, has_more: true });
    }
    // The walk is over; the log from where it began follows, with what changed during
    // the walk. When nothing has been logged since, there is no such page to ask for:
    // a phone's first pull of one page is then one request, not two.
    let has_more = changelog::stable_position_above(conn, horizon).await? > from;
    Ok(Page { changes, next: Cursor::Log(from), has_more })
}

#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}

/// Every record of these households, parents first, with their open conflicts.
async fn whole_households(conn: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<PulledChange>, DbErr> {
    let mut changes = Vec::new();
    if ids.is_empty() {
        return Ok(changes);
    }
    for entity in fields::ENTITIES {
        for record in records::load_by_households(conn, entity, ids).await? {
            changes.push(upsert(entity.name, &record.id, record.version, record.to_json(entity)));
        }
    }
    let open = sync_conflict::Entity::find()
        .filter(sync_conflict::Column::HouseholdId.is_in(ids.iter().cloned()))
        .filter(sync_conflict::Column::Status.eq("open"))
        .order_by_asc(sync_conflict::Column::Id)
        .all(conn)
        .await?;
    for c in open {
        changes.push(upsert(CONFLICT_ENTITY, &c.id, c.version, conflicts::to_json(&c)));
    }
    Ok(changes)
}

fn upsert(entity: &str, id: &str, version: i64, data: Json) -> PulledChange {
    PulledChange {
        entity: entity.to_owned(),
        id: Uuid::parse_str(id).unwrap_or_default(),
        op: PullOp::Upsert,
        version,
        data,
    }
}

struct LogRow {
    tx: i64,
    seq: i64,
    entity: String,
    entity_id: String,
    household_id: Option<String>,
    op: LogOp,
    version: i64,
}

/// A change-log row as stored (its op as text).
#[derive(FromQueryResult)]
struct StoredLogRow {
    tx: i64,
    seq: i64,
    entity: String,
    entity_id: String,
    household_id: Option<String>,
    op: String,
    version: i64,
}

/// The columns a pull reads of a log row.
const LOG_COLUMNS: &str = "tx, seq, entity, entity_id, household_id, op, version";

/// The statement an incremental pull runs to read the caller's log rows after `after`
/// up to `upto`, at most `limit`, in (tx, seq) order: public so a test can EXPLAIN the
/// very statement.
///
/// Each part of the scope (the caller's scope events, an officer's current households,
/// each region read) is its own index range starting at the cursor, ordered and limited
/// alone, so the cost follows the changes in the caller's scope, not the database's; the
/// parts are then merged. The parts are disjoint, so `UNION ALL` merges them without a
/// duplicate (and without `UNION`'s hashing of every row, 8 ms of a 10 ms pull on
/// PostgreSQL): scope events are the target part's alone, the regions read are prefixes
/// none inside another, and an officer's household that is also in a region read comes
/// through that region's part only.
pub fn log_statement(backend: DbBackend, scope: &LogScope, after: Position, upto: Position, limit: u64) -> Statement {
    let limit = limit.min(i64::MAX as u64) as i64;
    // Both planners took `target_user IS NULL` for an equality on `change_log_target`
    // and walked every row of the log that is not a scope event (all but a few) from
    // the cursor: PostgreSQL whenever the tables had no statistics yet (366 ms for an
    // officer's pull of the demo county after `bench sync`, 1.5 ms by household).
    // Hence `COALESCE(target_user, '') = ''`, which no index serves, and on SQLite the
    // part's index named (the test `pull_scope` checks both plans).
    let from = |index: &str| match backend {
        DbBackend::Sqlite => format!("change_log INDEXED BY {index}"),
        _ => "change_log".to_owned(),
    };
    let mut parts = match backend {
        DbBackend::Postgres => postgres_caller_parts(scope, after, upto, limit),
        _ => {
            let user: Vec<Value> = vec![scope.user_id.as_str().into()];
            let mut parts =
                vec![ranged_part(&from("change_log_target"), "target_user = ?", user.clone(), after, upto, limit)];
            if scope.officer {
                let mut values = user;
                let outside = outside_regions_read(scope, &mut values);
                let condition = format!(
                    "household_id IN (SELECT household_id FROM assignment WHERE officer_id = ? AND end_date IS NULL) \
                     AND COALESCE(target_user, '') = ''{outside}"
                );
                parts.push(ranged_part(&from("change_log_household"), &condition, values, after, upto, limit));
            }
            parts
        }
    };
    for prefix in &scope.prefixes {
        let mut values = Vec::new();
        let region = scope::region_condition("region_code", prefix, &mut values);
        let condition = format!("{region} AND COALESCE(target_user, '') = ''");
        parts.push(ranged_part(&from("change_log_region"), &condition, values, after, upto, limit));
    }
    let mut text = String::new();
    let mut values: Vec<Value> = Vec::new();
    for (i, (part, part_values)) in parts.into_iter().enumerate() {
        if i > 0 {
            text.push_str(" UNION ALL ");
        }
        text.push_str(&format!("SELECT * FROM ({part}) AS part{i}"));
        values.extend(part_values);
    }
    text.push_str(" ORDER BY tx, seq LIMIT ?");
    values.push(limit.into());
    sql(backend, &text, values)
}

/// One part of [`log_statement`]: a query and its values.
type LogPart = (String, Vec<Value>);

/// The log rows of `from` matching `condition` between the positions, in order, at most
/// `limit`. `tx >= ?` is the range an index walks; the rest trims the cursor's own
/// transaction and the upper bound's.
fn ranged_part(
    from: &str,
    condition: &str,
    mut values: Vec<Value>,
    after: Position,
    upto: Position,
    limit: i64,
) -> LogPart {
    values.extend([after.tx, after.tx, after.seq, upto.tx, upto.tx, upto.seq].map(Value::from));
    values.push(limit.into());
    let text = format!(
        "SELECT {LOG_COLUMNS} FROM {from} WHERE {condition} \
         AND tx >= ? AND (tx > ? OR seq > ?) AND tx <= ? AND (tx < ? OR seq <= ?) ORDER BY tx, seq LIMIT ?"
    );
    (text, values)
}

/// ` AND …` leaving out the rows of the regions the caller reads, which their own parts
/// serve: an officer's household inside one comes through that region's part only.
fn outside_regions_read(scope: &LogScope, values: &mut Vec<Value>) -> String {
    let mut outside = String::new();
    for prefix in &scope.prefixes {
        let region = scope::region_condition("region_code", prefix, values);
        outside.push_str(&format!(" AND (region_code IS NULL OR NOT ({region}))"));
    }
    outside
}

/// PostgreSQL's parts of [`log_statement`] for the caller's own scope events and an
/// officer's households. Each is bounded by a row comparison that starts with the part's
/// key (`(household_id, tx, seq) > (h, ?, ?)`), a range only that part's index can take,
/// and the households are walked one by one (`LATERAL`). With `tx >= ?` the plan rested
/// on `tx`'s statistics: taken while the rows still carried provisional numbers, or after
/// an import and a few push groups, they say any later cursor matches nothing, and the
/// planner walked the whole log from the cursor by position (40–66 ms a page after
/// `bench sync`, 1–3 ms by household).
fn postgres_caller_parts(scope: &LogScope, after: Position, upto: Position, limit: i64) -> Vec<LogPart> {
    let user = || Value::from(scope.user_id.as_str());
    let mut parts: Vec<LogPart> = vec![(
        format!(
            "SELECT {LOG_COLUMNS} FROM change_log WHERE target_user = ? \
             AND (target_user, tx, seq) > (?, ?, ?) AND (target_user, tx, seq) <= (?, ?, ?) \
             ORDER BY tx, seq LIMIT ?"
        ),
        vec![user(), user(), after.tx.into(), after.seq.into(), user(), upto.tx.into(), upto.seq.into(), limit.into()],
    )];
    if scope.officer {
        let mut values: Vec<Value> = vec![user(), after.tx.into(), after.seq.into(), upto.tx.into(), upto.seq.into()];
        let outside = outside_regions_read(scope, &mut values);
        values.extend([Value::from(limit), Value::from(limit)]);
        parts.push((
            format!(
                "SELECT l.* FROM (SELECT DISTINCT household_id FROM assignment \
                   WHERE officer_id = ? AND end_date IS NULL) AS a \
                 CROSS JOIN LATERAL (SELECT {LOG_COLUMNS} FROM change_log \
                   WHERE household_id = a.household_id \
                   AND (household_id, tx, seq) > (a.household_id, ?, ?) \
                   AND (household_id, tx, seq) <= (a.household_id, ?, ?) \
                   AND COALESCE(target_user, '') = ''{outside} ORDER BY tx, seq LIMIT ?) AS l \
                 ORDER BY tx, seq LIMIT ?"
            ),
            values,
        ));
    }
    parts
}

async fn read_log(
    conn: &impl ConnectionTrait,
    scope: &LogScope,
    after: Position,
    upto: Position,
    limit: u64,
) -> Result<Vec<LogRow>, DbErr> {
    let statement = log_statement(conn.get_database_backend(), scope, after, upto, limit);
    let rows = StoredLogRow::find_by_statement(statement).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| LogRow {
            tx: r.tx,
            seq: r.seq,
            entity: r.entity,
            entity_id: r.entity_id,
            household_id: r.household_id,
            op: LogOp::parse(&r.op).unwrap_or(LogOp::Upsert),
            version: r.version,
        })
        .collect())
}

async fn log_page(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: Position,
    horizon: Position,
    limit: u64,
) -> Result<Page, Refusal> {
    let stable = changelog::stable_position_above(conn, horizon).await?;
    let scope = LogScope::of(caller);
    let mut rows = read_log(conn, &scope, from, stable, limit + 1).await?;
    let has_more = rows.len() as u64 > limit;
    if has_more {
        rows.truncate(limit as usize);
        // Finish the last transaction so a page never holds half of one.
        if let Some(last) = rows.last() {
            let tail_end = Position { tx: last.tx, seq: i64::MAX }.min(stable);
            let tail = read_log(conn, &scope, Position { tx: last.tx, seq: last.seq }, tail_end, u64::MAX >> 2).await?;
            rows.extend(tail);
        }
    }
    let next = match (has_more, rows.last()) {
        (true, Some(last)) => Position { tx: last.tx, seq: last.seq },
        // Nothing more is visible: jump to the stable point so rows outside the scope
        // are not scanned again.
        _ => stable.max(from),
    };
    let changes = materialize(conn, caller, &rows).await?;
    Ok(Page { changes, next: Cursor::Log(next), has_more })
}

/// Turns log rows into what the phone applies: current records for upserts, whole
/// households for scope entries. A record appearing twice is sent once, at its last
/// place, with its current state.
///
/// A scope entry sends the household only if it is in the caller's scope now: the
/// entry may be old (the assignment ended since, and its `evict` follows in the log),
/// and the whole record sent is today's.
async fn materialize(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    rows: &[LogRow],
) -> Result<Vec<PulledChange>, DbErr> {
    let mut wanted: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut last_seen: HashMap<(&str, &str), usize> = HashMap::new();
    let mut entering: Vec<String> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match row.op {
            LogOp::Upsert | LogOp::Delete => {
                last_seen.insert((row.entity.as_str(), row.entity_id.as_str()), i);
                if row.op == LogOp::Upsert {
                    wanted.entry(row.entity.as_str()).or_default().push(row.entity_id.clone());
                }
            }
            LogOp::Enter => entering.extend(row.household_id.clone()),
            LogOp::Evict => {}
        }
    }

    let mut current: HashMap<(String, String), (i64, Json)> = HashMap::new();
    for (entity_name, ids) in &mut wanted {
        ids.sort();
        ids.dedup();
        if *entity_name == CONFLICT_ENTITY {
            for c in load_conflicts(conn, ids).await? {
                current.insert((CONFLICT_ENTITY.to_owned(), c.id.clone()), (c.version, conflicts::to_json(&c)));
            }
        } else if side::is_side(entity_name) {
            for record in side::load(conn, entity_name, ids).await? {
                current.insert((entity_name.to_string(), record.id), (record.version, record.data));
            }
        } else if let Some(entity) = fields::entity(entity_name) {
            for record in records::load_many(conn, entity, ids).await? {
                current.insert((entity.name.to_owned(), record.id.clone()), (record.version, record.to_json(entity)));
            }
        }
    }
    entering.sort();
    entering.dedup();
    let entering = in_scope_now(conn, caller, &entering).await?;
    let mut entered: HashMap<String, Vec<PulledChange>> = HashMap::new();
    for id in &entering {
        entered.insert(id.clone(), whole_households(conn, std::slice::from_ref(id)).await?);
    }

    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let id = Uuid::parse_str(&row.entity_id).unwrap_or_default();
        match row.op {
            LogOp::Upsert | LogOp::Delete => {
                if last_seen.get(&(row.entity.as_str(), row.entity_id.as_str())) != Some(&i) {
                    continue;
                }
                // Sent once (at its last place): moved out, not copied.
                match current.remove(&(row.entity.clone(), row.entity_id.clone())) {
                    Some((version, data)) if row.op == LogOp::Upsert => {
                        out.push(upsert(&row.entity, &row.entity_id, version, data))
                    }
                    // Deleted since (its delete row may be on a later page): say so now.
                    _ => out.push(PulledChange {
                        entity: row.entity.clone(),
                        id,
                        op: PullOp::Delete,
                        version: row.version,
                        data: Json::Null,
                    }),
                }
            }
            LogOp::Enter => {
                if let Some(records) = row.household_id.as_ref().and_then(|h| entered.get(h)) {
                    out.extend(records.iter().cloned());
                }
            }
            LogOp::Evict => out.push(PulledChange {
                entity: row.entity.clone(),
                id,
                op: PullOp::Evict,
                version: 0,
                data: Json::Null,
            }),
        }
    }
    Ok(out)
}

/// Those of these households the caller may read now.
async fn in_scope_now(conn: &impl ConnectionTrait, caller: &Caller, ids: &[String]) -> Result<Vec<String>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let access = scope::access_by_id(conn, caller, ids).await?;
    Ok(ids.iter().filter(|id| access.get(*id).is_some_and(|a| a.may_read())).cloned().collect())
}

async fn load_conflicts(conn: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<sync_conflict::Model>, DbErr> {
    // One transaction's rows come in one page, however many: keep each statement small.
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            sync_conflict::Entity::find()
                .filter(sync_conflict::Column::Id.is_in(chunk.iter().cloned()))
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let signer = CursorSigner::new(vec![7; 32], "u1", "d1");
        let c = Cursor::Snapshot { from: Position { tx: 7, seq: 42 }, after: Uuid::nil().to_string() };
        assert_eq!(signer.decode(&signer.encode(&c)), Ok(c));
        let l = Cursor::Log(Position { tx: 9, seq: i64::MAX });
        assert_eq!(signer.decode(&signer.encode(&l)), Ok(l));
        assert_eq!(signer.decode("not-a-cursor"), Err(CursorError::Invalid));
        let b64 = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
        assert_eq!(signer.decode(&b64("s2.1.2.x' OR 1=1")), Err(CursorError::Invalid));
        // Unsigned first-version cursors: start over.
        assert_eq!(signer.decode(&b64("l1.0.0")), Err(CursorError::Unsigned));
        assert_eq!(signer.decode(&b64("s1.0.0.")), Err(CursorError::Unsigned));
    }

    #[test]
    fn a_cursor_is_bound_to_its_key_user_and_device_and_cannot_be_edited() {
        let mine = CursorSigner::new(vec![7; 32], "u1", "d1");
        let cursor = mine.encode(&Cursor::Log(Position { tx: 100, seq: 5 }));
        for other in [
            CursorSigner::new(vec![7; 32], "u2", "d1"),
            CursorSigner::new(vec![7; 32], "u1", "d2"),
            CursorSigner::new(vec![8; 32], "u1", "d1"),
        ] {
            assert_eq!(other.decode(&cursor), Err(CursorError::Invalid));
        }
        // Rewinding the position breaks the signature.
        let text =
            String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cursor).unwrap_or_default())
                .unwrap_or_default();
        let rewound = text.replacen("l2.100.", "l2.0.", 1);
        let rewound = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rewound);
        assert_eq!(mine.decode(&rewound), Err(CursorError::Invalid));
    }
}
