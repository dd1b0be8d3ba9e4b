import { hashMatches, recipesThatVerify, type ChainSpec } from './chain.js'
import { CHAIN_FIELDS, REQUIRED_FIELDS, type EventMapping, type FieldName } from './mapping.js'

/**
 * Whether the profile's `audit.events` mapping fits the deployment's events, judged on the first
 * events read. A mapping that does not fit makes every audit check skip with the reason: a
 * misdescribed event is the profile's fault, never the deployment's, so it is never a finding.
 * A field absent from *some* events is left to the checks (that is what they look for); a field
 * absent from every event read, a spelling the profile does not list in every event, or hashes
 * that another recipe explains better than the profile's (or that none explains, when the profile
 * says an unverifiable chain means an unknown recipe) is a misfit. Hashes the profile's recipe
 * explains only in part are left to the chain checks: that is a broken chain.
 */

export interface ChainFit {
  /** The profile's recipe, e.g. `rfc8785 (hex)`, or `none`. */
  recipe: string
  checked: number
  verified: number
  /** Other recipes under which the hashes verify, when the profile's does not. */
  others: string[]
}

export type Fit =
  | { fits: true; events: number; chain?: ChainFit | undefined }
  | { fits: false; events: number; reason: string; chain?: ChainFit | undefined }

const HINT = 'see tenant-audit inspect'
const label = (s: ChainSpec) => `${s.recipe} (${s.encoding})`

/** The fit decision for a sample of events as served. An empty sample fits (nothing to judge yet). */
export function decideFit(mapping: EventMapping, events: readonly unknown[]): Fit {
  const n = events.length
  if (n === 0) return { fits: true, events: 0 }
  const misfit = (what: string, chain?: ChainFit): Fit =>
    ({ fits: false, events: n, chain, reason: `the profile's audit.events mapping does not fit this deployment's events: ${what}; ${HINT}` })

  const required: FieldName[] = [...REQUIRED_FIELDS, ...(mapping.chain ? CHAIN_FIELDS : [])]
  for (const field of required) {
    const absent = events.filter((e) => {
      const v = mapping.read(e, field)
      return v === undefined || v === null || v === ''
    }).length
    if (absent === n) return misfit(`${mapping.where(field)} is absent in ${absent} of ${n} events read`)
  }
  const spelling = (field: 'actorKind' | 'outcome', known: (v: unknown) => unknown, table: string) => {
    const values = events.map((e) => mapping.read(e, field)).filter((v) => v !== undefined && v !== null)
    if (values.length === 0 || values.some((v) => known(v) !== undefined)) return undefined
    const seen = [...new Set(values.map((v) => JSON.stringify(v)))].slice(0, 4).join(', ')
    return misfit(`${mapping.where(field)} reads ${seen} in ${values.length} of ${n} events read, none a spelling the profile lists (audit.events.${table})`)
  }
  const kinds = spelling('actorKind', (v) => mapping.actorKind(v), 'actorKinds')
  if (kinds) return kinds
  const outcomes = spelling('outcome', (v) => mapping.outcome(v), 'outcomes')
  if (outcomes) return outcomes

  const spec = mapping.chain
  if (!spec) return { fits: true, events: n, chain: { recipe: 'none', checked: 0, verified: 0, others: [] } }
  const hashed = events.map((raw) => ({ raw, hash: mapping.read(raw, 'hash'), prevHash: mapping.read(raw, 'prevHash') }))
    .filter((e) => e.hash !== undefined && e.hash !== null)
  const verified = hashed.filter((e) => hashMatches(e.raw, e.hash, spec, e.prevHash)).length
  const chain: ChainFit = { recipe: label(spec), checked: hashed.length, verified, others: [] }
  if (hashed.length === 0 || verified === hashed.length) return { fits: true, events: n, chain }
  // Another recipe that explains more hashes than the profile's is the deployment's (the first
  // event of a trail, without a previous hash, verifies under both recipes alike).
  const others = new Map<string, number>()
  for (const e of hashed) {
    for (const s of recipesThatVerify(e.raw, e.hash, e.prevHash, spec.hashField)) {
      if (label(s) !== label(spec)) others.set(label(s), (others.get(label(s)) ?? 0) + 1)
    }
  }
  const [best, count] = [...others.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
  chain.others = [...others.entries()].filter(([, c]) => c > verified).map(([l]) => l)
  if (count > verified) {
    return misfit(`${verified} of ${hashed.length} hashes of the events read verify under the profile's chain recipe ${label(spec)}, ${count} under ${best} (audit.events.chain)`, chain)
  }
  if (verified > 0) return { fits: true, events: n, chain }
  if (mapping.unverifiable === 'skip') {
    return misfit(`no hash of ${hashed.length} events read verifies under the profile's chain recipe ${label(spec)} or any other recipe the harness knows (audit.events.chain)`, chain)
  }
  return { fits: true, events: n, chain }
}
