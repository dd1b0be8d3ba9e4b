import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { privilegeEscalation } from './privilege-escalation.check.js'
import { suspendedAccount } from './suspended-account.check.js'
import { staleMembership } from './stale-membership.check.js'
import { statefulModel } from './stateful-model.check.js'
import { loginTiming } from './login-timing.check.js'

/** Access checks of work group c, in run order (merged into suites/index.ts). */
export const ACCESS_GROUP_C: CheckDefinition<CheckContext>[] = [privilegeEscalation, staleMembership, statefulModel, suspendedAccount, loginTiming]
