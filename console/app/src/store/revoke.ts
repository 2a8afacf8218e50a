// Obeying a revoked device (DESIGN §5): `wipe` clears the phone at once; `drain` first
// delivers every pending change set (a push still passes for a drained device), then
// clears. The shell's caches stay: they hold the app, no data.
import { db } from './db'

/** Why the sign-in page is shown; the page reads it from the URL. */
export const WIPED = 'wiped'

/** Deletes the phone's whole store; the next sign-in makes a new device id (the old one stays revoked). */
export async function wipeDevice() {
  // Through the app's own connection: the open screens' live queries would otherwise
  // reopen the database and hold a separate delete blocked. Reopens empty on next use.
  await db.delete({ disableAutoOpen: false })
}
