import type { CheckDefinition } from '../harness/core/check.js'
import { createRegistry } from '../harness/core/registry.js'
import type { CheckContext } from '../harness/engine/context.js'
import { policyMatrix } from './access/policy-matrix.check.js'
import { crossTenantRead } from './access/cross-tenant-read.check.js'

/** Every check, in run and report order. A duplicate id is a registry error at import time. */
export const ACCESS_CHECKS: CheckDefinition<CheckContext>[] = [crossTenantRead, policyMatrix]

export const registry = createRegistry<CheckContext>([...ACCESS_CHECKS])
