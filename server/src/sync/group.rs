//! Group commit of pushes: push requests that arrive together are applied in one write
//! transaction (`push::apply_group`), so a few hundred phones share one commit, one
//! fsync, one change-log insert and one audit insert instead of one each.
//!
//! Requests queue in lanes. A lane takes everything waiting (up to a bound), applies it
//! as one group and answers each request after the commit; what arrives meanwhile
//! forms the next group, so groups grow with the load and a lone phone waits for no
//! timer. Requests of one user always go to the same lane: a phone's pushes keep
//! their order, and one officer's phones, which edit the same households, never hold
//! row locks against each other from two transactions.
//!
//! SQLite has one writer, so it gets one lane, run on a thread of its own: the
//! statements of a group follow each other there without waiting for a turn on the
//! request handlers' busy runtime. PostgreSQL gets several lanes, whose groups commit
//! side by side. A change set in a savepoint of its own that PostgreSQL picks as a
//! deadlock victim is rolled back to it and tried again in the lane's next group, after
//! the locks are gone; a deadlock in what the group reads or writes for all its change
//! sets rolls the group back, and it is applied again change set by change set. A
//! PostgreSQL group's log rows take their commit number just before it commits
//! (`changelog::commit_number`); after each group one background task numbers what
//! other writers committed meanwhile (`changelog::number_committed`), so pulls find it
//! numbered.

use super::push::{self, Pending, Rules};
use crate::auth::Caller;
use crate::db::Db;
use crate::error::Refusal;
use jingzhun_mobile_api::wire::{ChangeSet, ChangeSetResult, Op};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

/// Most change sets one group applies on SQLite: bounds how long a group holds the
/// writer (and how long the first phone in it waits for the last).
pub const MAX_GROUP_CHANGESETS: usize = 256;

/// On PostgreSQL the bound is `sync.postgres_group_changesets`, at most this. A group's
/// change sets that only update fields take no savepoint (`group_state.rs`), so a
/// bigger group costs no subtransaction; those that create or delete run in one each.
pub const MAX_GROUP_CHANGESETS_POSTGRES: usize = 256;

/// Change sets that create or delete, at most, in one PostgreSQL group: each runs in a
/// savepoint, a subtransaction, and a transaction with more than 64 of them overflows
/// the per-backend cache, after which every snapshot in the cluster looks visibility up
/// in `pg_subtrans`, slowly (a rejected change set takes one more). A group whose shared
/// writes failed is applied again with a savepoint for every change set: rare, and it
/// may then pass 64.
pub const MAX_GROUP_WRITING_POSTGRES: usize = 24;

/// One request in a lane, with where its answer goes.
struct Job {
    pending: Pending,
    reply: oneshot::Sender<Pending>,
}

/// The lanes push requests queue in; cloned into every handler.
#[derive(Clone)]
pub struct Pushes {
    lanes: Vec<mpsc::UnboundedSender<Job>>,
}

impl Pushes {
    /// Starts the lanes: one on its own thread for SQLite, `postgres_lanes` tasks for
    /// PostgreSQL. They stop when the last `Pushes` is dropped.
    pub fn start(db: Db, postgres_lanes: usize, postgres_group: usize) -> std::io::Result<Pushes> {
        if !db.is_postgres() {
            let (tx, rx) = mpsc::unbounded_channel();
            std::thread::Builder::new().name("push-writer".into()).spawn(move || {
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime.block_on(lane(db, rx, MAX_GROUP_CHANGESETS, usize::MAX, None)),
                    Err(err) => tracing::error!(error = %err, "the push writer's runtime did not start"),
                }
            })?;
            return Ok(Pushes { lanes: vec![tx] });
        }
        let committed = Arc::new(Notify::new());
        tokio::spawn(numberer(db.clone(), Arc::downgrade(&committed)));
        let lanes = (0..postgres_lanes.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                let most = postgres_group.clamp(1, MAX_GROUP_CHANGESETS_POSTGRES);
                tokio::spawn(lane(db.clone(), rx, most, MAX_GROUP_WRITING_POSTGRES, Some(committed.clone())));
                tx
            })
            .collect();
        Ok(Pushes { lanes })
    }

    /// Applies a request's change sets in order and answers each, once the group that
    /// holds them has committed.
    pub async fn push(
        &self,
        caller: Caller,
        changesets: Vec<ChangeSet>,
        rules: Rules,
    ) -> Result<Vec<ChangeSetResult>, Refusal> {
        let lane = &self.lanes[lane_of(&caller.user_id, self.lanes.len())];
        let (reply, answer) = oneshot::channel();
        let pending = Pending::new(caller, changesets, rules);
        lane.send(Job { pending, reply }).map_err(|_| Refusal::internal("the push lanes have stopped"))?;
        let done = answer.await.map_err(|_| Refusal::internal("the push lane gave no answer (its group failed)"))?;
        match done.failed {
            Some(refusal) => Err(refusal),
            None => Ok(done.results),
        }
    }
}

