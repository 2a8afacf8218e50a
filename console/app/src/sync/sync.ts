// One sync (plan §3): push what is pending, fetch the catalogue, pull to the end, let
// delivered evictions go, read the server's view of this phone. Run when the app starts,
// when the network comes back, when the service worker's background sync fires, on a
// pull-to-refresh, after each edit while online, every five minutes while visible, and once
// more when the server says changes committed there were not ready to serve (`behind`, `retry_after`).
// Only one runs at a time, across tabs too (Web Locks), and a request that arrives while
// one runs gets another run after it, so an edit made mid-sync is never left behind.
import { api, answered, Offline, Refused } from '../api'
import { loadCatalogue } from '../catalogue/schema'
import { router } from '../router'
import { getMeta, setMeta } from '../store/db'
import { pullAll, startOver, sweepEvicted } from '../store/pull'
import { WIPED, wipeDevice } from '../store/revoke'
import { session } from '../store/session'
import { syncing, type LastSync } from '../store/status'
import { uploadPhotos } from '../photos/upload'
import { flush, hasPending } from './outbox'

const EVERY_MS = 5 * 60_000

let running: Promise<void> | null = null
let again = false

/** Starts a sync, or asks for one more after the one running. Resolves when the queue of runs is done. */
export function requestSync(): Promise<void> {
  if (running) {
    again = true
    return running
  }
  running = (async () => {
    syncing.running = true
    try {
      do {
        again = false
        await exclusively(once)
      } while (again)
    } finally {
      syncing.running = false
      running = null
    }
  })()
  return running
}

/** Wires the triggers; called once at start. */
export function startSyncing() {
  addEventListener('online', () => {
    syncing.online = true
    void requestSync()
  })
  addEventListener('offline', () => {
    syncing.online = false
  })
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'flush') void requestSync()
  })
  setInterval(() => {
    if (document.visibilityState === 'visible' && navigator.onLine) void requestSync()
  }, EVERY_MS)
  void loadCatalogue()
  void requestSync()
}

/** Asks the browser to wake the app for a sync when the network returns (Chromium's Background Sync). */
export async function syncWhenOnline() {
  const registration = await navigator.serviceWorker?.getRegistration('/app/')
  const sync = (registration as (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }) | undefined)?.sync
  await sync?.register('outbox').catch(() => undefined)
  if (navigator.onLine) void requestSync()
}

async function exclusively(run: () => Promise<void>) {
  if (navigator.locks) await navigator.locks.request('jz-sync', run)
  else await run()
}

async function once() {
  if (!(await session())) return
  const started = performance.now()
  try {
    const report = await flush()
    await uploadPhotos()
    if (report.wipe && !(await hasPending())) return await wiped()
    await refreshCatalogue()
    await pullOrStartOver()
    await sweepEvicted()
    const status = await answered(api.GET('/api/mobile/v1/sync/status'))
    await setMeta('server_status', status)
    retryWhenBehind(status)
    const took_ms = Math.round(performance.now() - started)
    await setMeta('last_sync', { at: new Date().toISOString(), outcome: 'ok', took_ms } satisfies LastSync)
    syncing.signInAgain = false
    syncing.updateNeeded = false
  } catch (err) {
    if (err instanceof Refused && err.code === 'device_revoked') return await revoked(err.detail.mode)
    if (err instanceof Refused && err.status === 401) syncing.signInAgain = true
    if (err instanceof Refused && err.status === 426) syncing.updateNeeded = true
    const previous = await getMeta<LastSync>('last_sync')
    await setMeta('last_sync', {
      at: previous?.at,
      outcome: err instanceof Offline ? 'offline' : 'error',
      message: err instanceof Error ? err.message : String(err),
    } satisfies LastSync)
  }
}

/** The catalogue, the region policies the income form's R1 preview follows and the villages a new household may be filed in, for offline. */
async function refreshCatalogue() {
  const schema = await answered(api.GET('/api/mobile/v1/schema'))
  await setMeta('schema', { ...schema, fetched_at: new Date().toISOString() })
  await loadCatalogue()
  await setMeta('policies', await answered(api.GET('/api/mobile/v1/policies')))
  await setMeta('villages', await answered(api.GET('/api/mobile/v1/villages')))
}

let retry: ReturnType<typeof setTimeout> | null = null

/**
 * The server had committed changes not yet ready to serve as it answered (`behind`):
 * they are not here yet, so sync once more after the pause it asks for. A timer per
 * answer, not a loop; without it they would wait for the next edit or the five-minute sync.
 */
function retryWhenBehind(status: { behind?: boolean; retry_after?: number | null }) {
  if (!status.behind || retry) return
  retry = setTimeout(
    () => {
      retry = null
      void requestSync()
    },
    Math.max(1, status.retry_after ?? 1) * 1000,
  )
}

/** A cursor the server no longer serves (410) or does not accept (400): push, then pull everything again. */
async function pullOrStartOver() {
  try {
    await pullAll()
  } catch (err) {
    const stale = err instanceof Refused && (err.code === 'cursor_expired' || err.code === 'invalid_cursor')
    if (!stale) throw err
    await flush()
    await startOver()
    await pullAll()
  }
}


/** `wipe`: clear now. `drain`: deliver what is pending (a push and a photo upload still pass), then clear. */
async function revoked(mode: string | undefined) {
  if (mode === 'drain' && (await hasPending())) {
    await setMeta('revoked', { mode })
    try {
      const report = await flush()
      await uploadPhotos()
      if (!report.wipe || (await hasPending())) return
    } catch (err) {
      const wipeNow = err instanceof Refused && err.code === 'device_revoked' && err.detail.mode === 'wipe'
      if (!wipeNow) return
    }
  }
  await wiped()
}

async function wiped() {
  await wipeDevice()
  await router.replace({ name: 'login', query: { reason: WIPED } })
}
