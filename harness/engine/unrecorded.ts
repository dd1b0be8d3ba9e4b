import type { CheckContext, Probe, ProbeResult } from './context.js'
import { judge } from './judge.js'

/**
 * `ctx.probe` without the isolation matrix: for calls whose right answer the check decides itself
 * (a mutated id, a mismatched account/workspace pair, an id nobody owns). The oracle judges the
 * unmutated call, so recording these would paint cells such as "own workspace: wrongly denied" for
 * a 404 to `/{id}%2F..` that is perfectly correct. The judgement (and canary scan) is still returned.
 */
export async function probeUnrecorded(ctx: CheckContext, p: Probe): Promise<ProbeResult> {
  const path = p.rawPath ?? ctx.pathFor(p.op, p.target, p.params)
  const body = p.body ?? ctx.bodyFor(p.op)
  const response = await ctx.as(p.actor).send({ method: p.op.method, path, body, query: p.query, headers: p.headers })
  const judgement = judge(ctx.topology, ctx.profile, ctx.leaks, p.actor, p.op, p.target, response)
  const result = { response, judgement, probe: p }
  ctx.noteRefusal(result)
  return result
}
