//! A phone's persistent outbox: the change sets recorded offline, kept in one JSON file
//! until the server has answered for each of them (DESIGN §5, C2).
//!
//! It must never lose or reorder a change set the phone queued, never give one a new id
//! when resending it (the server dedupes by id, so a retry after a lost answer applies
//! nothing twice), and never drop or wedge on a rejected one: a rejected change set is
//! set aside for the officer to fix, and the queue behind it keeps going. The file is
//! replaced atomically, so a crash leaves either the old outbox or the new one.
//! One `Outbox` owns its file; two open on the same path would overwrite each other.

use crate::client::{Client, ClientError};
use crate::fields::ENTITIES;
use crate::wire::{
    Change, ChangeSet, ChangeSetResult, ChangeSetStatus, ChangeStatus, FieldConflict, Op, PushRequest, PushResponse,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The on-disk layout this code writes; a newer one is refused rather than misread.
const FORMAT: u32 = 1;

/// Why the outbox could not do what was asked. Nothing queued is lost by any of them.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox file {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is left as it is, so whatever it holds can still be recovered by hand.
    #[error("outbox file {} is not a valid outbox: {source}", .path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("outbox file {} has format {format}, newer than this app understands", .path.display())]
    UnknownFormat { path: PathBuf, format: u32 },
    #[error("could not encode the outbox: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("a change set needs at least one change")]
    EmptyChangeSet,
    #[error("change set {0} is not set aside")]
    NotSetAside(Uuid),
    /// The device was revoked (`mode` is `drain` or `wipe`); `report` covers the batches
    /// answered before that, and everything else is still pending.
    #[error("this device has been revoked (mode {})", .mode.as_deref().unwrap_or("unknown"))]
    DeviceRevoked { mode: Option<String>, report: Box<FlushReport> },
    /// The push failed (network, 5xx, ...): the batch and everything after it stay
    /// pending with the same ids; `report` covers the batches answered before.
    #[error("push failed; unanswered change sets stay pending: {source}")]
    Push {
        // Boxed, like the report, to keep every `Result<_, OutboxError>` small.
        #[source]
        source: Box<ClientError>,
        report: Box<FlushReport>,
    },
}

/// A change set the server rejected, kept with its answer until the officer fixes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    pub changeset: ChangeSet,
    /// The server's answer, with the field errors to show the officer.
    pub result: ChangeSetResult,
    pub set_aside_at: DateTime<Utc>,
}

/// What one flush achieved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlushReport {
    pub applied: usize,
    /// Change sets the server already had (an earlier answer was lost on the way back).
    pub duplicates: usize,
    /// Change sets moved to [`Outbox::set_aside`].
    pub rejected: usize,
    /// Sensitive fields where the server kept its value; the officer must see them.
    pub conflicts: Vec<FieldConflict>,
    /// The device was drained: wipe local data once nothing is pending.
    pub wipe: bool,
    /// Every answer received, in order, for the record versions it carries.
    pub results: Vec<ChangeSetResult>,
}

impl FlushReport {
    fn absorb(&mut self, other: FlushReport) {
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.conflicts.extend(other.conflicts);
        self.wipe |= other.wipe;
        self.results.extend(other.results);
    }
}

/// The file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stored {
    format: u32,
    pending: Vec<ChangeSet>,
    set_aside: Vec<SetAside>,
}

impl Default for Stored {
    fn default() -> Self {
        Stored { format: FORMAT, pending: Vec::new(), set_aside: Vec::new() }
    }
}

/// The change sets a phone still has to deliver, backed by one JSON file.
#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    stored: Stored,
}

