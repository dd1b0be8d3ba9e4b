import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { crossTenantWrite } from './cross-tenant-write.check.js'
import { childUnderForeignParent } from './child-under-foreign-parent.check.js'
import { idMutations } from './id-mutations.check.js'
import { parameterPollution } from './parameter-pollution.check.js'
import { massAssignment } from './mass-assignment.check.js'

/** Access checks of work group a, in run order (merged into suites/index.ts). */
export const ACCESS_GROUP_A: CheckDefinition<CheckContext>[] = [crossTenantWrite, childUnderForeignParent, idMutations, parameterPollution, massAssignment]
