import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { registry } from '../suites/index.js'
import { runEachCli, tempOut, type RunEach } from './cli.js'

/** The access faults this part of the self-audit runs (split in two files so two workers share them). */
export function accessFaults(part: 0 | 1) {
  return FAULTS.filter((f) => f.suite === 'access' && !('needs' in f)).filter((_, i) => i % 2 === part)
}

/** A fault's run takes 5-60 s here; one still going after this is stuck, and fails its own test with what it had open. */
const FAULT_RUN_LIMIT = 5 * 60_000

/**
 * Each fault, audited with the checks that claim to catch it: exit 1 and a finding from every one of them.
 * Every fault is its own whole `run` (a freshly started embedded server, the migrated template
 * cloned, with only that fault on; its own provisioning, Vitest run and reports), and one file's runs
 * go one after another through one child process (harness/cli/run-each.ts), so process and module
 * start-up is paid once per file, not once per fault. The seed is fixed, and a failure prints the
 * command line that reproduces it alone.
 */
export function faultsAreCaught(faults: readonly { name: string; detectedBy: readonly string[] }[]): void {
  let each: RunEach | undefined
  afterAll(() => each?.close(60_000))
  for (const fault of faults) {
    it(`catches ${fault.name}`, async () => {
      const checks = fault.detectedBy.filter((id) => registry.get(id))
      expect(checks, `no registered check for ${fault.name}`).not.toHaveLength(0)
      const out = tempOut(fault.name)
      const res = await (each ??= runEachCli()).run(fault.name, ['--faults', fault.name, '--checks', checks.join(','), '--seed', '7', '--runs', '40', '--topology', 'small', '--out', out], undefined, FAULT_RUN_LIMIT)
      const again = `reproduce: ${res.command}`
      expect(res.code, `${again}\n${res.stderr}`).toBe(1)
      const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as {
        run: { faults: string[] }; findings: { checkId: string }[]; checks: { id: string; status: string; reason?: string; notes?: string[] }[]
      }
      // The server had exactly this fault on.
      expect(report.run.faults, again).toEqual([fault.name])
      const by = new Set(report.findings.map((f) => f.checkId))
      // What the claimed checks said, so a miss (a race not reproduced, a skip) can be read from the failure.
      const said = report.checks.filter((c) => checks.includes(c.id)).map((c) => `${c.id}: ${c.status}${c.reason ? ` (${c.reason})` : ''}${c.notes?.length ? `; ${c.notes.join('; ')}` : ''}`)
      // Every claimed check, not one of them: with each check claimed by some fault (self-audit-clean), every
      // check is then shown to fail. (With "one of them", access/no-server-errors went unshown: its only fault
      // was caught by access/id-mutations while it passed.)
      const missed = checks.filter((id) => !by.has(id))
      expect(missed, `${missed.join(', ')} did not catch it; findings came from ${[...by].join(', ') || 'no check'}; ${said.join('\n')}\n${again}`).toEqual([])
    })
  }
}
