import request from 'supertest'
import type { Express } from 'express'
import { createApp } from '../app.js'
import { buildDeps, bootstrapPrincipal } from '../server.js'
import { parseFaults } from '../faults/index.js'
import type { FaultName } from '../faults/index.js'
import type { Database } from '../store/db.js'
import type { ServerDeps, ServerSettings } from '../http/types.js'
import { THROWAWAY_COST } from '../auth/passwords.js'

export const ROOT_EMAIL = 'root@platform.test'
export const ROOT_PASSWORD = 'root-password-for-tests'

export interface TestServer {
  app: Express
  deps: ServerDeps
  /** `call('GET', path, token, body)` → supertest response (JSON body when one is given). */
  call(method: string, path: string, token?: string, body?: unknown): Promise<request.Response>
  login(email: string, password: string, workspaceId?: string): Promise<{ access_token: string; refresh_token: string; id_token: string }>
  rootToken(): Promise<string>
}

/** The app under supertest (no port) over a given database, with the bootstrap principal created. */
export async function createTestServer(db: Database, faults: readonly FaultName[] = [], settings?: Partial<ServerSettings>): Promise<TestServer> {
  const deps = await buildDeps(db, { faults: parseFaults(faults), settings: { passwordCost: THROWAWAY_COST, ...settings } }, 'http://reference.test')
  const app = createApp(deps)
  await bootstrapPrincipal(db, ROOT_EMAIL, ROOT_PASSWORD, deps.settings.passwordCost)
  const call = (method: string, path: string, token?: string, body?: unknown) => {
    let req = request(app)[method.toLowerCase() as 'get'](path)
    if (token) req = req.set('Authorization', `Bearer ${token}`)
    if (body !== undefined) req = req.set('Content-Type', 'application/json').send(JSON.stringify(body))
    return req.then((r) => r)
  }
  const login = async (email: string, password: string, workspaceId?: string) => {
    const res = await call('POST', '/auth/token', undefined, { grant_type: 'password', username: email, password, ...(workspaceId ? { workspace_id: workspaceId } : {}) })
    if (res.status !== 200) throw new Error(`login ${email} failed: ${res.status} ${res.text}`)
    return res.body as { access_token: string; refresh_token: string; id_token: string }
  }
  let root: string | undefined
  return { app, deps, call, login, rootToken: async () => (root ??= (await login(ROOT_EMAIL, ROOT_PASSWORD)).access_token) }
}
