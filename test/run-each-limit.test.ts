import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runEachCli, tempOut } from './cli.js'

/**
 * test/cli.ts runEachCli: a run that never ends fails its own test, with what the child had open, and
 * the runs queued behind it still run (in a fresh child). Before, one stuck run left every later test
 * of its file waiting out the test timeout (10 minutes each) with nothing said.
 */
describe('run-each: a run past its limit', { timeout: 90_000 }, () => {
  // A target that accepts connections and never answers: the run waits on it (its contract read, for up to the
  // profile's 100-s timeout), well past the 20-s limit however slowly the child starts on a loaded machine.
  let silent: Server
  const sockets: Socket[] = []
  beforeAll(async () => {
    silent = createServer((s) => void sockets.push(s))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  })
  afterAll(() => {
    for (const s of sockets) s.destroy()
    silent.close()
  })

  it('is given up with what the child had open, and the next queued run still runs', async () => {
    const profile = join(tempOut('silent'), 'silent.yaml')
    mkdirSync(dirname(profile), { recursive: true })
    writeFileSync(profile, `name: silent\nbaseUrl: http://127.0.0.1:${(silent.address() as AddressInfo).port}\nbudget:\n  timeoutMs: 100000\n  retries: 0\n`)
    const each = runEachCli({ BOOTSTRAP_PRINCIPAL_EMAIL: 'auditor@example.com', BOOTSTRAP_PRINCIPAL_PASSWORD: 'not-a-real-password' })
    try {
      const stuck = each.run('stuck', ['--target', profile, '--out', tempOut('stuck')], undefined, 20_000)
      // Queued behind it: a profile that does not exist, which `run` refuses at once (exit 2, one line).
      const next = each.run('next', ['--target', join(dirname(profile), 'missing.yaml'), '--out', tempOut('next')])
      await expect(stuck).rejects.toThrow(/stuck's run did not end within 20 s[\s\S]*run-each: still making stuck, for \d+ s; open: \{.*TCPSocketWrap/)
      const after = await next
      expect(after.code, after.stderr).toBe(2)
      expect(after.stderr).toMatch(/missing\.yaml/)
    } finally {
      await each.close(10_000)
    }
  })
})