impl Outbox {
    /// Opens the outbox at `path`, creating an empty one when the file does not exist.
    /// The directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Outbox, OutboxError> {
        let path = path.as_ref().to_path_buf();
        let stored = match fs::read(&path) {
            Ok(bytes) => {
                let stored: Stored = serde_json::from_slice(&bytes)
                    .map_err(|source| OutboxError::Corrupt { path: path.clone(), source })?;
                if stored.format > FORMAT {
                    return Err(OutboxError::UnknownFormat { path, format: stored.format });
                }
                stored
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let stored = Stored::default();
                // Written now so a missing directory or a read-only disk shows up at
                // start, not after an officer has recorded a morning's visits.
                write_atomically(&path, &stored)?;
                stored
            }
            Err(source) => return Err(OutboxError::Io { path, source }),
        };
        Ok(Outbox { path, stored })
    }

    /// The file this outbox lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `changes` as one new change set (all-or-nothing on the server) and
    /// returns its id. The changes are put in an order the server can apply.
    pub fn enqueue(&mut self, changes: Vec<Change>) -> Result<Uuid, OutboxError> {
        let changeset = new_changeset(changes)?;
        let id = changeset.id;
        let mut next = self.stored.clone();
        next.pending.push(changeset);
        self.commit(next)?;
        Ok(id)
    }

    /// The change sets still to send, in the order they will be sent.
    pub fn pending(&self) -> &[ChangeSet] {
        &self.stored.pending
    }

    /// Rejected change sets with the server's answer, oldest first.
    pub fn set_aside(&self) -> &[SetAside] {
        &self.stored.set_aside
    }

    /// Replaces the set-aside change set `id` by a new change set holding `fixed`, at
    /// the end of the queue, and returns the new id. The id must be new: the server
    /// remembers the old one as rejected and would only repeat that answer.
    pub fn retry_set_aside(&mut self, id: Uuid, fixed: Vec<Change>) -> Result<Uuid, OutboxError> {
        let position =
            self.stored.set_aside.iter().position(|s| s.changeset.id == id).ok_or(OutboxError::NotSetAside(id))?;
        let changeset = new_changeset(fixed)?;
        let new_id = changeset.id;
        let mut next = self.stored.clone();
        next.set_aside.remove(position);
        next.pending.push(changeset);
        self.commit(next)?;
        Ok(new_id)
    }

    /// Sends the pending change sets in order, `batch` per push, and files each answer
    /// (see [`Outbox::apply_push_response`]), saving after every batch. Stops at the
    /// first failed push, leaving that batch and the rest pending with their ids.
    pub async fn flush(&mut self, client: &Client, batch: usize) -> Result<FlushReport, OutboxError> {
        // A snapshot of the ids, so that a change set the server did not answer for
        // stays pending for the next flush instead of being resent in a loop now.
        let queued: Vec<Uuid> = self.stored.pending.iter().map(|c| c.id).collect();
        let mut report = FlushReport::default();
        for sent in queued.chunks(batch.max(1)) {
            let changesets: Vec<ChangeSet> =
                self.stored.pending.iter().filter(|c| sent.contains(&c.id)).cloned().collect();
            let response = match client.push(&PushRequest { changesets }).await {
                Ok(response) => response,
                Err(source) if source.is_device_revoked() => {
                    return Err(OutboxError::DeviceRevoked {
                        mode: source.revoked_mode().map(str::to_owned),
                        report: Box::new(report),
                    });
                }
                Err(source) => {
                    return Err(OutboxError::Push { source: Box::new(source), report: Box::new(report) });
                }
            };
            report.absorb(self.apply_push_response(sent, &response));
            write_atomically(&self.path, &self.stored)?;
        }
        Ok(report)
    }

    /// Files the server's answer for the change sets `sent` (in memory; the caller
    /// saves): `applied` and `duplicate` leave the queue, `rejected` moves to the
    /// set-aside list, and a change set without an answer stays pending.
    pub fn apply_push_response(&mut self, sent: &[Uuid], response: &PushResponse) -> FlushReport {
        let mut report = FlushReport { wipe: response.wipe, ..FlushReport::default() };
        let now = Utc::now();
        for result in response.results.iter().filter(|r| sent.contains(&r.id)) {
            let Some(position) = self.stored.pending.iter().position(|c| c.id == result.id) else {
                // Answered twice in one response, or already filed: nothing left to move.
                continue;
            };
            report.conflicts.extend(result.changes.iter().flat_map(|c| c.conflicts.iter().cloned()));
            report.results.push(result.clone());
            // A duplicate carries the stored first answer; if that answer was a
            // rejection, the change set still needs fixing, so it is kept, not dropped.
            let first_answer_rejected = result.changes.iter().any(|c| c.status == ChangeStatus::Rejected);
            match result.status {
                ChangeSetStatus::Applied => {
                    self.stored.pending.remove(position);
                    report.applied += 1;
                }
                ChangeSetStatus::Duplicate if !first_answer_rejected => {
                    self.stored.pending.remove(position);
                    report.duplicates += 1;
                }
                ChangeSetStatus::Duplicate | ChangeSetStatus::Rejected => {
                    let changeset = self.stored.pending.remove(position);
                    self.stored.set_aside.push(SetAside { changeset, result: result.clone(), set_aside_at: now });
                    report.rejected += 1;
                }
            }
        }
        report
    }

    /// Writes `next` to disk, then adopts it, so memory never runs ahead of the file.
    fn commit(&mut self, next: Stored) -> Result<(), OutboxError> {
        write_atomically(&self.path, &next)?;
        self.stored = next;
        Ok(())
    }
}

