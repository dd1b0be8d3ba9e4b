import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'

/** Access checks of work group b, in run order (merged into suites/index.ts). */
export const ACCESS_GROUP_B: CheckDefinition<CheckContext>[] = []
