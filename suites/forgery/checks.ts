import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'

/** The forgery suite's checks, in run and report order (`suites/forgery/forgery.suite.ts` runs them). */
export const FORGERY_CHECKS: CheckDefinition<CheckContext>[] = []
