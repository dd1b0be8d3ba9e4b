import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'

// canonicalize is CommonJS whose typings claim an ES default export; load it as what it is.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined

/**
 * The audit trail's hash chain, verified from the outside (audit-contract.md; research
 * tenancy-audit-ratelimit.md §2.3 and §2.5.6): per trail (`accountId`, null = the platform trail),
 * sorted by `seq`, seq starts at 1 without gaps, `prevHash(n) = hash(n-1)` (null for seq 1), and
 * `hash(n)` = the profile's recipe over the event as served (`raw`) without its hash field:
 * `rfc8785` = SHA-256 of its RFC 8785 canonical JSON (the reference's), `prev-plus-canonical` =
 * SHA-256 of the previous hash (empty for seq 1) followed by that canonical JSON. Works on any
 * export as served: nothing here knows the reference server.
 */

export type ChainRecipe = 'rfc8785' | 'prev-plus-canonical'
export type HashEncoding = 'hex' | 'base64' | 'base64url'

/** How a deployment hashes its chain (the profile's `audit.events.chain`). */
export interface ChainSpec {
  recipe: ChainRecipe
  /** JSON Pointer of the field holding the hash; removed before hashing. */
  hashField: string
  encoding: HashEncoding
}

/** The reference server's recipe, and the default. */
export const REFERENCE_CHAIN: ChainSpec = { recipe: 'rfc8785', hashField: '/hash', encoding: 'hex' }
export const RECIPES: readonly ChainRecipe[] = ['rfc8785', 'prev-plus-canonical']
export const ENCODINGS: readonly HashEncoding[] = ['hex', 'base64', 'base64url']

/**
 * The fields the chain reads, already taken out of the event (see mapping.ts), and the event as
 * served (`raw`; the object itself when absent) whose content the hash covers.
 */
export interface ChainEvent {
  id?: unknown
  accountId?: unknown
  seq?: unknown
  prevHash?: unknown
  hash?: unknown
  raw?: unknown
}

export type ChainProblemKind =
  | 'malformed' // seq / hash / prevHash missing or of the wrong type
  | 'start' // a complete trail that does not start at seq 1 with prevHash null
  | 'gap' // seq n followed by seq n+k, k > 1: events missing (deleted?)
  | 'duplicate' // two events with one seq: a forked chain
  | 'prev-hash' // prevHash(n) != hash(n-1): an event replaced or the chain re-linked
  | 'hash' // hash(n) != the hash of its content: the event was changed after it was written

export interface ChainProblem {
  kind: ChainProblemKind
  /** The trail: an account id, or null for the platform trail. */
  trail: string | null
  /** The row the chain breaks at. (`message` names the row, not the trail: callers label trails their way.) */
  seq?: number | undefined
  eventId?: string | undefined
  message: string
}

export interface ChainReport {
  ok: boolean
  trails: number
  events: number
  problems: ChainProblem[]
  /** The last row of each trail (seq and hash), e.g. to compare two exports. */
  heads: Map<string | null, { seq: number; hash: string }>
}

export interface VerifyOptions {
  /** How the chain is hashed (default: the reference's). */
  spec?: ChainSpec
  /**
   * The export holds whole trails (no filter): every trail must start at seq 1 and have no gap.
   * For a filtered export (`since`, `action`, …) only consecutive rows are linked and every row's
   * own hash is checked. Default true.
   */
  complete?: boolean
}

const SHAPE: Record<HashEncoding, RegExp> = {
  hex: /^[0-9a-fA-F]{64}$/,
  base64: /^[A-Za-z0-9+/]{43}=$/,
  base64url: /^[A-Za-z0-9_-]{43}=?$/,
}

/** True when `value` has the form of a SHA-256 digest in `encoding`. */
export function isDigest(value: unknown, encoding: HashEncoding): value is string {
  return typeof value === 'string' && SHAPE[encoding].test(value)
}

/** The event without the field at `pointer` (a copy; the input is left alone). */
function without(event: unknown, pointer: string): unknown {
  if (typeof event !== 'object' || event === null) return event
  const segments = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  const copy = structuredClone(event) as Record<string, unknown>
  let at: Record<string, unknown> | undefined = copy
  for (const [i, key] of segments.entries()) {
    if (!at || typeof at !== 'object') break
    if (i === segments.length - 1) delete at[key]
    else at = at[key] as Record<string, unknown> | undefined
  }
  return copy
}

/**
 * The hash of one event as `spec` computes it. `prevHash` is the previous event's hash as served
 * (prev-plus-canonical only; null or absent for the first event of a trail).
 */
export function eventHash(event: unknown, spec: ChainSpec = REFERENCE_CHAIN, prevHash?: unknown): string {
  const text = canonicalize(without(event, spec.hashField))
  if (text === undefined) throw new TypeError('event cannot be canonicalized')
  const h = createHash('sha256')
  if (spec.recipe === 'prev-plus-canonical') h.update(typeof prevHash === 'string' ? prevHash : '', 'utf8')
  return h.update(text, 'utf8').digest(spec.encoding)
}

/** Whether `hash` is the event's hash under `spec` (hex compared case-insensitively). */
export function hashMatches(event: unknown, hash: unknown, spec: ChainSpec, prevHash?: unknown): boolean {
  if (!isDigest(hash, spec.encoding)) return false
  let actual: string
  try {
    actual = eventHash(event, spec, prevHash)
  } catch {
    return false
  }
  return spec.encoding === 'hex' ? actual === hash.toLowerCase() : actual.replace(/=+$/, '') === hash.replace(/=+$/, '')
}