fn lane_of(user_id: &str, lanes: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    user_id.hash(&mut hasher);
    (hasher.finish() % lanes.max(1) as u64) as usize
}

/// Numbers committed change-log rows on PostgreSQL whenever a lane says a group
/// committed: one numbering at a time however many lanes commit (each covers every
/// commit before it), so numberings never queue for the lock holding pooled
/// connections. Ends with the lanes.
async fn numberer(db: Db, committed: std::sync::Weak<Notify>) {
    loop {
        let Some(notify) = committed.upgrade() else { return };
        // Wakes at least once a second to notice that the lanes have gone.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), notify.notified()).await;
        drop(notify);
        if let Err(err) = crate::records::changelog::number_committed(&db).await {
            tracing::warn!(error = %err, "numbering committed change-log rows failed; the next pull numbers them");
        }
    }
}

/// Change sets of a request that create or delete (each needs a savepoint of its own).
fn writing(pending: &Pending) -> usize {
    pending.changesets.iter().filter(|cs| cs.changes.iter().any(|c| c.op != Op::Update)).count()
}

/// One lane: groups of at most `most` change sets, `most_writing` of them creating or
/// deleting (a request is never split); `committed` is told after each group on
/// PostgreSQL.
async fn lane(
    db: Db,
    mut queue: mpsc::UnboundedReceiver<Job>,
    most: usize,
    most_writing: usize,
    committed: Option<Arc<Notify>>,
) {
    // Requests a deadlock sent back: first in the next group.
    let mut carried: Vec<Job> = Vec::new();
    loop {
        let mut group = std::mem::take(&mut carried);
        if group.is_empty() {
            match queue.recv().await {
                Some(job) => group.push(job),
                None => return,
            }
        }
        let mut size: usize = group.iter().map(|j| j.pending.changesets.len()).sum();
        let mut writes: usize = group.iter().map(|j| writing(&j.pending)).sum();
        while size < most && writes < most_writing {
            match queue.try_recv() {
                Ok(job) => {
                    size += job.pending.changesets.len();
                    writes += writing(&job.pending);
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let (mut pendings, replies): (Vec<Pending>, Vec<_>) = group.into_iter().map(|j| (j.pending, j.reply)).unzip();
        // A bug that panics takes down its group (its requests are answered 500 and the
        // transaction rolls back), never the lane every later push waits in.
        let started = std::time::Instant::now();
        let applied = tokio::spawn({
            let db = db.clone();
            async move {
                push::apply_group(&db, &mut pendings).await;
                pendings
            }
        })
        .await;
        let pendings = match applied {
            Ok(pendings) => pendings,
            Err(err) => {
                tracing::error!(error = %err, "a group of pushed change sets panicked; its requests get no answer");
                continue;
            }
        };
        tracing::debug!(
            requests = pendings.len(),
            changesets = size,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "push group committed"
        );
        if let Some(committed) = &committed {
            // Numbered now, beside the next group, so the next pull serves it at once
            // instead of numbering a whole burst itself.
            committed.notify_one();
        }
        for (pending, reply) in pendings.into_iter().zip(replies) {
            if pending.retry && !pending.is_done() {
                carried.push(Job { pending, reply });
            } else {
                // The phone may have gone: its answer is stored with the receipts anyway.
                let _ = reply.send(pending);
            }
        }
        if !carried.is_empty() {
            // Let the group that won the deadlock finish before trying again.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_user_always_takes_the_same_lane() {
        assert_eq!(lane_of("officer-1", 4), lane_of("officer-1", 4));
        assert_eq!(lane_of("anyone", 1), 0);
        let used: std::collections::BTreeSet<usize> = (0..64).map(|i| lane_of(&format!("u{i}"), 4)).collect();
        assert_eq!(used.len(), 4, "users spread over every lane");
    }
}
