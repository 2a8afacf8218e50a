// The app's one way to the server: openapi-fetch typed by the console's generated
// ../src/api/schema.d.ts (never a hand-written copy of the wire types). The phone's
// routes take the bearer token kept in IndexedDB; nothing here caches an answer.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from '@api/schema'
import { session } from './db'

const bearer: Middleware = {
  async onRequest({ request }) {
    const signedIn = await session()
    if (signedIn && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${signedIn.token}`)
    }
    return request
  },
}

export const api = createClient<paths>({ baseUrl: '' })
api.use(bearer)

/** The server's refusal body: a stable code and its Chinese message. */
export interface ApiError {
  error?: { code?: string; message_zh?: string }
}

export function errorMessage(err: unknown): string {
  const e = (err as ApiError | undefined)?.error
  if (!e) return '无法连接服务器，请检查网络'
  return e.message_zh ?? e.code ?? '操作未成功'
}
