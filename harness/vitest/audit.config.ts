import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import AuditReporter from './reporter.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The Vitest config of an audit. `tenant-audit run` uses it through Vitest's Node API; it also
 * works directly: `TENANT_AUDIT_TARGET=staging.yaml npx vitest run --config harness/vitest/audit.config.ts --shard 1/2`.
 * One worker, files and checks in order: the same seed gives the same requests and findings.
 */
export default defineConfig({
  root,
  test: {
    include: ['suites/**/*.suite.ts'],
    globalSetup: ['harness/vitest/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    sequence: { shuffle: false, concurrent: false },
    testTimeout: 30 * 60_000,
    hookTimeout: 10 * 60_000,
    reporters: [new AuditReporter(), ...(process.env.TENANT_AUDIT_CLI === '1' ? [] : ['default' as const])],
  },
})
