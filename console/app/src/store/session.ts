// Who is signed in on this phone: the device id made once here (the server binds the
// token to it) and the session from the phone's login route. Read locally, so the app
// opens offline.
import { db, getMeta, setMeta, type LoginResponse } from './db'

export interface Device {
  id: string
  name: string
}

/** The device id: made on the first start and never changed, since the server binds the token to it. */
export async function device(): Promise<Device> {
  const kept = await getMeta<Device>('device')
  if (kept) return kept
  const model = /Android[^;)]*;\s*([^;)]+)/.exec(navigator.userAgent)?.[1]?.trim() ?? ''
  const made: Device = { id: crypto.randomUUID(), name: `Android 浏览器 ${model}`.trim() }
  await setMeta('device', made)
  return made
}

export async function session(): Promise<LoginResponse | null> {
  return (await getMeta<LoginResponse>('session')) ?? null
}

export async function saveSession(value: LoginResponse) {
  await db.meta.put({ key: 'session', value })
}
