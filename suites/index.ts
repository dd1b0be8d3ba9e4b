import type { CheckDefinition } from '../harness/core/check.js'
import { createRegistry } from '../harness/core/registry.js'
import type { CheckContext } from '../harness/engine/context.js'
import { policyMatrix } from './access/policy-matrix.check.js'
import { crossTenantRead } from './access/cross-tenant-read.check.js'
import { ACCESS_GROUP_A } from './access/group-a.js'
import { ACCESS_GROUP_B } from './access/group-b.js'
import { ACCESS_GROUP_C } from './access/group-c.js'
import { ACCESS_GROUP_D } from './access/group-d.js'
import { AUDIT_CHECKS } from './audit/checks.js'
import { FORGERY_CHECKS } from './forgery/checks.js'
import { RATELIMIT_CHECKS } from './ratelimit/checks.js'

/** Every check, in run and report order. A duplicate id is a registry error at import time. */
export const ACCESS_CHECKS: CheckDefinition<CheckContext>[] = [crossTenantRead, ...ACCESS_GROUP_A, ...ACCESS_GROUP_B, ...ACCESS_GROUP_C, ...ACCESS_GROUP_D, policyMatrix]

export { AUDIT_CHECKS, FORGERY_CHECKS, RATELIMIT_CHECKS }

export const registry = createRegistry<CheckContext>([...ACCESS_CHECKS, ...FORGERY_CHECKS, ...RATELIMIT_CHECKS, ...AUDIT_CHECKS])