/// A change set with a fresh id and its changes in applicable order.
fn new_changeset(mut changes: Vec<Change>) -> Result<ChangeSet, OutboxError> {
    if changes.is_empty() {
        return Err(OutboxError::EmptyChangeSet);
    }
    // The server applies a change set's changes in order, so a household must exist
    // before its members and a record before its update. `sort_by_key` is stable: the
    // caller's order survives among equals (e.g. two updates of one field).
    changes.sort_by_key(|c| (entity_rank(&c.entity), op_rank(c.op)));
    // Recorded now, on the phone's clock: the server tells an edit made before an
    // assignment ended from one made after by it.
    Ok(ChangeSet { id: Uuid::new_v4(), changes, recorded_at: Some(Utc::now()) })
}

/// Position in the catalogue, parents first; unknown entities last (the server will
/// reject them, but they must not get in front of anything it can apply).
fn entity_rank(entity: &str) -> usize {
    ENTITIES.iter().position(|e| e.name == entity).unwrap_or(ENTITIES.len())
}

fn op_rank(op: Op) -> u8 {
    match op {
        Op::Create => 0,
        Op::Update => 1,
        Op::Delete => 2,
    }
}

/// Replaces `path` with `stored`: write a temporary file in the same directory (so the
/// rename stays on one filesystem and is atomic), fsync it, rename it over the old
/// file, then fsync the directory so the rename itself survives a power cut.
fn write_atomically(path: &Path, stored: &Stored) -> Result<(), OutboxError> {
    let bytes = serde_json::to_vec_pretty(stored).map_err(OutboxError::Encode)?;
    let temp = temp_path(path);
    let io_error = |source| OutboxError::Io { path: path.to_path_buf(), source };
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(source) = written {
        // The old outbox is untouched; only the partial temporary file goes.
        let _ = fs::remove_file(&temp);
        return Err(io_error(source));
    }
    sync_directory(path).map_err(io_error)
}

