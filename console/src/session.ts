// Who is signed in, as the server said at sign-in or on GET /api/v1/auth/session. The
// console uses the grants only to leave out menu areas the user has no part in; the
// server decides every request on its own.
import { reactive } from 'vue'
import { api, setCsrfToken, type ApiError } from './api/client'
import type { components } from './api/schema'

type SessionBody = components['schemas']['SessionView']
export type SessionUser = SessionBody['user']
export type Abilities = components['schemas']['AbilitiesBody']

export const session = reactive({
  user: null as SessionUser | null,
  checked: false,
  idleTimeoutSeconds: 0,
  expired: false,
  /** Why the session ended, as the server said it (zh/en), for the login page. */
  expiredBody: null as ApiError | null,
})

// Asked once a sign-in, dropped when the user changes.
let abilitiesAsked: Promise<Abilities | null> | null = null

/**
 * What the server says the user may do where no record answers `actions` (import a list,
 * edit templates, which reports for which regions): GET /api/v1/me/abilities, computed by
 * the rules the server refuses by. Null when it could not be asked (asked again next time).
 */
export function abilities(): Promise<Abilities | null> {
  abilitiesAsked ??= api.GET('/api/v1/me/abilities').then(
    ({ data }) => {
      if (!data) abilitiesAsked = null
      return data ?? null
    },
    () => {
      abilitiesAsked = null
      return null
    },
  )
  return abilitiesAsked
}

function accept(body: SessionBody) {
  abilitiesAsked = null
  session.user = body.user
  session.idleTimeoutSeconds = body.idle_timeout_seconds
  session.expired = false
  session.expiredBody = null
  setCsrfToken(body.csrf_token)
}

export function forget(expired: boolean, body: ApiError | null = null) {
  abilitiesAsked = null
  session.user = null
  session.expired = expired
  session.expiredBody = body
  setCsrfToken(null)
}

/** Asks the server whether the cookie still holds a session (on a reload). */
export async function restore(): Promise<void> {
  if (session.checked) return
  try {
    const { data, response } = await api.GET('/api/v1/auth/session')
    if (response.ok && data) accept(data)
  } catch {
    // No server: the login page will say so when the user tries.
  }
  session.checked = true
}

/** Signs in; the refusal body on failure. */
export async function signIn(username: string, password: string): Promise<unknown | null> {
  const { data, error } = await api.POST('/api/v1/auth/session', { body: { username, password } })
  if (error || !data) return error ?? {}
  accept(data)
  session.checked = true
  return null
}

export async function signOut(): Promise<void> {
  try {
    await api.DELETE('/api/v1/auth/session')
  } finally {
    forget(false)
  }
}

export function roles(): Set<string> {
  return new Set((session.user?.grants ?? []).map((g) => g.role))
}
