import { compileFieldPath, type FieldPath } from '../core/field-path.js'
import type { TargetProfile } from '../core/profile.js'
import { profileSchema } from '../core/profile.js'
import type { ChainSpec } from './chain.js'

/**
 * The one place audit events are read: the profile's `audit.events` mapping turns an event in the
 * deployment's own shape into the view every audit check reads. No check reads an event's fields
 * by name; `raw` (the event as served) is only hashed, searched for secrets or shown.
 */

export type ActorKind = 'user' | 'principal' | 'anonymous'
export type Outcome = 'success' | 'failure'

/** An event as the checks see it. A field the mapping leaves out (`null` in the profile) is undefined. */
export interface MappedEvent {
  id?: string | undefined
  requestId?: string | undefined
  /** Milliseconds since the epoch (from RFC 3339 text or epoch seconds / ms). */
  time?: number | undefined
  /** The time as served, for messages. */
  timeText?: string | undefined
  /** The trail: the account id, or null for the platform trail (absent reads as null). */
  accountId: string | null
  workspaceId?: string | null | undefined
  actor: { kind?: ActorKind | undefined; id?: string | undefined; accountId?: string | null | undefined }
  action?: string | undefined
  outcome?: Outcome | undefined
  status?: number | undefined
  method?: string | undefined
  route?: string | undefined
  targetType?: string | undefined
  targetId?: string | null | undefined
  targetAccountId?: string | null | undefined
  targetWorkspaceId?: string | null | undefined
  userAgent?: string | undefined
  seq?: number | undefined
  prevHash?: string | null | undefined
  hash?: string | undefined
  count?: number | undefined
  /** The event as the deployment served it. */
  raw: unknown
}

export type FieldName = keyof TargetProfile['audit']['events']['fields']
/** Fields every deployment's events must carry for the audit checks to read them at all. */
export const REQUIRED_FIELDS: readonly FieldName[] = ['requestId', 'time', 'action', 'outcome', 'actorKind']
export const CHAIN_FIELDS: readonly FieldName[] = ['seq', 'hash']

const REFERENCE = profileSchema.shape.audit.parse({}).events

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined)
const strOrNull = (v: unknown): string | null | undefined => (v === null ? null : str(v))
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v)
  return undefined
}
const timeOf = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v
  if (typeof v !== 'string') return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

/** A profile's `audit.events`, compiled: one per profile object. */
export class EventMapping {
  private static readonly byProfile = new WeakMap<object, EventMapping>()
  readonly paths: Partial<Record<FieldName, FieldPath>> = {}
  readonly chain: ChainSpec | undefined
  /** The profile keeps the reference server's shape: its OCSF extras are checked too. */
  readonly referenceShape: boolean
  /** What a hash that verifies under no known recipe means (see the profile's `chain.unverifiable`). */
  readonly unverifiable: 'skip' | 'finding'
  private readonly kinds: Map<string, ActorKind>
  private readonly outcomes: Map<string, Outcome>

  constructor(readonly config: TargetProfile['audit']['events']) {
    for (const [name, expr] of Object.entries(config.fields) as [FieldName, string | null][]) {
      if (expr !== null) this.paths[name] = compileFieldPath(expr)
    }
    const { recipe, hashField, encoding } = config.chain
    this.chain = recipe === 'none' ? undefined : { recipe, hashField, encoding }
    this.referenceShape = JSON.stringify({ ...config, chain: { ...config.chain, unverifiable: undefined } }) ===
      JSON.stringify({ ...REFERENCE, chain: { ...REFERENCE.chain, unverifiable: undefined } })
    this.unverifiable = config.chain.unverifiable ?? (this.referenceShape ? 'finding' : 'skip')
    this.kinds = spelled(config.actorKinds)
    this.outcomes = spelled(config.outcomes)
  }

  /** The mapping of a profile (compiled once per profile). */
  static of(profile: TargetProfile): EventMapping {
    let m = EventMapping.byProfile.get(profile)
    if (!m) EventMapping.byProfile.set(profile, (m = new EventMapping(profile.audit.events)))
    return m
  }

  /** The reference server's shape (the defaults). */
  static reference(): EventMapping {
    return new EventMapping(REFERENCE)
  }

  /** Whether the deployment's events carry this field (its expression is not null). */
  carries(field: FieldName): boolean {
    return this.paths[field] !== undefined
  }

  /** The expression of a field, for messages: `` `/requestId` ``. */
  where(field: FieldName): string {
    return `\`${this.paths[field]?.expression ?? field}\``
  }

  /** The value at a field's place, as served (undefined when absent or not mapped). */
  read(raw: unknown, field: FieldName): unknown {
    return this.paths[field]?.get(raw)
  }

  actorKind(value: unknown): ActorKind | undefined {
    return value === undefined || value === null ? undefined : this.kinds.get(String(value))
  }

  outcome(value: unknown): Outcome | undefined {
    return value === undefined || value === null ? undefined : this.outcomes.get(String(value))
  }

  /** The checks' view of one event. */
  map(raw: unknown): MappedEvent {
    const r = (f: FieldName) => this.read(raw, f)
    const time = r('time')
    return {
      id: str(r('id')),
      requestId: str(r('requestId')),
      time: timeOf(time),
      timeText: time === undefined ? undefined : String(time),
      accountId: str(r('accountId')) ?? null,
      workspaceId: strOrNull(r('workspaceId')),
      actor: { kind: this.actorKind(r('actorKind')), id: str(r('actorId')), accountId: strOrNull(r('actorAccountId')) },
      action: str(r('action')),
      outcome: this.outcome(r('outcome')),
      status: num(r('status')),
      method: str(r('method'))?.toUpperCase(),
      route: str(r('route')),
      targetType: str(r('targetType')),
      targetId: strOrNull(r('targetId')),
      targetAccountId: strOrNull(r('targetAccountId')),
      targetWorkspaceId: strOrNull(r('targetWorkspaceId')),
      userAgent: str(r('userAgent')),
      seq: num(r('seq')),
      prevHash: strOrNull(r('prevHash')),
      hash: str(r('hash')),
      count: num(r('count')),
      raw,
    }
  }
}

function spelled<K extends string>(table: Record<K, readonly (string | number | boolean)[]>): Map<string, K> {
  const out = new Map<string, K>()
  for (const [kind, words] of Object.entries(table) as [K, (string | number | boolean)[]][]) {
    for (const w of words) out.set(String(w), kind)
  }
  return out
}
