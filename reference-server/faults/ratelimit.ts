import type { FaultSpec } from './catalog.js'

/** Rate-limit faults: quotas keyed or shared wrongly (issue 5). */
export const RATELIMIT_FAULTS = [
] as const satisfies readonly FaultSpec[]