/** Every known recipe and encoding under which the event's hash verifies (the profile's field for the hash aside). */
export function recipesThatVerify(event: unknown, hash: unknown, prevHash: unknown, hashField: string): ChainSpec[] {
  const out: ChainSpec[] = []
  for (const recipe of RECIPES) {
    for (const encoding of ENCODINGS) {
      const spec = { recipe, encoding, hashField }
      if (hashMatches(event, hash, spec, prevHash)) out.push(spec)
    }
  }
  return out
}

/** "No previous event": null, absent, empty, or a digest of zeros (a common genesis value). */
function isGenesis(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (typeof v === 'string' && /^0+$/.test(v))
}

/** The trail: an account id, or null (absent) for the platform trail. */
function trailOf(e: ChainEvent): string | null | undefined {
  if (e.accountId === null || e.accountId === undefined) return null
  return typeof e.accountId === 'string' ? e.accountId : undefined
}

const idOf = (e: ChainEvent) => (typeof e.id === 'string' ? e.id : undefined)

/** Verifies every trail in an export; problems name the trail, the row (seq) and the event id. */
export function verifyChain(events: readonly ChainEvent[], options: VerifyOptions = {}): ChainReport {
  const complete = options.complete ?? true
  const spec = options.spec ?? REFERENCE_CHAIN
  const digest = (v: unknown) => isDigest(v, spec.encoding)
  const problems: ChainProblem[] = []
  const trails = new Map<string | null, ChainEvent[]>()
  for (const e of events) {
    const trail = trailOf(e)
    if (trail === undefined || typeof e.seq !== 'number' || !Number.isInteger(e.seq) || e.seq < 1 ||
      !digest(e.hash) || !(isGenesis(e.prevHash) || digest(e.prevHash))) {
      problems.push({
        kind: 'malformed', trail: trail ?? null, seq: typeof e.seq === 'number' ? e.seq : undefined, eventId: idOf(e),
        message: `event ${idOf(e) ?? '(no id)'} lacks a valid accountId, seq, hash or prevHash`,
      })
      continue
    }
    const list = trails.get(trail) ?? []
    list.push(e)
    trails.set(trail, list)
  }
  const heads: ChainReport['heads'] = new Map()
  for (const [trail, list] of trails) {
    list.sort((a, b) => (a.seq as number) - (b.seq as number))
    let prev: ChainEvent | undefined
    for (const e of list) {
      const seq = e.seq as number
      // The same event read twice (offset pagination while the trail grows shifts a page by the events
      // appended meanwhile) is one event, not a fork: same seq, same id, same hash.
      if (prev && prev.seq === seq && idOf(prev) !== undefined && idOf(prev) === idOf(e) && prev.hash === e.hash) continue
      const at = { trail, seq, eventId: idOf(e) }
      if (!prev && complete && seq !== 1) {
        problems.push({ ...at, kind: 'start', message: `starts at seq ${seq}, not 1: its first events are missing` })
      }
      const prevHash = isGenesis(e.prevHash) ? null : e.prevHash
      if (seq === 1 && prevHash !== null) {
        problems.push({ ...at, kind: 'prev-hash', message: `seq 1 has prevHash ${String(e.prevHash)} (must be null)` })
      }
      if (seq > 1 && prevHash === null) {
        problems.push({ ...at, kind: 'prev-hash', message: `seq ${seq} has prevHash null (only seq 1 may)` })
      }
      if (prev) {
        const before = prev.seq as number
        if (seq === before) {
          problems.push({ ...at, kind: 'duplicate', message: `two events with seq ${seq} (${idOf(prev)}, ${idOf(e)}): the chain forked` })
        } else if (seq !== before + 1) {
          if (complete) problems.push({ ...at, kind: 'gap', message: `jumps from seq ${before} to ${seq}: ${seq - before - 1} event(s) missing` })
        } else if (prevHash !== prev.hash) {
          problems.push({ ...at, kind: 'prev-hash', message: `seq ${seq}: prevHash does not equal the hash of seq ${before}` })
        }
      }
      if (!hashMatches('raw' in e ? e.raw : e, e.hash, spec, e.prevHash)) {
        problems.push({ ...at, kind: 'hash', message: `seq ${seq}: the hash does not match the event's content (changed after it was written, or hashed over other content)` })
      }
      prev = e
    }
    if (prev) heads.set(trail, { seq: prev.seq as number, hash: prev.hash as string })
  }
  return { ok: problems.length === 0, trails: trails.size, events: events.length, problems, heads }
}

/** Builds a valid chain from event contents (tests, and fixtures for other verifiers), reference-shaped: `accountId`, `seq`, `prevHash`, `hash`. */
export function sealChain(contents: readonly Record<string, unknown>[], accountId: string | null = null, spec: ChainSpec = REFERENCE_CHAIN): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  let prevHash: string | null = null
  for (const [i, c] of contents.entries()) {
    const event: Record<string, unknown> = { ...c, accountId, seq: i + 1, prevHash }
    event.hash = eventHash(event, spec, prevHash)
    prevHash = event.hash as string
    out.push(event)
  }
  return out
}
