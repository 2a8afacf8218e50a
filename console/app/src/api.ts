// The app's one way to the server: openapi-fetch typed by the console's generated
// ../src/api/schema.d.ts (never a hand-written copy of the wire types). The phone's
// routes take the bearer token kept in IndexedDB and say which protocol version this
// app speaks; nothing here caches an answer (the service worker never sees /api/ either).
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from '@api/schema'
import { session } from './store/session'

/** The sync protocol this app speaks (mobile-api's PROTOCOL_VERSION); below the server's minimum it answers 426. */
export const CLIENT_VERSION = '1'
/** A request on a village's edge of coverage can hang for minutes; give up and retry later with the same ids. */
const TIMEOUT_MS = 30_000

const phone: Middleware = {
  async onRequest({ request }) {
    const signedIn = await session()
    if (signedIn && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${signedIn.token}`)
    }
    request.headers.set('x-jingzhun-client-version', CLIENT_VERSION)
    return request
  },
}

export const api = createClient<paths>({
  baseUrl: '',
  fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(TIMEOUT_MS) }),
})
api.use(phone)

/** The server's refusal body: a stable code, its Chinese message and, for a revoked device, the mode. */
export interface ErrorDetail {
  code?: string
  message_zh?: string
  mode?: string
}
export interface ApiError {
  error?: ErrorDetail
}

export function errorMessage(err: unknown): string {
  const e = (err as ApiError | undefined)?.error
  if (!e) return '无法连接服务器，请检查网络'
  return e.message_zh ?? e.code ?? '操作未成功'
}

/** No answer at all: no signal, the server down, or the request timed out. Nothing was lost. */
export class Offline extends Error {
  constructor() {
    super('无法连接服务器，请检查网络')
  }
}

/** An answer that is not a success, with the server's code. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly detail: ErrorDetail,
  ) {
    super(detail.message_zh ?? detail.code ?? `HTTP ${status}`)
  }
  get code(): string | undefined {
    return this.detail.code
  }
}

/** The data of a successful answer; otherwise throws `Offline` or `Refused`. */
export async function answered<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let outcome: { data?: T; error?: unknown; response: Response }
  try {
    outcome = await call
  } catch {
    throw new Offline()
  }
  if (outcome.response.ok && outcome.data !== undefined) return outcome.data
  throw new Refused(outcome.response.status, (outcome.error as ApiError | undefined)?.error ?? {})
}
