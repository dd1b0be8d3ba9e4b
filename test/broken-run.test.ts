import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempOut } from './cli.js'

const BIN = fileURLToPath(new URL('../bin/tenant-audit.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Not a speed assertion: a run that has not ended by then is killed and fails the test. */
const ENDED_WITHIN_MS = 240_000

/**
 * A run that breaks off is never "clean". The Vitest worker that runs the checks dies mid-suite (here
 * SIGKILL, as the kernel's OOM killer would): the checks that never reported prove nothing, so
 * `tenant-audit run` exits 2 with one line naming how many never reported, not 0 with a report of the
 * few that did (what it did before; met once on a fresh clone).
 */
describe('a run whose Vitest worker dies', () => {
  it('exits 2 and says the audit broke off, with the partial report kept', { timeout: ENDED_WITHIN_MS + 30_000 }, async () => {
    const out = tempOut('broken')
    const env: NodeJS.ProcessEnv = { ...process.env }
    // The check lines (printed unless CI=true) are the moment the worker is killed at.
    delete env.CI
    delete env.TENANT_AUDIT_QUIET
    const child = spawn(process.execPath, [BIN, 'run', '--suites', 'access', '--topology', 'small', '--runs', '10', '--seed', '3', '--out', out], {
      cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    let killed = false
    let workers: string[] = []
    const timer = setTimeout(() => child.kill('SIGKILL'), ENDED_WITHIN_MS)
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (killed || !/^ {2}[✓✗?!-] /m.test(stderr)) return
      killed = true
      // pgrep exits 1 when nothing matches: then no worker was killed, which the assertion below reports.
      try {
        workers = execFileSync('pgrep', ['-P', String(child.pid), '-f', 'workers/forks'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
      } catch {
        workers = []
      }
      for (const pid of workers) process.kill(Number(pid), 'SIGKILL')
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => (clearTimeout(timer), resolve(c))))
    expect(killed, stderr).toBe(true)
    // Asserted here, not in the stream handler, where a failed expect would be an uncaught error.
    expect(workers, 'the Vitest fork worker').not.toHaveLength(0)
    expect(code, stderr).toBe(2)
    expect(stderr).toMatch(/tenant-audit: the audit broke off: \d+ of \d+ checks never reported \(first: access\/[a-z-]+\)/)
    expect(stderr).not.toMatch(/0 findings/)
    expect(existsSync(join(out, 'findings.json'))).toBe(true)
  })
})
