import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { registry } from '../suites/index.js'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

/** The access faults this part of the self-audit runs (split in two files so two workers share them). */
export function accessFaults(part: 0 | 1) {
  return FAULTS.filter((f) => f.suite === 'access' && !('needs' in f)).filter((_, i) => i % 2 === part)
}

/**
 * One fault, audited with the checks that claim to catch it: exit 1 and a finding from one of them.
 * The seed is fixed so a failure here is reproducible with the same command line.
 */
export function faultIsCaught(fault: { name: string; detectedBy: readonly string[] }): void {
  it(`catches ${fault.name}`, async () => {
    const checks = fault.detectedBy.filter((id) => registry.get(id))
    expect(checks, `no registered check for ${fault.name}`).not.toHaveLength(0)
    const out = tempOut(fault.name)
    const res = await runCli(['run', '--faults', fault.name, '--checks', checks.join(','), '--seed', '7', '--runs', '40', '--topology', 'small', '--out', out])
    expect(res.code, res.stderr).toBe(1)
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { findings: { checkId: string }[] }
    const by = new Set(report.findings.map((f) => f.checkId))
    expect(checks.some((id) => by.has(id)), `findings came from ${[...by].join(', ') || 'no check'}`).toBe(true)
  })
}
