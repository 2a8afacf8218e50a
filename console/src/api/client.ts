// The one way the console talks to the server: openapi-fetch typed by schema.d.ts
// (generated from the server's OpenAPI document, never edited by hand). The session is
// the server's HttpOnly cookie; the CSRF token lives only in memory (never in
// localStorage) and goes on every request that is not a GET. A 401 anywhere means the
// session is gone: the console forgets the user and goes back to the login page.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'

let csrfToken: string | null = null
let onExpired: ((body: ApiError | null) => void) | null = null

export function setCsrfToken(token: string | null) {
  csrfToken = token
}

/** Called once by the app: what to do when the server says the session has ended. */
export function onSessionExpired(handler: (body: ApiError | null) => void) {
  onExpired = handler
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrfToken) {
      request.headers.set('X-CSRF-Token', csrfToken)
    }
    return request
  },
  async onResponse({ request, response }) {
    // A wrong password at sign-in is a 401 too; that one is the login form's to show.
    const signingIn = new URL(request.url).pathname === '/api/v1/auth/session'
    if (response.status === 401 && !signingIn && onExpired) {
      // The refusal says why (idle too long, signed out elsewhere) in both languages.
      const body = (await response.clone().json().catch(() => null)) as ApiError | null
      onExpired(body)
    }
    return response
  },
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })
api.use(csrf)

/** The server's refusal body: a stable code and messages in Chinese and English. */
export interface ApiError {
  error?: { code?: string; message_zh?: string; message_en?: string }
}

export function errorMessage(err: unknown, locale: string): string {
  const e = (err as ApiError | undefined)?.error
  if (!e) return locale === 'en' ? 'The server could not be reached' : '无法连接服务器'
  return (locale === 'en' ? e.message_en : e.message_zh) ?? e.code ?? ''
}

/**
 * Sends a file with its upload's progress (fetch cannot report it), under the same rules
 * as every other call: the CSRF token on the request, a 401 ends the session.
 * `onSent` is called once the whole file is on the server, which then works on it.
 * Gives up after `timeoutMs` (status 0, as a lost connection), so a request a proxy
 * dropped does not leave the clerk waiting on a bar that never moves.
 */
export function upload(
  path: string,
  form: FormData,
  onProgress: (percent: number) => void,
  onSent: () => void,
  timeoutMs = 10 * 60 * 1000,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', path)
    xhr.timeout = timeoutMs
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100))
    }
    xhr.upload.onload = onSent
    xhr.onload = () => {
      let body: unknown = null
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = null
      }
      if (xhr.status === 401 && onExpired) onExpired(body as ApiError | null)
      resolve({ status: xhr.status, body })
    }
    xhr.onerror = () => resolve({ status: 0, body: null })
    xhr.ontimeout = () => resolve({ status: 0, body: null })
    xhr.send(form)
  })
}
