import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'
import AuditReporter from './reporter.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The Vitest config of an audit. `tenant-audit run` uses it through Vitest's Node API; it also
 * works directly: `TENANT_AUDIT_TARGET=staging.yaml npx vitest run --config harness/vitest/audit.config.ts --shard 1/2`.
 * One worker, files in order. Within a file, checks run concurrently (at most the run's concurrency
 * at once: `run --concurrency`, else the profile's `budget.concurrency`, else 8), except `exclusive`
 * ones, which run alone after them (check-test.ts `checkTests`); each check draws from its own seed
 * and books its probes in walk order, so the same seed gives the same requests and findings whatever
 * the interleaving.
 */
const concurrency = Number(process.env.TENANT_AUDIT_CONCURRENCY) || 8

/** Suite files always in report order (access, forgery, ratelimit, audit), never by cached durations: what runs before a check is part of its input. */
const ORDER = ['access', 'forgery', 'ratelimit', 'audit']
class SuiteOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = ORDER.findIndex((s) => f.moduleId.replace(/\\/g, '/').includes(`/suites/${s}/`))
      return i < 0 ? ORDER.length : i
    }
    return [...files].sort((a, b) => rank(a) - rank(b) || (a.moduleId < b.moduleId ? -1 : a.moduleId > b.moduleId ? 1 : 0))
  }
}

export default defineConfig({
  root,
  test: {
    include: ['suites/**/*.suite.ts'],
    globalSetup: ['harness/vitest/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    sequence: { shuffle: false, concurrent: false, sequencer: SuiteOrder },
    maxConcurrency: concurrency,
    testTimeout: 30 * 60_000,
    // Transformed modules kept on disk (node_modules/.experimental-vitest-cache, keyed by each file's content):
    // every audit starts its own Vitest, and without it each one transforms the harness and the suites again
    // (~1 s of its start, paid by every fault self-audit in npm test).
    experimental: { fsModuleCache: true },
    hookTimeout: 10 * 60_000,
    reporters: [new AuditReporter(), ...(process.env.TENANT_AUDIT_CLI === '1' ? [] : ['default' as const])],
  },
})
