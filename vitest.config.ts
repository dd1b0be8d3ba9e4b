import { defineConfig } from 'vitest/config'
import LongestFirst from './test/sequencer.js'

export default defineConfig({
  test: {
    include: ['reference-server/**/*.test.ts', 'harness/**/*.test.ts', 'suites/**/*.test.ts', 'load/**/*.test.ts', 'test/**/*.test.ts', 'fixtures/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No timing assertions anywhere: these machines are shared and noisy (benchmarks live in bench/).
    reporters: process.env.CI === 'true' ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'reports/tests/junit.xml' },
  },
})
