import { FAULTS } from '../../reference-server/faults/index.js'

/** `tenant-audit faults [--json]`: the seeded-fault catalog. */
export function listFaults(opts: { json?: boolean }): number {
  if (opts.json) {
    process.stdout.write(JSON.stringify(FAULTS.map(({ name, suite, description, detectedBy }) => ({ name, suite, description, detectedBy })), null, 2) + '\n')
    return 0
  }
  const width = Math.max(...FAULTS.map((f) => f.name.length))
  for (const f of FAULTS) process.stdout.write(`${f.name.padEnd(width)}  ${f.suite.padEnd(9)}  ${f.description}\n`)
  return 0
}
