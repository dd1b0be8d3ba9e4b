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

/**
 * One real audit event mapped: the bootstrap principal logs in and reads a page of the Portal's
 * audit read, and the event is shown with each field the profile's `audit.events` maps (secrets
 * redacted), whether the mapping fits and whether the chain verifies.
 */
async function oneEventMapped(t: InspectedTarget): Promise<string[]> {
  const { auditOps } = await import('../audit/trail.js')
  const { EventMapping } = await import('../audit/mapping.js')
  const { describeEvents } = await import('../audit/describe.js')
  const { bootstrapCredentials, login } = await import('../provision/session.js')
  const { profile } = t.loaded
  const op = auditOps(t.contract).portal
  if (!op || op.pathParams.length > 0) return ['audit events: the contract has no Portal audit read without path parameters; run an audit to see events mapped']
  let creds: { username: string; password: string }
  try {
    creds = bootstrapCredentials(profile)
  } catch (err) {
    return [`audit events: not read (${(err as Error).message})`]
  }
  const token = await login(t.http, profile, undefined, creds.username, creds.password)
  const res = await t.http.send({ method: 'GET', path: op.path, token, query: { limit: '20' } })
  const items = (res.json as { items?: unknown } | undefined)?.items
  const source = `GET ${op.path} as the bootstrap principal`
  if (res.status !== 200 || !Array.isArray(items)) return [`audit events: ${source} answered ${res.status}, not a page of events ({items: [...]})`]
  return describeEvents(EventMapping.of(profile), items, source)
}

INSPECT_HOOKS.push(oneEventMapped)
