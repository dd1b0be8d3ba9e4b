/**
 * Positive controls (issue 10, family 7): a refusal proves isolation only while the target still
 * serves genuine calls. A target whose tokens have all died refuses a forged token and a foreign
 * read just as it refuses everything else, so every refusal a check relies on is paired with a
 * genuine call the policy allows, and the check is `inconclusive` when that call fails.
 *
 * The ledger is pure bookkeeping over a sequence of requests (one counter per check):
 * - a refusal registers a *need*: a control call (an actor, an operation, a target) keyed by
 *   (control actor, control operation), with the sequence number of its last refusal;
 * - every 2xx is recorded by (actor, operation) and as "this token was served at seq n";
 * - a need is met when its pair succeeded after the last refusal, or when its pair succeeded at
 *   any time in the check and the control actor's token was served after the last refusal (the
 *   operation worked, and the target still served that token afterwards: a target that began
 *   refusing every token in between would not have). This second rule is what keeps it cheap: the
 *   policy matrix probes each actor at home before abroad, and its later probes keep the token alive.
 * - a need left open at the end gets one explicit control call; the first that fails makes the
 *   check inconclusive (the rest would change nothing) with the actor, operation and answer.
 * Read-backs that show "nothing changed" and the genuine token of a forgery are required outright
 * through {@link ControlLedger.fail} when they were not served.
 */
import type { Actor } from '../core/topology.js'
import type { OpTarget } from '../core/oracle.js'
import type { Op } from './judge.js'

/** A genuine call that must succeed for some refusal to count. */
export interface ControlCall {
  actor: Actor
  op: Op
  target: OpTarget
  /** Path parameter values beyond the tenant ids of `target`. */
  params: Record<string, string>
}

export interface OpenNeed {
  call: ControlCall
  /** What the control stands behind, e.g. `a0.w0.editor PATCH /…/documents/{documentId}`. */
  because: string
  /** How many refusals it covers. */
  refusals: number
}

const pairKey = (actorLabel: string, opId: string): string => `${actorLabel}\u0000${opId}`

export class ControlLedger {
  private seq = 0
  private readonly succeeded = new Map<string, number>()
  private readonly served = new Map<string, number>()
  private readonly needs = new Map<string, OpenNeed & { lastRefusal: number }>()
  private readonly failures: string[] = []

  /** Numbers the next request of the check; call once per request, before judging it. */
  tick(): number {
    return ++this.seq
  }

  /** A 2xx to `actor` (on `opId` when the path matched a contract operation). */
  success(actor: Pick<Actor, 'label' | 'token'>, opId: string | undefined, seq: number): void {
    if (actor.token === undefined) return
    this.served.set(actor.label, seq)
    if (opId !== undefined) this.succeeded.set(pairKey(actor.label, opId), seq)
  }

  /** A refusal the check relies on; `control` is the genuine call that must still be served. */
  refusal(control: ControlCall, because: string, seq: number): void {
    const key = pairKey(control.actor.label, control.op.id)
    const prev = this.needs.get(key)
    if (prev) {
      prev.lastRefusal = seq
      prev.refusals++
    } else this.needs.set(key, { call: control, because, refusals: 1, lastRefusal: seq })
  }

  /** Needs not met by what the check observed, in registration order. */
  open(): OpenNeed[] {
    const out: OpenNeed[] = []
    for (const [key, need] of this.needs) {
      const pair = this.succeeded.get(key)
      const token = this.served.get(need.call.actor.label)
      const met = pair !== undefined && (pair > need.lastRefusal || (token !== undefined && token > need.lastRefusal))
      if (!met) out.push({ call: need.call, because: need.because, refusals: need.refusals })
    }
    return out
  }

  /** A control, read-back or genuine-token call that was not served: the check is inconclusive. */
  fail(reason: string): void {
    this.failures.push(reason)
  }

  /** Why the check is inconclusive, or undefined when every control held. */
  get inconclusive(): string | undefined {
    const [first, ...rest] = this.failures
    if (first === undefined) return undefined
    return rest.length === 0 ? first : `${first} (and ${rest.length} more failed control${rest.length === 1 ? '' : 's'})`
  }
}

/** Whether a status is a refusal a check may lean on (429 is throttling, not an answer). */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429
}

/**
 * Matches a sent request to the contract operation it calls, so a 2xx sent through `ctx.as()`
 * counts as a control without the check saying so. Templates with fewer parameters win a tie
 * (`/documents/search` before `/documents/{id}`).
 */
export function operationMatcher(ops: readonly Op[]): (method: string, path: string) => Op | undefined {
  const compiled = ops
    .map((op) => ({
      op,
      params: op.pathParams.length,
      re: new RegExp(`^${op.path.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}/?$`),
    }))
    .sort((a, b) => a.params - b.params)
  return (method, path) => {
    const m = method.toLowerCase()
    const bare = path.split('?')[0] ?? path
    return compiled.find((c) => c.op.method === m && c.re.test(bare))?.op
  }
}
