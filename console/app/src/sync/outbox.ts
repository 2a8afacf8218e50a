// The phone's outbox (plan §3), the browser twin of mobile-api's `Outbox`: change sets
// recorded offline, kept in IndexedDB until the server has answered for each one.
//
// It must never lose or reorder a change set, never give one a new id when resending it
// (the server dedupes by id, so a retry after a lost answer applies nothing twice), and
// never wedge on a rejected one: that is set aside with the server's coded errors for the
// officer to fix, and the queue behind it keeps going. Every step that moves a change set
// also recomputes the overlays the screens show, in the same IndexedDB transaction.
import { api, answered } from '../api'
import {
  db,
  getMeta,
  householdOf,
  type Change,
  type ChangeSetResult,
  type QueuedChangeSet,
  type SchemaResponse,
  type StoredRecord,
} from '../store/db'
import type { components } from '@api/schema'

type PushResponse = components['schemas']['PushResponse']
type FieldConflict = components['schemas']['FieldConflict']

/** The push size when the schema has not been fetched yet; the server allows more. */
const DEFAULT_BATCH = 20

export class OutboxRefusal extends Error {}

export interface FlushReport {
  applied: number
  /** Already on the server: an earlier answer was lost on the way back. */
  duplicates: number
  rejected: number
  conflicts: number
  /** A drained device: wipe once nothing is pending. */
  wipe: boolean
}

type Key = [string, string]
const keyOf = (c: Change): Key => [c.entity, c.id]
const keyText = ([entity, id]: Key) => `${entity}/${id}`

/**
 * Queues `changes` as one change set (all-or-nothing on the server) and returns its id.
 * An update's `base_version` is the version the officer was looking at: the stored one.
 */
export async function enqueue(changes: Change[], summary: string): Promise<string> {
  const schema = await getMeta<SchemaResponse>('schema')
  if (changes.length === 0) throw new OutboxRefusal('没有需要提交的修改')
  if (schema && changes.length > schema.max_changes_per_changeset) {
    throw new OutboxRefusal(`一次最多提交 ${schema.max_changes_per_changeset} 项修改`)
  }
  const order = schema?.entities.map((e) => e.name) ?? []
  const rank = (entity: string) => {
    const at = order.indexOf(entity)
    return at < 0 ? order.length : at
  }
  const opRank = { create: 0, update: 1, delete: 2 } as const
  const id = crypto.randomUUID()
  await db.transaction('rw', [db.outbox, db.records], async () => {
    const households = new Set<string>()
    const sorted: Change[] = []
    for (const change of changes) {
      const stored = await db.records.get(keyOf(change))
      const base = change.op === 'create' ? 0 : (change.base_version ?? stored?.version ?? 0)
      const household = stored?.household_id ?? householdOf(change.entity, change.id, change.fields)
      if (household) households.add(household)
      sorted.push({ ...change, base_version: base })
    }
    // Parents before children, and a record's create before its update: the server
    // applies a change set in order. The sort is stable, so equal ones keep the caller's order.
    sorted.sort((a, b) => rank(a.entity) - rank(b.entity) || opRank[a.op] - opRank[b.op])
    await db.outbox.add({
      id,
      changes: sorted,
      // The phone's clock: the server tells an edit made before a reassignment from one after.
      recorded_at: new Date().toISOString(),
      household_ids: [...households],
      state: 'pending',
      summary,
    })
    await recomputeOverlays(sorted.map(keyOf))
  })
  return id
}

/** Change sets still to send, in sending order. */
export function pendingChangeSets(): Promise<QueuedChangeSet[]> {
  return db.outbox.where('state').equals('pending').sortBy('seq')
}

/**
 * Sends every pending change set in order and files each answer. Throws `Offline` or
 * `Refused` from the first push that fails: that batch and the rest stay pending with
 * their ids, and whatever was answered before is already filed.
 */
