// Keeping the officer's scope on the phone (plan §2): pages of
// `GET /api/mobile/v1/sync/pull` applied one IndexedDB transaction each, with the cursor
// saved in the same transaction as the page it follows — so a lost connection or a
// closed app resumes exactly where it stopped, with nothing skipped or applied twice.
// A household the officer no longer serves is evicted only once nothing local is
// pending for it: an edit made before a reassignment still reaches the server.
import { api, answered } from '../api'
import { hasPending } from '../sync/outbox'
import { db, getMeta, householdOf, setMeta, type StoredRecord } from './db'
import type { components } from '@api/schema'

type PullResponse = components['schemas']['PullResponse']

/** One page holds about 50 whole households; a first pull of 40 is one round trip. */
const PAGE = 500

export interface Cursor {
  value: string | null
  /** Bumped by a start-over; records written by an older generation are swept after it. */
  generation: number
}

/** Where the next pull starts. */
export async function cursor(): Promise<Cursor> {
  return (await getMeta<Cursor>('cursor')) ?? { value: null, generation: 1 }
}

/** Pulls to the end of the officer's changes; returns how many records came. */
export async function pullAll(): Promise<number> {
  let at = await cursor()
  let pulled = 0
  for (;;) {
    const page = await answered(
      api.GET('/api/mobile/v1/sync/pull', { params: { query: { cursor: at.value ?? undefined, limit: PAGE } } }),
    )
    if (page.has_more && page.cursor === at.value) throw new Error('服务器同步游标未前进')
    at = { value: page.cursor, generation: at.generation }
    await applyPage(page, at)
    pulled += page.changes.length
    if (!page.has_more) break
  }
  // A start-over is finished only at the end: households that left the scope while the
  // phone slept get no evict in a snapshot, so what the snapshot did not rewrite goes.
  if (await getMeta('resync')) await sweep(at.generation)
  return pulled
}

/**
 * The server no longer has the changes after our cursor (410 `cursor_expired`) or does
 * not accept it (another device's): the caller has pushed what was pending; pull the
 * whole scope again as a new generation.
 */
export async function startOver() {
  const { generation } = await cursor()
  await db.transaction('rw', db.meta, async () => {
    await setMeta('cursor', { value: null, generation: generation + 1 } satisfies Cursor)
    await setMeta('resync', { generation: generation + 1, started_at: new Date().toISOString() })
  })
}

async function applyPage(page: PullResponse, next: Cursor) {
  await db.transaction('rw', [db.records, db.meta, db.evicted, db.outbox, db.photos], async () => {
    for (const change of page.changes) {
      const key: [string, string] = [change.entity, change.id]
      if (change.op === 'upsert') {
        const data = (change.data ?? {}) as Record<string, unknown>
        const kept = await db.records.get(key)
        const record: StoredRecord = {
          entity: change.entity,
          id: change.id,
          household_id: householdOf(change.entity, change.id, data),
          version: change.version,
          data,
          overlay: kept?.overlay,
          generation: next.generation,
        }
        await db.records.put(record)
        // Back in scope (reassigned back): no longer waiting to go.
        if (change.entity === 'household') await db.evicted.delete(change.id)
      } else if (change.op === 'delete') {
        await db.records.delete(key)
      } else if (change.op === 'evict') {
        await evict(change.id)
      }
    }
    await setMeta('cursor', next)
  })
}

/** Removes household `h` and everything under it, or marks it to go once its pending work is delivered. */
export async function evict(h: string) {
  if (await hasPending(h)) {
    await db.evicted.put({ household_id: h })
    return
  }
  await db.records.where('household_id').equals(h).delete()
  await db.photos.where('household_id').equals(h).delete()
  await db.evicted.delete(h)
}

/** Evicts the households whose pending work has been delivered since their evict came. */
export async function sweepEvicted() {
  await db.transaction('rw', [db.records, db.evicted, db.outbox, db.photos], async () => {
    for (const { household_id } of await db.evicted.toArray()) await evict(household_id)
  })
}

/** After a start-over: drops what the new snapshot did not rewrite, unless something local is pending for it. */
async function sweep(generation: number) {
  await db.transaction('rw', [db.records, db.meta, db.evicted, db.outbox, db.photos], async () => {
    const stale = await db.records.filter((r) => r.generation < generation && !r.local_only).toArray()
    const households = new Set(stale.map((r) => r.household_id).filter((h): h is string => !!h))
    for (const h of households) {
      if (await hasPending(h)) continue
      await db.records.where('household_id').equals(h).filter((r) => r.generation < generation && !r.local_only).delete()
    }
    // Records with no household (none today) cannot be pending.
    await db.records.filter((r) => r.generation < generation && !r.household_id && !r.local_only).delete()
    await db.meta.delete('resync')
  })
}
