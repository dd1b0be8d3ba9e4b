import { defineCheck } from '../../harness/core/check.js'
import { fillPath, type JsonSchema } from '../../harness/core/contract.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { safeCalls } from '../../harness/engine/safe-calls.js'
import { deferCreated } from '../../harness/engine/spares.js'
import { representatives } from '../../harness/engine/targets.js'

/** Sent to every query parameter, whatever its type: empty, very long, and values of other types. */
const ANY = ['', 'x'.repeat(10_000), 'abc', 'true', 'null', '[]', '{}', '-1', '1.5', '9'.repeat(40)]
/** Numbers at and past what 32- and 64-bit integers and doubles hold. */
const NUMBERS = ['0', '-0', '-2147483649', '2147483648', '-9223372036854775809', '9223372036854775808', '1e309', '-1e309', 'NaN', 'Infinity', '0x10', '1e3', ' 1']
/** Dates at the edges of what calendars, RFC 3339 and databases accept (Postgres has no year 0; JS dates end at ±275760). */
const DATES = [
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '0000-01-01T00:00:00+23:59', '9999-12-31T23:59:59-23:59',
  '1969-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z',
  '2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z', '2024-12-31T23:59:60Z', '2024-01-01T00:00:00.1234567891Z', '2024-01-01', '1700000000',
]

/** The boundary values for one documented query parameter, from its schema (type, format, bounds, length, enum). */
export function boundaryValues(schema: JsonSchema): string[] {
  const out = [...ANY]
  const type = schema.type
  const format = typeof schema.format === 'string' ? schema.format : ''
  if (type === 'integer' || type === 'number') {
    out.push(...NUMBERS)
    for (const key of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
      const v = schema[key]
      if (typeof v === 'number') out.push(String(v - 1), String(v), String(v + 1))
    }
  }
  if (format === 'date-time' || format === 'date' || /date|time|since|until|before|after/i.test(String(schema.description ?? ''))) out.push(...DATES)
  if (typeof schema.maxLength === 'number' && schema.maxLength < 100_000) out.push('x'.repeat(schema.maxLength), 'x'.repeat(schema.maxLength + 1))
  if (Array.isArray(schema.enum)) for (const v of schema.enum) if (typeof v === 'string') out.push(v.toUpperCase(), `${v} `)
  return [...new Set(out)]
}

const shown = (v: string) => (v.length > 40 ? `${JSON.stringify(v.slice(0, 20))}… (${v.length} characters)` : JSON.stringify(v))

/** The first actor (one of each kind) the policy lets call `op` in its own tenant. */
function callerOf(op: Op, actors: Actor[]): Actor | undefined {
  return actors.find((a) => a.kind !== 'anonymous' && (op.tenancy.context === 'portal' ? a.kind === 'principal' : a.kind === 'user')
    && expected(op, a, { accountId: a.accountId, workspaceId: a.workspaceId }) === 'allow')
}

/**
 * Boundary values of every documented query parameter (Schemathesis boundary testing, authz-tools.md
 * §4 S3; issue 13 defect 11): every annotated operation with query parameters, called by an actor the
 * policy allows in its own tenant, with one parameter at a time set to a value at the edge of what
 * it documents — empty, 10 000 characters, another type, integers past 32/64 bits, `1e309`, and for
 * dates year 0000, 9999, 10000, ±275760, 30 February, 24:00 and a leap second. Each must be answered
 * with a 2xx or a 4xx: a 5xx means the value passed validation and broke something behind it (a
 * database cast, an overflow). Only operations whose plain call succeeds are probed, so a refusal
 * is the parameter's doing.
 */
export const queryBoundaries = defineCheck<CheckContext>({
  id: 'access/query-boundaries',
  suite: 'access',
  title: 'A boundary value of a documented query parameter is answered with a server error',
  severity: 'medium', cwe: 20, owasp: 'API8:2023',
  docs: 'authz-tools.md §4 S3 (not_a_server_error, boundary values); issue 13 defect 11; fault audit-since-unbounded',
  async run(ctx) {
    const actors = representatives(ctx.topology)
    const bases = safeCalls(ctx)
    const ops = ctx.contract.annotated.flatMap((op) => {
      const actor = op.queryParams.length === 0 || ['auth', 'public'].includes(op.tenancy.context) ? undefined : callerOf(op, actors)
      return actor ? [{ op, actor }] : []
    })
    // Operations concurrently, and each one's values too: a query value changes nothing another one meets.
    const perOp = await ctx.concurrently(ops, async ({ op, actor }): Promise<FindingInput[] | undefined> => {
      const base = await bases(op, actor)
      const path = fillPath(op.path, base.params)
      const send = async (query: Record<string, string>) => {
        const res = await ctx.as(actor).send({ method: op.method.toUpperCase(), path, query, body: base.body })
        deferCreated(ctx, op, res)
        return res
      }
      // Not reachable as planned (refused, or the throwaway is gone): nothing the parameter can be blamed for.
      const plain = await send({})
      if (plain.status < 200 || plain.status > 299) return undefined
      const tries = op.queryParams.flatMap((name) => boundaryValues(op.querySchemas?.[name] ?? {}).map((value) => ({ name, value })))
      const answers = await ctx.concurrently(tries, ({ name, value }) => send({ [name]: value }))
      return op.queryParams.flatMap((name): FindingInput[] => {
        const failed = tries.flatMap((x, i) => (x.name === name && answers[i]!.status >= 500 ? [{ value: x.value, status: answers[i]!.status, evidence: answers[i]!.evidence }] : []))
        if (!failed.length) return []
        return [{
          message: `${actor.label} ${op.method.toUpperCase()} ${op.path} with ${name} = ${failed.slice(0, 5).map((f) => `${shown(f.value)} → ${f.status}`).join(', ')}${failed.length > 5 ? ` (and ${failed.length - 5} more)` : ''}: a server error; a value outside what the parameter accepts must be refused with a 4xx`,
          dedupKey: `${op.id}|${name}`,
          actor: actor.label, evidence: failed[0]!.evidence,
          operation: { method: op.method.toUpperCase(), pathTemplate: op.path, operationId: op.id },
        }]
      })
    })
    const findings = perOp.flatMap((f) => f ?? [])
    const probed = perOp.filter((f) => f !== undefined).length
    if (probed === 0) return { findings, skipped: 'no operation with documented query parameters could be called as planned' }
    return { findings }
  },
})
