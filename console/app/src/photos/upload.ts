// Camera photos to the server (plan §4), after the change sets that name them: each
// waiting photo, oldest first, one at a time, under the id the phone gave it when the
// visit was saved (so the visit log could reference it before any upload). A retry of a
// photo whose answer was lost sends the same id and bytes, and the server answers as
// the first time.
//
// What it must never do: let one photo the server will never take (too large, not an
// image, its id taken, the household gone) hold up the others — that one is marked
// 'failed' with the server's code and the loop moves on; nor mark a photo failed for a
// missing answer (no signal, a timeout, a busy server): it stays waiting for the next sync.
import { CLIENT_VERSION, Offline, Refused, type ApiError } from '../api'
import { errorText } from '../catalogue/schema'
import { db, type PhotoRow } from '../store/db'
import { session } from '../store/session'

/** A photo is larger than a push; a slow village link gets longer before giving up. */
const TIMEOUT_MS = 120_000

/** Answers that will be the same however often the photo is sent again. */
const FINAL = new Set([400, 403, 404, 409, 413, 415, 422])

/** Uploads the waiting photos. Throws `Offline` (the rest wait) or a `Refused` the whole sync must see (signed out, revoked, too old). */
export async function uploadPhotos(): Promise<void> {
  const waiting = await db.photos.where('state').equals('waiting').sortBy('created_at')
  for (const photo of waiting) {
    const answer = await send(photo)
    if (answer === 'later') return
  }
}

async function send(photo: PhotoRow): Promise<'done' | 'later'> {
  const signedIn = await session()
  if (!signedIn) return 'later'
  const form = new FormData()
  form.append('id', photo.id)
  form.append('household_id', photo.household_id)
  form.append('file', photo.blob, `visit-${photo.created_at.slice(0, 10)}.jpg`)
  let response: Response
  try {
    response = await fetch('/api/mobile/v1/attachments', {
      method: 'POST',
      headers: { Authorization: `Bearer ${signedIn.token}`, 'x-jingzhun-client-version': CLIENT_VERSION },
      body: form,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch {
    throw new Offline()
  }
  if (response.ok) {
    await db.photos.update(photo.id, { state: 'uploaded', error_code: undefined })
    return 'done'
  }
  const detail = ((await response.json().catch(() => undefined)) as ApiError | undefined)?.error ?? {}
  // The sync as a whole acts on these (sign in again, wipe, update the app).
  if (response.status === 401 || response.status === 426 || detail.code === 'device_revoked') {
    throw new Refused(response.status, detail)
  }
  if (!FINAL.has(response.status)) return 'later'
  await db.photos.update(photo.id, { state: 'failed', error_code: detail.code ?? `http_${response.status}` })
  return 'done'
}

/** The server's Chinese words for an upload's error code, from the catalogue it published. */
export function photoErrorText(code: string | undefined): string {
  if (!code) return ''
  return errorText(code, '照片未能上传')
}
