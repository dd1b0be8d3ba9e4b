import type { FaultSpec } from './catalog.js'

/** Forgery faults: the verifier accepts a token it must refuse (issue 4). */
export const FORGERY_FAULTS = [
] as const satisfies readonly FaultSpec[]
