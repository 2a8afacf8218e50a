// The phone's own store: IndexedDB database `jingzhun-app` through Dexie (plan §2).
// Everything the officer sees offline is here — the records pulled for their scope, the
// outbox of change sets not yet answered, camera photos, households waiting to be
// evicted — and nothing in it is ever sent anywhere but to this server. The outbox is
// the only source of local edits: `records.overlay` is recomputed from it, never pushed.
import Dexie, { type Table } from 'dexie'
import type { components } from '@api/schema'

type Schemas = components['schemas']
export type LoginResponse = Schemas['LoginResponse']
export type Change = Schemas['Change']
export type ChangeSetResult = Schemas['ChangeSetResult']
export type SchemaResponse = Schemas['SchemaResponse']
export type SyncStatus = Schemas['SyncStatus']

export interface MetaRow {
  key: string
  value: unknown
}

/** One pulled record of any entity (`household`, `member`, …, `conflict`, `objection`). */
export interface StoredRecord {
  entity: string
  id: string
  /** The household it hangs off (itself for a household); absent when it has none. */
  household_id?: string
  /** The server's version: the `base_version` of the next local edit. 0 until a create is answered. */
  version: number
  /** What the server last said (`{id, version, <every catalogue field>}`). */
  data: Record<string, unknown>
  /** Fields changed by pending change sets, folded in order; `_deleted` for a pending delete. */
  overlay?: Record<string, unknown>
  /** Made on this phone and not yet acknowledged by the server. */
  local_only?: true
  /** The cursor generation that last wrote it: a start-over sweeps older ones. */
  generation: number
}

export type OutboxState = 'pending' | 'set_aside'

/** A change set as queued on the phone, mirroring mobile-api's `Outbox` (plan §3). */
export interface QueuedChangeSet {
  /** Dexie's auto-increment: the order they were recorded and are sent in. */
  seq?: number
  /** Fixed forever: a retry after a lost answer reuses it and the server dedupes. */
  id: string
  changes: Change[]
  recorded_at: string
  household_ids: string[]
  state: OutboxState
  /** What the lists show, e.g. 「修改住址」. */
  summary: string
  /** The server's answer for a set-aside change set, with its coded field errors. */
  result?: ChangeSetResult
  set_aside_at?: string
}

/** A camera photo waiting for (or done with) its upload; the visit log holds its id. */
export interface PhotoRow {
  id: string
  household_id: string
  blob: Blob
  size: number
  created_at: string
  state: 'waiting' | 'uploaded' | 'failed'
  error_code?: string
}

export interface EvictedRow {
  household_id: string
}

class AppDb extends Dexie {
  meta!: Table<MetaRow, string>
  records!: Table<StoredRecord, [string, string]>
  outbox!: Table<QueuedChangeSet, number>
  photos!: Table<PhotoRow, string>
  evicted!: Table<EvictedRow, string>
  constructor() {
    super('jingzhun-app')
    // Version 1 was the shell's (meta only); phones that signed in with it keep their session.
    this.version(1).stores({ meta: 'key' })
    this.version(2).stores({
      meta: 'key',
      records: '[entity+id], household_id, [entity+household_id], entity',
      outbox: '++seq, &id, state, *household_ids',
      photos: 'id, household_id, state',
      evicted: 'household_id',
    })
  }
}

export const db = new AppDb()

export async function getMeta<T>(key: string): Promise<T | undefined> {
  return (await db.meta.get(key))?.value as T | undefined
}

export async function setMeta(key: string, value: unknown) {
  await db.meta.put({ key, value })
}

/** The household a pulled or queued record belongs to. */
export function householdOf(entity: string, id: string, data: Record<string, unknown> | null | undefined): string | undefined {
  if (entity === 'household') return id
  const h = data?.household_id
  return typeof h === 'string' ? h : undefined
}

/** What a screen shows: the server's data with the pending local edits on top. */
export function shown(record: StoredRecord): Record<string, unknown> {
  return record.overlay ? { ...record.data, ...record.overlay } : record.data
}
