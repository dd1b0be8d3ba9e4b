import type { ContractOperation, Tenancy } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import type { Actor, Topology } from '../core/topology.js'
import { expected, relation, type Expectation, type OpTarget } from '../core/oracle.js'
import type { Leak, LeakDetector } from '../core/canary.js'
import type { HttpResponse } from '../adapters/http.js'
import type { Severity } from '../core/severity.js'

export type Op = ContractOperation & { tenancy: Tenancy }

export type Problem =
  | 'leak' // a foreign canary in the response
  | 'wrongly-allowed' // 2xx where the policy denies
  | 'wrongly-denied' // refused where the policy allows: a server that denies everything does not pass
  | 'server-error' // 5xx on any probe
  | 'disclosing-status' // a foreign object answered with a status the profile does not allow (e.g. 403 under 404-only)

export interface Judgement {
  expected: Expectation
  status: number
  /** Empty when the response is what the policy predicts. */
  problems: Problem[]
  leaks: Leak[]
  /** Whether the target of the call belongs to another workspace or account than the actor's. */
  foreign: boolean
}

export const PROBLEM_SEVERITY: Record<Problem, Severity> = {
  leak: 'critical',
  'wrongly-allowed': 'critical',
  'server-error': 'medium',
  'wrongly-denied': 'low',
  'disclosing-status': 'low',
}

/** Whether every problem is about a refusal (dropped when a positive control fails; see controls.ts). */
export function restsOnRefusal(problems: readonly Problem[]): boolean {
  return problems.length > 0 && problems.every((p) => p === 'wrongly-denied' || p === 'disclosing-status')
}

export function worst(problems: readonly Problem[]): Severity {
  const order: Problem[] = ['leak', 'wrongly-allowed', 'server-error', 'disclosing-status', 'wrongly-denied']
  return PROBLEM_SEVERITY[order.find((p) => problems.includes(p)) ?? 'wrongly-denied']
}

/**
 * Two-sided verdict for one call: the oracle's expectation against the answer, plus the canary scan.
 * Any 4xx counts as a refusal; a 2xx to a denied call, or a foreign canary anywhere, is a leak.
 */
export function judge(
  t: Topology, profile: TargetProfile, leaks: LeakDetector,
  actor: Actor, op: Op, target: OpTarget, res: Pick<HttpResponse, 'status' | 'body' | 'headers'>,
): Judgement {
  const exp = expected(op, actor, target)
  const problems: Problem[] = []
  const found = leaks.scan(actor, res)
  const rel = relation(actor, t, target.workspaceId)
  const foreign = actor.kind === 'user' && (rel === 'sibling-workspace' || rel === 'other-account' ||
    (target.object !== undefined && target.object.workspaceId !== actor.workspaceId) ||
    (target.accountId !== undefined && target.accountId !== actor.accountId))
  const ok2xx = res.status >= 200 && res.status < 300
  const refused = res.status >= 400 && res.status < 500
  if (res.status >= 500) problems.push('server-error')
  if (found.length > 0) problems.push('leak')
  if (exp === 'allow' && refused) problems.push('wrongly-denied')
  if (exp !== 'allow' && (ok2xx || (res.status >= 300 && res.status < 400 && res.body.length > 0))) problems.push('wrongly-allowed')
  // The profile's denial statuses (e.g. 404 only) bind where the refusal is about the tenant
  // boundary alone: the same actor may call this operation at home. A refusal for the role or the
  // context (403 insufficient_scope) reveals nothing about the object and is not held to it.
  if (exp === 'deny' && foreign && (res.status === 403 || res.status === 404) && !(profile.denial.statuses as number[]).includes(res.status) &&
    expected(op, actor, { accountId: actor.accountId, workspaceId: actor.workspaceId }) === 'allow') {
    problems.push('disclosing-status')
  }
  return { expected: exp, status: res.status, problems, leaks: found, foreign }
}