/// `.<name>.tmp` beside the outbox: a fixed name, so a temporary file left by a crash
/// is simply overwritten by the next write instead of piling up.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "outbox".to_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(unix)]
fn sync_directory(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

// Other systems cannot open a directory to sync it; the rename is still atomic there.
#[cfg(not(unix))]
fn sync_directory(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ChangeResult;
    use serde_json::{Map, Value, json};

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!("jingzhun-outbox-{}", Uuid::new_v4()));
            fs::create_dir(&dir).expect("create temp dir");
            TempDir(dir)
        }
        fn file(&self) -> PathBuf {
            self.0.join("outbox.json")
        }
        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .expect("read dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn change(entity: &str, id: Uuid, op: Op, fields: Value) -> Change {
        let fields: Map<String, Value> = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Change { entity: entity.to_owned(), id, op, base_version: if op == Op::Create { 0 } else { 1 }, fields }
    }

    fn household_create() -> Change {
        change("household", Uuid::new_v4(), Op::Create, json!({"region_code": "530102001001"}))
    }

    fn result(id: Uuid, status: ChangeSetStatus, conflicts: Vec<FieldConflict>) -> ChangeSetResult {
        let change_status = match status {
            ChangeSetStatus::Rejected => ChangeStatus::Rejected,
            _ if conflicts.is_empty() => ChangeStatus::Applied,
            _ => ChangeStatus::Conflict,
        };
        ChangeSetResult {
            id,
            status,
            changes: vec![ChangeResult {
                entity: "household".to_owned(),
                id: Uuid::new_v4(),
                status: change_status,
                version: 2,
                conflicts,
                errors: Vec::new(),
            }],
        }
    }

    fn conflict(field: &str) -> FieldConflict {
        FieldConflict {
            id: Uuid::new_v4(),
            field: field.to_owned(),
            base_value: json!(1000),
            server_value: json!(2000),
            client_value: json!(1500),
        }
    }

    #[test]
    fn a_household_goes_before_its_members() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        let household = Uuid::new_v4();
        let member = change("member", Uuid::new_v4(), Op::Create, json!({"household_id": household}));
        let visit = change("visit_log", Uuid::new_v4(), Op::Create, json!({"household_id": household}));
        let odd = change("not_an_entity", Uuid::new_v4(), Op::Create, json!({}));
        let head = change("household", household, Op::Create, json!({"kind": "general"}));
        outbox.enqueue(vec![odd.clone(), visit.clone(), member.clone(), head.clone()]).expect("enqueue");
        assert_eq!(outbox.pending()[0].changes, vec![head, member, visit, odd]);
    }

    #[test]
    fn a_create_goes_before_an_update_of_the_same_record() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        let id = Uuid::new_v4();
        let update = change("member", id, Op::Update, json!({"name": "王二"}));
        let create = change("member", id, Op::Create, json!({"name": "王"}));
        let later_update = change("member", id, Op::Update, json!({"name": "王三"}));
        outbox.enqueue(vec![update.clone(), create.clone(), later_update.clone()]).expect("enqueue");
        // The two updates keep the caller's order, so the later edit still wins.
        assert_eq!(outbox.pending()[0].changes, vec![create, update, later_update]);
    }

    #[test]
    fn an_empty_change_set_is_refused() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        assert!(matches!(outbox.enqueue(Vec::new()), Err(OutboxError::EmptyChangeSet)));
        assert!(outbox.pending().is_empty());
    }

    #[test]
    fn the_queue_survives_reopening() {
        let dir = TempDir::new();
        let (first, second) = {
            let mut outbox = Outbox::open(dir.file()).expect("open");
            let first = outbox.enqueue(vec![household_create()]).expect("first");
            let second = outbox.enqueue(vec![household_create()]).expect("second");
            let sent = [first];
            let response =
                PushResponse { results: vec![result(first, ChangeSetStatus::Rejected, Vec::new())], wipe: false };
            outbox.apply_push_response(&sent, &response);
            write_atomically(outbox.path(), &outbox.stored).expect("save");
            (first, second)
        };
        let reopened = Outbox::open(dir.file()).expect("reopen");
        let ids: Vec<Uuid> = reopened.pending().iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![second]);
        assert_eq!(reopened.set_aside().len(), 1);
        assert_eq!(reopened.set_aside()[0].changeset.id, first);
        assert_eq!(reopened.set_aside()[0].result.status, ChangeSetStatus::Rejected);
    }

    #[test]
    fn writes_leave_no_temporary_file() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        assert_eq!(dir.names(), ["outbox.json"]);
        for _ in 0..3 {
            outbox.enqueue(vec![household_create()]).expect("enqueue");
        }
        assert_eq!(dir.names(), ["outbox.json"]);
        // A temporary file left by a crash mid-write is ignored on open and replaced.
        fs::write(temp_path(&dir.file()), b"{\"format\": 1, \"pend").expect("torn write");
        let mut reopened = Outbox::open(dir.file()).expect("reopen");
        assert_eq!(reopened.pending().len(), 3);
        reopened.enqueue(vec![household_create()]).expect("enqueue");
        assert_eq!(dir.names(), ["outbox.json"]);
    }

    #[test]
    fn a_corrupt_file_is_refused_and_left_alone() {
        let dir = TempDir::new();
        fs::write(dir.file(), b"not json").expect("write");
        assert!(matches!(Outbox::open(dir.file()), Err(OutboxError::Corrupt { .. })));
        assert_eq!(fs::read(dir.file()).expect("read"), b"not json");
    }

    #[test]
    fn answers_are_filed_and_a_rejection_does_not_block_the_queue() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        let ids: Vec<Uuid> = (0..4).map(|_| outbox.enqueue(vec![household_create()]).expect("enqueue")).collect();
        let sent = &ids[..3];
        let response = PushResponse {
            results: vec![
                result(ids[0], ChangeSetStatus::Rejected, Vec::new()),
                result(ids[1], ChangeSetStatus::Applied, vec![conflict("wage")]),
                result(ids[2], ChangeSetStatus::Duplicate, Vec::new()),
            ],
            wipe: true,
        };
        let report = outbox.apply_push_response(sent, &response);
        assert_eq!((report.applied, report.duplicates, report.rejected), (1, 1, 1));
        assert_eq!(report.conflicts.len(), 1);
        assert_eq!(report.conflicts[0].field, "wage");
        assert!(report.wipe);
        assert_eq!(report.results.len(), 3);
        // Only the change set that was not sent is still pending.
        let pending: Vec<Uuid> = outbox.pending().iter().map(|c| c.id).collect();
        assert_eq!(pending, vec![ids[3]]);
        assert_eq!(outbox.set_aside().len(), 1);
        assert_eq!(outbox.set_aside()[0].changeset.id, ids[0]);
    }

    #[test]
    fn an_unanswered_change_set_stays_pending_in_place() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        let a = outbox.enqueue(vec![household_create()]).expect("a");
        let b = outbox.enqueue(vec![household_create()]).expect("b");
        let stranger = Uuid::new_v4();
        let response = PushResponse {
            results: vec![
                result(b, ChangeSetStatus::Applied, Vec::new()),
                result(stranger, ChangeSetStatus::Applied, Vec::new()),
            ],
            wipe: false,
        };
        let report = outbox.apply_push_response(&[a, b], &response);
        assert_eq!(report.applied, 1);
        let pending: Vec<Uuid> = outbox.pending().iter().map(|c| c.id).collect();
        assert_eq!(pending, vec![a]);
    }

    #[test]
    fn a_duplicate_of_a_rejection_is_set_aside_not_dropped() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        let id = outbox.enqueue(vec![household_create()]).expect("enqueue");
        let mut answer = result(id, ChangeSetStatus::Rejected, Vec::new());
        answer.status = ChangeSetStatus::Duplicate;
        let response = PushResponse { results: vec![answer], wipe: false };
        let report = outbox.apply_push_response(&[id], &response);
        assert_eq!((report.duplicates, report.rejected), (0, 1));
        assert!(outbox.pending().is_empty());
        assert_eq!(outbox.set_aside()[0].changeset.id, id);
    }

    #[test]
    fn a_fixed_change_set_goes_to_the_end_of_the_queue_with_a_new_id() {
        let dir = TempDir::new();
        let mut outbox = Outbox::open(dir.file()).expect("open");
        let rejected = outbox.enqueue(vec![household_create()]).expect("rejected");
        let waiting = outbox.enqueue(vec![household_create()]).expect("waiting");
        let response =
            PushResponse { results: vec![result(rejected, ChangeSetStatus::Rejected, Vec::new())], wipe: false };
        outbox.apply_push_response(&[rejected], &response);

        let fixed = vec![household_create()];
        let retried = outbox.retry_set_aside(rejected, fixed.clone()).expect("retry");
        assert_ne!(retried, rejected);
        assert!(outbox.set_aside().is_empty());
        let pending: Vec<Uuid> = outbox.pending().iter().map(|c| c.id).collect();
        assert_eq!(pending, vec![waiting, retried]);
        assert_eq!(outbox.pending()[1].changes, fixed);

        // The retry is on disk, and an id that is not set aside is refused.
        let reopened = Outbox::open(dir.file()).expect("reopen");
        assert_eq!(reopened.pending().len(), 2);
        assert!(reopened.set_aside().is_empty());
        assert!(matches!(
            outbox.retry_set_aside(waiting, vec![household_create()]),
            Err(OutboxError::NotSetAside(id)) if id == waiting
        ));
    }
}
