import { connect, createServer as createNetServer, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { startServer } from './server.js'
import { createTestDatabase } from './testing/databases.js'
import { ROOT_EMAIL, ROOT_PASSWORD } from './testing/server.js'
import type { Database } from './store/db.js'
import { THROWAWAY_COST } from './auth/passwords.js'

async function freePort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

/** Sends one raw HTTP/1.1 request and resolves with the whole answer once the server closes the connection. */
function rawGet(port: number, path: string): { sent: Promise<void>; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1')
  let sentResolve!: () => void
  const sent = new Promise<void>((resolve) => (sentResolve = resolve))
  socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, () => sentResolve()))
  const answer = new Promise<string>((resolve, reject) => {
    let data = ''
    socket.on('data', (d) => (data += d.toString('utf8')))
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
  return { sent, answer }
}

describe('startServer', () => {
  it('answers a request that arrives after listen() but before the app is built (it used to hang forever)', async () => {
    const port = await freePort()
    const base = await createTestDatabase('pglite')
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    // Start-up blocks in its first transaction (the bootstrap principal) until the request is in.
    const db = new Proxy(base.db, {
      get(target, key) {
        if (key === 'withTenant') return async (...args: Parameters<Database['withTenant']>) => { await gate; return target.withTenant(...args) }
        const value = Reflect.get(target, key) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const starting = startServer({ db, port, bootstrap: { email: ROOT_EMAIL, password: ROOT_PASSWORD }, settings: { passwordCost: THROWAWAY_COST } })
    try {
      await expect.poll(() => new Promise<boolean>((resolve) => {
        const probe = connect(port, '127.0.0.1').on('connect', () => { probe.destroy(); resolve(true) }).on('error', () => resolve(false))
      })).toBe(true)
      const { sent, answer } = rawGet(port, '/healthz')
      await sent
      await sleep(100) // let the server read it while the app does not exist yet (only makes the test sharper, never flakier)
      release()
      const server = await starting
      try {
        expect(await answer).toMatch(/^HTTP\/1\.1 200 /)
      } finally {
        await server.close()
      }
    } finally {
      release()
      await base.drop()
    }
  })
})
