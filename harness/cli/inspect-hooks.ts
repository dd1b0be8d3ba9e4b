import type { HttpAdapter } from '../adapters/http.js'
import type { TargetContract } from '../core/contract.js'
import type { LoadedProfile } from '../core/profile.js'

/** The target as `inspect` and `run --dry-run` loaded it: profile, contract (vocabulary applied), an adapter. */
export interface InspectedTarget {
  loaded: LoadedProfile
  baseUrl: string
  http: HttpAdapter
  document: unknown
  contract: TargetContract
}

/** Extra lines for `inspect` / `--dry-run`, from the loaded target (e.g. one real audit event mapped). */
export type InspectHook = (target: InspectedTarget) => Promise<string[]>

/**
 * The hooks `inspect` runs after the vocabulary and before the checks. Add one here; a hook that
 * throws prints its message as one line and never stops the inspection.
 */
export const INSPECT_HOOKS: InspectHook[] = []
