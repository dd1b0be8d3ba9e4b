import { redactBody, redactText } from '../core/redact.js'
import type { CheckContext } from '../engine/context.js'
import { verifyChain } from './chain.js'
import { decideFit } from './fit.js'
import { REQUIRED_FIELDS, type EventMapping, type FieldName, type MappedEvent } from './mapping.js'
import { AuditTrail, NO_AUDIT_API } from './trail.js'

/**
 * What `tenant-audit inspect` shows about audit events before a real run: one real event as the
 * deployment serves it, each field the profile maps and what it reads there, whether the mapping
 * fits the events read and whether their chain verifies. Secrets are redacted (redact.ts).
 */

const MAX_EVENT_LINES = 60

/** The mapped view's value of a field, for display. */
function shown(m: MappedEvent, field: FieldName): unknown {
  switch (field) {
    case 'actorKind': return m.actor.kind
    case 'actorId': return m.actor.id
    case 'actorAccountId': return m.actor.accountId
    case 'time': return m.time === undefined ? undefined : new Date(m.time).toISOString()
    default: return m[field]
  }
}

/** The lines for a sample of events as served, read from `source` (e.g. `GET /portal/v1/audit-events as p.platform_admin`). */
export function describeEvents(mapping: EventMapping, events: readonly unknown[], source: string): string[] {
  const out = [`audit events: ${events.length} read through ${source}`]
  if (events.length === 0) return [...out, 'no event to map yet: run an audit (or any request the deployment records) and inspect again']
  const mapped = events.map((e) => mapping.map(e))
  // The event shown: the first that carries every required field, else the first.
  const i = Math.max(0, events.findIndex((e) => REQUIRED_FIELDS.every((f) => mapping.read(e, f) !== undefined && mapping.read(e, f) !== null)))
  const json = redactBody(JSON.stringify(events[i], null, 2)).split('\n')
  out.push('one event as served (secrets redacted):')
  out.push(...json.slice(0, MAX_EVENT_LINES).map((l) => `  ${l}`))
  if (json.length > MAX_EVENT_LINES) out.push(`  … (${json.length - MAX_EVENT_LINES} more lines)`)
  out.push("its fields through the profile's audit.events mapping:")
  const width = Math.max(...Object.keys(mapping.config.fields).map((f) => f.length))
  for (const [field, expr] of Object.entries(mapping.config.fields) as [FieldName, string | null][]) {
    const name = field.padEnd(width)
    if (expr === null) {
      out.push(`  ${name}  (not carried by this deployment's events)`)
      continue
    }
    const served = mapping.read(events[i], field)
    const value = shown(mapped[i]!, field)
    const spelled = (field === 'actorKind' || field === 'outcome') && served !== undefined && value === undefined ? ' (not a spelling the profile lists)' : ''
    const text = served === undefined ? 'absent' : JSON.stringify(served)
    out.push(`  ${name}  ${expr}  →  ${redactText(text)}${value !== undefined && JSON.stringify(value) !== text ? ` (${JSON.stringify(value)})` : ''}${spelled}`)
  }
  const fit = decideFit(mapping, events)
  out.push(fit.fits ? `fit: the mapping fits the ${events.length} events read` : `fit: ${fit.reason}`)
  const spec = mapping.chain
  if (!spec) out.push('chain: not verified (audit.events.chain.recipe is none)')
  else {
    const c = fit.chain
    const report = verifyChain(mapped, { complete: false, spec })
    out.push(`chain: ${spec.recipe} (${spec.encoding}): ${c ? `${c.verified} of ${c.checked} hashes verify` : 'not checked'}` +
      (c && c.others.length ? `; they verify under ${c.others.join(', ')}` : '') +
      (report.ok ? '; consecutive events link' : `; ${report.problems.length} problem(s), the first: ${report.problems[0]!.message}`))
  }
  return out
}

/**
 * Reads one page of events from the target — through the Portal's audit read as the principal the
 * topology holds (the bootstrap principal), or the first reader available — and describes it.
 */
export async function describeEventMapping(ctx: CheckContext): Promise<string[]> {
  const trail = AuditTrail.unchecked(ctx)
  if (!trail) return [`audit events: ${NO_AUDIT_API}`]
  const [reader] = trail.readers()
  if (!reader) return ['audit events: nobody in the topology may read a trail (a principal for the Portal read, or an account admin)']
  const res = await trail.page(reader)
  const source = `${reader.op.method.toUpperCase()} ${reader.op.path} as ${reader.actor.label}`
  const items = (res.json as { items?: unknown } | undefined)?.items
  if (res.status !== 200 || !Array.isArray(items)) return [`audit events: ${source} answered ${res.status}, not a page of events ({items: [...]})`]
  return describeEvents(trail.mapping, items, source)
}
