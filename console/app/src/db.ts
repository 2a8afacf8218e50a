// The phone's own store (IndexedDB through Dexie, database `jingzhun-app`): this slice
// keeps only `meta` — the device id made once on this phone and the signed-in session.
// The later slices add records, the outbox and photos to the same version (plan §2);
// nothing here is ever sent anywhere but to this server.
import Dexie, { type Table } from 'dexie'
import type { components } from '@api/schema'

export type LoginResponse = components['schemas']['LoginResponse']

export interface MetaRow {
  key: string
  value: unknown
}

export interface Device {
  id: string
  name: string
}

class AppDb extends Dexie {
  meta!: Table<MetaRow, string>
  constructor() {
    super('jingzhun-app')
    this.version(1).stores({ meta: 'key' })
  }
}

export const db = new AppDb()

/** The device id: made on the first start and never changed, since the server binds the token to it. */
export async function device(): Promise<Device> {
  const row = await db.meta.get('device')
  if (row) return row.value as Device
  const model = /Android[^;)]*;\s*([^;)]+)/.exec(navigator.userAgent)?.[1]?.trim() ?? ''
  const made: Device = { id: crypto.randomUUID(), name: `Android 浏览器 ${model}`.trim() }
  await db.meta.put({ key: 'device', value: made })
  return made
}

export async function session(): Promise<LoginResponse | null> {
  return ((await db.meta.get('session'))?.value as LoginResponse | undefined) ?? null
}

export async function saveSession(value: LoginResponse) {
  await db.meta.put({ key: 'session', value })
}
