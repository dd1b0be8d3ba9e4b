import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { demotionRace } from './demotion-race.check.js'
import { existenceByUniqueness } from './existence-by-uniqueness.check.js'
import { queryBoundaries } from './query-boundaries.check.js'

/** Access checks of issue 13 (an outside review's defects), in run order (merged into suites/index.ts). */
export const ACCESS_GROUP_D: CheckDefinition<CheckContext>[] = [queryBoundaries, existenceByUniqueness, demotionRace]
