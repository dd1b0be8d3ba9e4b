import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { faultsAreCaught } from './self-audit.shared.js'
import { CLI_TIMEOUT, ROOT } from './cli.js'

describe('self-audit: each seeded forgery fault is caught', { timeout: CLI_TIMEOUT }, () => {
  // Races show only on real Postgres: test/race.test.ts audits those faults there.
  faultsAreCaught(FAULTS.filter((f) => f.suite === 'forgery' && !('needs' in f)))
})

describe('the forgery suite never points a target at a non-loopback address', () => {
  it('every URL written in suites/forgery is the loopback listener or a reserved .test or .invalid name that never resolves', () => {
    const dir = join(ROOT, 'suites/forgery')
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8')
      for (const [url] of text.matchAll(/https?:\/\/[^\s'"`)]+/g)) {
        const host = url.replace(/^https?:\/\/(?:[^@/]*@)?/, '').split(/[/:]/)[0]!
        expect(['127.0.0.1', '${issuerHost}'].includes(host) || host.endsWith('.test') || host.endsWith('.invalid'), `${file}: ${url}`).toBe(true)
      }
    }
  })
})
