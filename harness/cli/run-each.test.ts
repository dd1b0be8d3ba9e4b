import { describe, expect, it } from 'vitest'
import { commandLine, runOptions } from './run-each.js'

describe('run-each (test-only: several runs in one process)', () => {
  it("reads a run's command line into run()'s options", () => {
    expect(runOptions(['--faults', 'alg-none-accepted', '--checks', 'forgery/alg-none', '--seed', '7', '--runs', '40', '--topology', 'small', '--out', '/tmp/x', '--target', 'p.yaml', '--fail-on', 'high', '--concurrency', '2', '--suites', 'access']))
      .toEqual({ faults: 'alg-none-accepted', checks: 'forgery/alg-none', seed: '7', runs: '40', topology: 'small', out: '/tmp/x', target: 'p.yaml', failOn: 'high', concurrency: '2', suites: 'access' })
  })

  it('refuses what run does not take, and an option without its value', () => {
    expect(() => runOptions(['--dry-run'])).toThrow(/cannot read --dry-run/)
    expect(() => runOptions(['--seed'])).toThrow(/cannot read --seed/)
  })

  it('prints the command line that reproduces a run, naming its environment but never the values', () => {
    const line = commandLine({ args: ['--faults', 'x', '--out', "/tmp/it's here"], env: { BOOTSTRAP_PRINCIPAL_PASSWORD: 'hunter2-secret' } })
    expect(line).toBe(`BOOTSTRAP_PRINCIPAL_PASSWORD=… node bin/tenant-audit.js run --faults x --out '/tmp/it'\\''s here'`)
    expect(line).not.toContain('hunter2')
  })
})
