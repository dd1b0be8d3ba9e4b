import fc from 'fast-check'
import { defineCheck } from '../../harness/core/check.js'
import { expected } from '../../harness/core/oracle.js'
import { fillPath } from '../../harness/core/contract.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { safeCalls, type SafeCall } from '../../harness/engine/safe-calls.js'
import { deferCreated } from '../../harness/engine/spares.js'
import { representatives } from '../../harness/engine/targets.js'
import { BAD_IDS, BAD_QUERY, BAD_VALUES, RAW_BODIES, coverageFor, describeMutation, mutationsFor, valueOf, type Mutation } from '../../fixtures/arbitraries/malformed.js'

// A stack frame or a source path in a body tells an attacker what runs where (EvoMaster 209).
const INTERNALS = [/(?:\n|\\n)\s*at (?:async )?[\w$.<>]+(?: \[as [\w$]+\])? \(/, /\bat (?:async )?(?:file:\/\/)?\/[\w./-]+:\d+/, /[\w-]+\.(?:ts|mts|js|mjs|cjs):\d+/, /\/node_modules\//]
const BODY_METHODS = ['post', 'put', 'patch']

/** Sends `op` as `actor` with one part of its request broken; returns what is wrong with the answer. */
async function attempt(ctx: CheckContext, base: SafeCall, op: Op, actor: Actor, m: Mutation) {
  const params = { ...base.params }
  let body = base.body
  let method: string = op.method
  const query: Record<string, string | string[]> = {}
  const headers: Record<string, string> = {}
  if (m.at === 'path') params[m.param] = String(valueOf(BAD_IDS, m.value))
  if (m.at === 'query') query[m.name] = m.twice ? [String(valueOf(BAD_QUERY, m.value)), '1'] : String(valueOf(BAD_QUERY, m.value))
  if (m.at === 'field' || m.at === 'drop') {
    const copy = { ...(body && typeof body === 'object' ? (body as Record<string, unknown>) : {}) }
    const [key = '', inner] = m.at === 'field' ? m.field : [m.field]
    if (m.at === 'drop') delete copy[key]
    else copy[key] = inner === undefined ? valueOf(BAD_VALUES, m.value) : { ...(copy[key] as object), [inner]: valueOf(BAD_VALUES, m.value) }
    body = copy
  }
  if (m.at === 'raw') {
    const [type, raw] = RAW_BODIES[m.body]!
    body = raw
    if (type) headers['content-type'] = type
  }
  if (m.at === 'method') {
    method = m.method
    body = BODY_METHODS.includes(method) ? {} : undefined
  }
  const res = await ctx.as(actor).send({ method: method.toUpperCase(), path: fillPath(op.path, params), query, headers, body })
  if (m.at !== 'method') deferCreated(ctx, op, res)
  // "No 5xx" shows something only if the broken request reached the handler: a refusal counts only
  // while the same token is served (a target refusing every token never answers 5xx either).
  if (m.at !== 'method' && res.status >= 400 && res.status < 500) ctx.noteRefused(actor, op, { accountId: actor.accountId, workspaceId: actor.workspaceId })
  // What the caller sent may come back in a 400; it is not the server's insides.
  const sent = m.at === 'path' ? params[m.param]! : m.at === 'query' ? String(query[m.name]) : ''
  const text = sent ? res.body.split(sent).join('') : res.body
  const problems: string[] = []
  if (res.status >= 500) problems.push(`server error ${res.status}`)
  if (INTERNALS.some((re) => re.test(text))) problems.push('a stack trace or source path in the body')
  if (m.at === 'method' && res.status < 400) problems.push(`undocumented method ${method.toUpperCase()} answered ${res.status}`)
  const leaks = ctx.leaks.scan(actor, res)
  if (leaks.length) problems.push(`foreign canaries of ${leaks.map((l) => l.object.label).join(', ')}`)
  return { res, problems, method }
}

/**
 * No 5xx and no internals on any negative probe (Schemathesis not_a_server_error S3, EvoMaster
 * 209 / 210: E5, E6, unsupported_method S7): every annotated operation, called by one actor of
 * every kind in its own tenant, with one part of the request broken — a non-UUID or huge id,
 * a field of the wrong JSON type, a missing required field, an array or object where a string
 * goes, unicode and control characters, huge numbers, unknown or repeated query parameters,
 * wrong content types, empty or non-JSON bodies, or a method its path does not document (which
 * must be refused). One property per operation, so each failure shrinks to one actor and one
 * broken part; each property first sends the fixed breaks of `coverageFor` (a non-UUID id in every
 * path parameter, a truncated body, an undocumented method), so the commonest 5xx never rests on
 * the draw (the fault malformed-id-500 went unseen by this check at --runs 40). Nothing
 * destructive: deletes name unknown ids, updates hit throwaways, and the Portal is probed on a
 * throwaway account.
 */
export const noServerErrors = defineCheck<CheckContext>({
  id: 'access/no-server-errors',
  suite: 'access',
  title: 'Malformed request answered with a server error or internals',
  severity: 'medium', cwe: 209, owasp: 'API8:2023',
  docs: 'authz-tools.md §4 S3, S7, E5, E6, R6; fault malformed-id-500',
  async run(ctx) {
    const actors = representatives(ctx.topology)
    const bases = safeCalls(ctx)
    const findings: FindingInput[] = []
    const numRuns = Math.max(10, Math.ceil(ctx.fc.numRuns / 4))
    for (const op of ctx.contract.annotated) {
      const documented = new Set(ctx.contract.operations.filter((o) => o.path === op.path).map((o) => o.method))
      const methods = ['get', 'post', 'put', 'patch', 'delete'].filter((m) => !documented.has(m as never))
      const arb = fc.record({ actor: fc.constantFrom(...actors), mutation: mutationsFor(ctx.contract, op, methods) })
      // The fixed breaks first, sent by an actor the policy lets through (a refusal before the handler shows nothing),
      // then numRuns drawn ones.
      const caller = actors.find((a) => a.kind !== 'anonymous' && expected(op, a, { accountId: a.accountId, workspaceId: a.workspaceId }) === 'allow') ?? actors[0]!
      const examples = coverageFor(op, methods).map((mutation) => ({ actor: caller, mutation }))
      // A replay path belongs to one operation's property; on the others it may point nowhere.
      const result = await ctx.property(arb, async ({ actor, mutation }) => attempt(ctx, await bases(op, actor), op, actor, mutation), (a) => a.problems.length === 0, { numRuns: numRuns + examples.length, examples })
        .catch((err: unknown) => { if (ctx.fc.path) return undefined; throw err })
      if (!result) continue
      findings.push(...await ctx.findingsFrom(result, async ({ actor, mutation }) => {
        const { res, problems, method } = await attempt(ctx, await bases(op, actor), op, actor, mutation)
        if (!problems.length) return undefined
        return {
          message: `${actor.label} ${op.method.toUpperCase()} ${op.path} with ${describeMutation(mutation, method)}: ${problems.join('; ')} (a malformed request must be refused with a 4xx that reveals nothing)`,
          dedupKey: `${op.id}|${mutation.at}|${problems.map((p) => p.replace(/\d+/g, 'N')).join('+')}`,
          actor: actor.label, evidence: res.evidence,
          operation: { method: op.method.toUpperCase(), pathTemplate: op.path, operationId: op.id },
        }
      }))
    }
    return { findings }
  },
})
