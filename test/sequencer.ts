import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Longest first, so neither worker is left with one long file at the end (on a fresh clone Vitest
 * has no durations cached and orders files by size, which put the ~8-minute blind-target file last).
 * Measured under CI=true on this 2-core machine, longest first; a file not listed keeps Vitest's order after these.
 */
const LONGEST = [
  'test/blind-target.test.ts',
  'test/determinism-concurrent.test.ts',
  'test/self-audit-audit.test.ts',
  'test/self-audit-a.test.ts',
  'test/self-audit-b.test.ts',
  'test/far-deployment.test.ts',
  'test/interrupt.test.ts',
  'test/positive-control.test.ts',
  'test/renamed-vocabulary.test.ts',
  'test/self-audit-ratelimit.test.ts',
  'test/self-audit-forgery.test.ts',
  'test/race.test.ts',
  'test/throttling.test.ts',
  'test/self-audit-clean.test.ts',
  'harness/cli/load.test.ts',
  'test/determinism-replay.test.ts',
  'test/short-tokens.test.ts',
  'suites/ratelimit/known-quota.test.ts',
  'test/refresh-family.test.ts',
  'test/token-expiry.test.ts',
]

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const rank = (f: TestSpecification) => {
      const path = f.moduleId.replace(/\\/g, '/')
      const i = LONGEST.findIndex((l) => path.endsWith(`/${l}`))
      return i < 0 ? LONGEST.length : i
    }
    // Array.prototype.sort is stable: unlisted files keep Vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b))
  }
}
