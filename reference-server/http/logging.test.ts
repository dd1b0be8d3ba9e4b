import { Writable } from 'node:stream'
import pino from 'pino'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../app.js'
import { buildDeps, bootstrapPrincipal } from '../server.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { THROWAWAY_COST } from '../auth/passwords.js'

/** Request logs say what happened (method, route, status, request id) and never carry a credential. */
describe('request logs', () => {
  let tdb: TestDatabase
  const lines: string[] = []
  beforeAll(async () => {
    tdb = await createTestDatabase('pglite')
  })
  afterAll(() => tdb.drop())

  it('carry no token, password or cookie', async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) })
    const deps = await buildDeps(tdb.db, { logger: pino({ level: 'info' }, sink), settings: { passwordCost: THROWAWAY_COST } }, 'http://reference.test')
    const app = createApp(deps)
    await bootstrapPrincipal(tdb.db, 'log@platform.test', 'log-password-12345', THROWAWAY_COST)
    const login = await request(app).post('/auth/token').type('form').send({ grant_type: 'password', username: 'log@platform.test', password: 'log-password-12345' })
    const token = login.body.access_token as string
    await request(app).get('/portal/v1/accounts?access_token=' + token).set('Authorization', `Bearer ${token}`).set('Cookie', 'session=secret-cookie-value')
    await request(app).get('/portal/v1/accounts').set('Authorization', 'Bearer garbage.token.value')
    const log = lines.join('')
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(log).toContain('/portal/v1/accounts')
    for (const secret of [token, login.body.refresh_token, login.body.id_token, 'log-password-12345', 'secret-cookie-value', 'garbage.token.value', 'Bearer']) {
      expect(log.includes(secret), `log contains ${secret.slice(0, 12)}…`).toBe(false)
    }
  })
})
