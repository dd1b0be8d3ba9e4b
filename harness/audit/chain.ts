import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'

// canonicalize is CommonJS whose typings claim an ES default export; load it as what it is.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined

/**
 * The audit trail's hash chain, verified from the outside (audit-contract.md; research
 * tenancy-audit-ratelimit.md §2.3 and §2.5.6): per trail (`accountId`, null = the platform trail),
 * sorted by `seq`, seq starts at 1 without gaps, `prevHash(n) = hash(n-1)` (null for seq 1), and
 * `hash(n) = sha256hex(RFC 8785 canonical JSON of the event without "hash")`. Works on any export
 * as served: nothing here knows the reference server.
 */

/** The fields the chain reads; everything else is opaque content covered by the hash. */
export interface ChainEvent {
  id?: unknown
  accountId?: unknown
  seq?: unknown
  prevHash?: unknown
  hash?: unknown
  [field: string]: unknown
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
  /**
   * The export holds whole trails (no filter): every trail must start at seq 1 and have no gap.
   * For a filtered export (`since`, `action`, …) only consecutive rows are linked and every row's
   * own hash is checked. Default true.
   */
  complete?: boolean
}

const HEX64 = /^[0-9a-f]{64}$/

/** SHA-256 (hex) of the RFC 8785 canonical JSON of an event without its `hash` field. */
export function eventHash(event: Record<string, unknown>): string {
  const { hash: _ignored, ...content } = event
  const text = canonicalize(content)
  if (text === undefined) throw new TypeError('event cannot be canonicalized')
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

function trailOf(e: ChainEvent): string | null | undefined {
  if (e.accountId === null) return null
  return typeof e.accountId === 'string' ? e.accountId : undefined
}

const idOf = (e: ChainEvent) => (typeof e.id === 'string' ? e.id : undefined)

/** Verifies every trail in an export; problems name the trail, the row (seq) and the event id. */
export function verifyChain(events: readonly ChainEvent[], options: VerifyOptions = {}): ChainReport {
  const complete = options.complete ?? true
  const problems: ChainProblem[] = []
  const trails = new Map<string | null, ChainEvent[]>()
  for (const e of events) {
    const trail = trailOf(e)
    if (trail === undefined || typeof e.seq !== 'number' || !Number.isInteger(e.seq) || e.seq < 1 ||
      typeof e.hash !== 'string' || !HEX64.test(e.hash) || !(e.prevHash === null || (typeof e.prevHash === 'string' && HEX64.test(e.prevHash)))) {
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
      const at = { trail, seq, eventId: idOf(e) }
      if (!prev && complete && seq !== 1) {
        problems.push({ ...at, kind: 'start', message: `starts at seq ${seq}, not 1: its first events are missing` })
      }
      if (seq === 1 && e.prevHash !== null) {
        problems.push({ ...at, kind: 'prev-hash', message: `seq 1 has prevHash ${String(e.prevHash)} (must be null)` })
      }
      if (seq > 1 && e.prevHash === null) {
        problems.push({ ...at, kind: 'prev-hash', message: `seq ${seq} has prevHash null (only seq 1 may)` })
      }
      if (prev) {
        const before = prev.seq as number
        if (seq === before) {
          problems.push({ ...at, kind: 'duplicate', message: `two events with seq ${seq} (${idOf(prev)}, ${idOf(e)}): the chain forked` })
        } else if (seq !== before + 1) {
          if (complete) problems.push({ ...at, kind: 'gap', message: `jumps from seq ${before} to ${seq}: ${seq - before - 1} event(s) missing` })
        } else if (e.prevHash !== prev.hash) {
          problems.push({ ...at, kind: 'prev-hash', message: `seq ${seq}: prevHash does not equal the hash of seq ${before}` })
        }
      }
      let actual: string | undefined
      try {
        actual = eventHash(e)
      } catch {
        actual = undefined
      }
      if (actual !== e.hash) {
        problems.push({ ...at, kind: 'hash', message: `seq ${seq}: the hash does not match the event's content (changed after it was written, or hashed over other content)` })
      }
      prev = e
    }
    if (prev) heads.set(trail, { seq: prev.seq as number, hash: prev.hash as string })
  }
  return { ok: problems.length === 0, trails: trails.size, events: events.length, problems, heads }
}

/** Builds a valid chain from event contents (tests, and fixtures for other verifiers). */
export function sealChain(contents: readonly Record<string, unknown>[], accountId: string | null = null): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  let prevHash: string | null = null
  for (const [i, c] of contents.entries()) {
    const event: Record<string, unknown> = { ...c, accountId, seq: i + 1, prevHash }
    event.hash = eventHash(event)
    prevHash = event.hash as string
    out.push(event)
  }
  return out
}
