import type { FaultSpec } from './catalog.js'

/** Audit-trail faults: events missing, leaking, forgeable or mutable (issue 6). */
export const AUDIT_FAULTS = [
] as const satisfies readonly FaultSpec[]
