import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { annotations } from './annotations.check.js'
import { existenceOracle } from './existence-oracle.check.js'
import { noServerErrors } from './no-server-errors.check.js'
import { contextConfinement } from './context-confinement.check.js'
import { listLeak } from './list-leak.check.js'
import { privateNotes } from './private-notes.check.js'

/** Access checks of work group b, in run order (merged into suites/index.ts). */
export const ACCESS_GROUP_B: CheckDefinition<CheckContext>[] = [annotations, contextConfinement, listLeak, privateNotes, existenceOracle, noServerErrors]