export async function flush(): Promise<FlushReport> {
  const schema = await getMeta<SchemaResponse>('schema')
  const limit = Math.max(1, Math.min(schema?.max_changesets_per_push ?? DEFAULT_BATCH, DEFAULT_BATCH))
  // A snapshot: a change set the server did not answer for waits for the next flush
  // instead of being resent in a loop now.
  let queued = (await pendingChangeSets()).map((c) => c.id)
  const report: FlushReport = { applied: 0, duplicates: 0, rejected: 0, conflicts: 0, wipe: false }
  while (queued.length > 0) {
    const batch = await nextBatch(queued, limit)
    if (batch.length === 0) break
    const response = await answered(
      api.POST('/api/mobile/v1/sync/push', {
        body: { changesets: batch.map((c) => ({ id: c.id, changes: c.changes, recorded_at: c.recorded_at })) },
      }),
    )
    const filed = await applyPushResponse(batch, response)
    report.applied += filed.applied
    report.duplicates += filed.duplicates
    report.rejected += filed.rejected
    report.conflicts += filed.conflicts
    report.wipe ||= filed.wipe
    const sent = new Set(batch.map((c) => c.id))
    queued = queued.filter((id) => !sent.has(id))
  }
  return report
}

/**
 * The next change sets to send, in order, read fresh (their base versions may have been
 * moved on by the last answer). A batch never holds two change sets touching one record:
 * the second must be sent with the version the first one produced.
 */
async function nextBatch(queued: string[], limit: number): Promise<QueuedChangeSet[]> {
  const batch: QueuedChangeSet[] = []
  const touched = new Set<string>()
  for (const id of queued) {
    const set = await db.outbox.get({ id })
    if (!set || set.state !== 'pending') continue
    const keys = set.changes.map((c) => keyText(keyOf(c)))
    if (batch.length > 0 && (batch.length >= limit || keys.some((k) => touched.has(k)))) break
    keys.forEach((k) => touched.add(k))
    batch.push(set)
  }
  return batch
}

/**
 * Files the server's answer for `sent`: `applied` and a `duplicate` of an applied one
 * leave the queue and their fields become the stored data at the answered version;
 * `rejected` (or a duplicate whose first answer was a rejection) is set aside with the
 * answer; a change set without an answer stays pending. Conflicts become `conflict`
 * records at once, so the officer sees them before the next pull.
 */
export async function applyPushResponse(sent: QueuedChangeSet[], response: PushResponse): Promise<FlushReport> {
  const report: FlushReport = { applied: 0, duplicates: 0, rejected: 0, conflicts: 0, wipe: response.wipe ?? false }
  await db.transaction('rw', [db.outbox, db.records], async () => {
    const touched: Key[] = []
    for (const set of sent) {
      const result = response.results.find((r) => r.id === set.id)
      const current = await db.outbox.get({ id: set.id })
      if (!result || !current || current.state !== 'pending') continue
      touched.push(...set.changes.map(keyOf))
      const firstAnswerRejected = result.changes.some((c) => c.status === 'rejected')
      if (result.status === 'applied' || (result.status === 'duplicate' && !firstAnswerRejected)) {
        await db.outbox.delete(current.seq!)
        await adopt(set, result)
        if (result.status === 'applied') report.applied += 1
        else report.duplicates += 1
        report.conflicts += result.changes.reduce((n, c) => n + (c.conflicts?.length ?? 0), 0)
      } else {
        await db.outbox.update(current.seq!, { state: 'set_aside', result, set_aside_at: new Date().toISOString() })
        report.rejected += 1
      }
    }
    await recomputeOverlays(touched)
  })
  return report
}

/** Takes an answered change set's values into the stored records, at the versions the server gave. */
async function adopt(set: QueuedChangeSet, result: ChangeSetResult) {
  for (const change of set.changes) {
    const answer = result.changes.find((r) => r.entity === change.entity && r.id === change.id)
    if (!answer || answer.status === 'rejected') continue
    const key = keyOf(change)
    const stored = await db.records.get(key)
    if (change.op === 'delete') {
      await db.records.delete(key)
      continue
    }
    const base = change.base_version ?? 0
    await rebaseFollowing(key, base, answer.version)
    // A pull may already have brought a newer version; never go back from it.
    if (stored && !stored.local_only && stored.version > answer.version) continue
    const kept = new Set((answer.conflicts ?? []).map((c) => c.field))
    const fields = Object.fromEntries(Object.entries(change.fields ?? {}).filter(([name]) => !kept.has(name)))
    const household = stored?.household_id ?? householdOf(change.entity, change.id, change.fields)
    const record: StoredRecord = {
      entity: change.entity,
      id: change.id,
      household_id: household,
      version: answer.version,
      data: { ...(stored?.data ?? {}), ...fields, id: change.id, version: answer.version },
      generation: stored?.generation ?? 0,
    }
    await db.records.put(record)
    for (const conflict of answer.conflicts ?? []) {
      await db.records.put(conflictRecord(conflict, change, household))
    }
  }
}

