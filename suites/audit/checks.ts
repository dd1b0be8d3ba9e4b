import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'

/** The audit suite's checks, in run and report order (`suites/audit/audit.suite.ts` runs them). */
export const AUDIT_CHECKS: CheckDefinition<CheckContext>[] = []
