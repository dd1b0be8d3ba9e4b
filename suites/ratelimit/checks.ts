import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'

/** The ratelimit suite's checks, in run and report order (`suites/ratelimit/ratelimit.suite.ts` runs them). */
export const RATELIMIT_CHECKS: CheckDefinition<CheckContext>[] = []
