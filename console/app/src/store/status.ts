// What the sync bar shows, live: counts read from IndexedDB (Dexie's liveQuery re-reads
// them whenever the outbox or the records change, in this tab or another) and the state
// of the sync in progress, kept in memory.
import { liveQuery } from 'dexie'
import { onScopeDispose, reactive, ref, type Ref } from 'vue'
import { db, getMeta } from './db'

export interface LastSync {
  /** When the last sync that reached the server finished. */
  at?: string
  outcome: 'ok' | 'offline' | 'error'
  message?: string
  /** How long the last successful sync took, push to status (BENCHMARKS.md quotes the first pull's). */
  took_ms?: number
}

export interface Counts {
  pending: number
  rejected: number
  conflicts: number
  photos: number
  last?: LastSync
}

/** The state of this tab's sync. */
export const syncing = reactive({ running: false, online: navigator.onLine, signInAgain: false, updateNeeded: false })

/** A ref kept equal to `query`'s answer for as long as the calling component lives. */
export function live<T>(query: () => Promise<T>, initial: T): Ref<T> {
  const value = ref(initial) as Ref<T>
  const subscription = liveQuery(query).subscribe({
    next: (v) => (value.value = v),
    error: () => undefined,
  })
  onScopeDispose(() => subscription.unsubscribe())
  return value
}

export async function counts(): Promise<Counts> {
  const [pending, rejected, conflicts, photos, last] = await Promise.all([
    db.outbox.where('state').equals('pending').count(),
    db.outbox.where('state').equals('set_aside').count(),
    db.records
      .where('entity')
      .equals('conflict')
      .filter((r) => r.data.status === 'open')
      .count(),
    db.photos.where('state').equals('waiting').count(),
    getMeta<LastSync>('last_sync'),
  ])
  return { pending, rejected, conflicts, photos, last }
}