/**
 * After our own change moved a record from `base` to `version` with nothing in between
 * (versions go up by one per applied change), later queued edits made against `base`
 * were made against what is now `version`: sent with the old base, the server would see
 * their own predecessor as a concurrent change and raise a conflict with ourselves.
 * When someone else changed the record too, the old base stays, so the server can tell.
 */
async function rebaseFollowing([entity, id]: Key, base: number, version: number) {
  if (version > base + 1 || version === base) return
  const later = await db.outbox.where('state').equals('pending').toArray()
  for (const set of later) {
    let moved = false
    const changes = set.changes.map((c) => {
      if (c.entity !== entity || c.id !== id || c.op === 'create' || (c.base_version ?? 0) !== base) return c
      moved = true
      return { ...c, base_version: version }
    })
    if (moved) await db.outbox.update(set.seq!, { changes })
  }
}

function conflictRecord(conflict: FieldConflict, change: Change, household: string | undefined): StoredRecord {
  return {
    entity: 'conflict',
    id: conflict.id,
    household_id: household,
    version: 1,
    data: {
      id: conflict.id,
      entity: change.entity,
      entity_id: change.id,
      household_id: household,
      field: conflict.field,
      base_value: conflict.base_value,
      server_value: conflict.server_value,
      client_value: conflict.client_value,
      status: 'open',
    },
    generation: 0,
  }
}

/**
 * Recomputes the overlay of each record in `keys` from the pending change sets, in
 * order. A record made on the phone exists locally only while its create is pending.
 */
export async function recomputeOverlays(keys: Key[]) {
  const wanted = new Map(keys.map((k) => [keyText(k), k]))
  if (wanted.size === 0) return
  const pending = await pendingChangeSets()
  for (const [text, key] of wanted) {
    let overlay: Record<string, unknown> | undefined
    let created: Change | undefined
    for (const set of pending) {
      for (const change of set.changes) {
        if (keyText(keyOf(change)) !== text) continue
        if (change.op === 'create') created = change
        overlay = change.op === 'delete' ? { ...overlay, _deleted: true } : { ...overlay, ...change.fields }
      }
    }
    const stored = await db.records.get(key)
    if (stored) {
      if (stored.local_only && !created) await db.records.delete(key)
      else await db.records.put({ ...stored, overlay })
    } else if (created) {
      await db.records.put({
        entity: key[0],
        id: key[1],
        household_id: householdOf(key[0], key[1], created.fields),
        version: 0,
        data: { id: key[1] },
        overlay,
        local_only: true,
        generation: 0,
      })
    }
  }
}

/** The set-aside change set `id` replaced by the officer's fix, under a new id (the server remembers the old one as rejected). */
export async function retrySetAside(id: string, fixed: Change[], summary: string): Promise<string> {
  return db.transaction('rw', [db.outbox, db.records, db.meta], async () => {
    const set = await db.outbox.get({ id })
    if (!set || set.state !== 'set_aside') throw new OutboxRefusal('该修改不在退回列表中')
    const newId = await enqueue(fixed, summary)
    await db.outbox.delete(set.seq!)
    return newId
  })
}

/** Drops a set-aside change set on the phone; the server keeps the rejected copy for the supervisor. */
export async function discardSetAside(id: string) {
  const set = await db.outbox.get({ id })
  if (set?.state === 'set_aside') await db.outbox.delete(set.seq!)
}

/**
 * Change sets or photos still to deliver — of household `h` (it may not be evicted yet),
 * or of any (a drained phone may not wipe yet).
 */
export async function hasPending(h?: string): Promise<boolean> {
  const sets = h
    ? db.outbox.where('household_ids').equals(h).filter((c) => c.state === 'pending')
    : db.outbox.where('state').equals('pending')
  if ((await sets.count()) > 0) return true
  const photos = h
    ? db.photos.where('household_id').equals(h).filter((p) => p.state === 'waiting')
    : db.photos.where('state').equals('waiting')
  return (await photos.count()) > 0
}
