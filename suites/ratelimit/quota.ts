import { randomBytes } from 'node:crypto'
import { parseList, type Item } from 'structured-headers'
import type { HttpResponse } from '../../harness/adapters/http.js'
import { retryAfterMs } from '../../harness/adapters/rate-headers.js'
import { toCurl } from '../../harness/core/curl.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor, WorkspaceNode } from '../../harness/core/topology.js'
import type { CheckView, TargetView } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { addMember } from '../../harness/engine/members.js'
import { objectParam } from '../../harness/engine/targets.js'
import { platformAdmin, throwaway } from '../../harness/engine/throwaway.js'

/**
 * Shared by the rate-limit checks: an account whose quota is known and small, users of it, and a
 * cheap allowed read to spend the quota with. Where the Portal's accounts.update takes a quota
 * (profile `rateLimit.quotaField`), the check creates its own accounts and sets one; where the
 * profile declares `rateLimit.knownQuota`, it spends that on the provisioned accounts and waits for
 * the window to end before it returns. Otherwise the check is skipped with the reason.
 */

/** The quota the checks set: `BURST` requests, refilled at one a second (a window of BURST seconds). */
export const BURST = 5

export interface Quota {
  /** Requests admitted in one window. */
  requests: number
  windowSeconds: number
  /** Set by the check on its own accounts (true), or the profile's known quota on provisioned ones. */
  own: boolean
}

export interface QuotaTenant {
  accountId: string
  label: string
  users: Actor[]
  /** A read every user may call in its own workspace, naming no object. */
  read: (user: Actor) => { op: Op; path: string }
}

export interface QuotaSetup {
  quota: Quota
  tenants: QuotaTenant[]
}

/** A read the policy allows `u` in its own workspace (no object id needed). */
export function readFor(ctx: CheckContext, u: Actor): Op | undefined {
  return ctx.contract.annotated.find((op) => op.tenancy.scope === 'workspace' && (op.verb === 'read' || op.verb === 'list') && op.method === 'get' &&
    !objectParam(ctx.topology, op) && expected(op, u, { accountId: u.accountId, workspaceId: u.workspaceId }) === 'allow')
}

/**
 * The quota body for the Portal's update of the account role, from the field's schema:
 * `{[quotaField]: {<rate>: 1, <burst>: BURST}}` (BURST requests, refilled at one a second), or, where
 * the quota is a rate alone, `{[quotaField]: {<rate>: BURST}}` (BURST requests a second).
 */
function quotaBody(view: CheckView, op: Op): { body: Record<string, unknown>; quota: Quota } | undefined {
  const field = view.profile.rateLimit.quotaField
  const props = (view.contract.resolve(op.requestSchema ?? {}).properties ?? {}) as Record<string, unknown>
  if (!props[field]) return undefined
  const inner = (view.contract.resolve(props[field]).properties ?? {}) as Record<string, unknown>
  const rate = Object.keys(inner).find((k) => /second|rate/i.test(k))
  const burst = Object.keys(inner).find((k) => /burst|capacity|limit/i.test(k) && k !== rate)
  if (!rate) return undefined
  if (!burst) return { body: { [field]: { [rate]: BURST } }, quota: { requests: BURST, windowSeconds: 1, own: true } }
  return { body: { [field]: { [rate]: 1, [burst]: BURST } }, quota: { requests: BURST, windowSeconds: BURST, own: true } }
}

/**
 * Whether `quotaTenants` will spend provisioned accounts' quota (the profile's known quota) rather
 * than accounts of the check's own: then the check runs alone (`exclusive`), since every other
 * check's requests in those accounts would count against the windows it measures. With accounts of
 * its own, the quota checks run beside one another; only the login and timing checks stay alone.
 */
export function spendsProvisionedQuota(view: TargetView): boolean {
  const update = view.contract.byRole('account', 'update', 'portal')[0]
  return !(update && quotaBody(view, update) && platformAdmin(view.topology))
}

/**
 * Whether the quota checks begin with the run's first suite (`CheckDefinition.early`): where their
 * accounts are their own, nobody else's requests count against the quotas they measure, theirs
 * against nobody's, and their floods are bursts that do not depend on how fast the target answers
 * while the other suites load it. Most of their time is the target's Retry-After.
 */
export function ownQuotaEarly(view: TargetView): boolean {
  return !spendsProvisionedQuota(view)
}

/**
 * Account-role tenants with `usersPer` users each, under a small known quota; a skip reason otherwise.
 * Own accounts are deleted when the check ends (throwaway + trackCreated).
 */
export async function quotaTenants(ctx: CheckContext, accounts: number, usersPer: number): Promise<QuotaSetup | string> {
  const update = ctx.contract.byRole('account', 'update', 'portal')[0]
  const set = update && quotaBody(ctx, update)
  const admin = platformAdmin(ctx.topology)
  const reader = (user: Actor) => {
    const op = readFor(ctx, user)
    if (!op) throw new Error(`no read for ${user.label}`)
    return { op, path: ctx.pathFor(op, { accountId: user.accountId, workspaceId: user.workspaceId }) }
  }
  if (update && set && admin) {
    const tenants: QuotaTenant[] = []
    for (let i = 0; i < accounts; i++) {
      const account = await throwaway(ctx, ctx.contract.vocabulary.name('account'), {})
      if (!account) return 'creating an account through the Portal failed'
      const ws = await throwaway(ctx, ctx.contract.vocabulary.name('workspace'), { accountId: account.id })
      if (!ws) return 'creating a workspace through the Portal failed'
      const node: WorkspaceNode = { label: `rl${i}.w0`, id: ws.id, accountId: account.id }
      const users: Actor[] = []
      for (let u = 0; u < usersPer; u++) {
        const m = await addMember(ctx, node, 'viewer', `rl${i}.u${u}`)
        if (!m) return 'creating and logging in a user of a new account failed'
        users.push(m)
      }
      if (!users.every((u) => readFor(ctx, u))) return 'the contract has no workspace read a viewer may call'
      const res = await ctx.as(admin).send({ method: update.method, path: ctx.pathFor(update, { accountId: account.id }), body: set.body })
      if (res.status < 200 || res.status > 299) return `setting a quota through ${update.id} answered ${res.status}`
      tenants.push({ accountId: account.id, label: `rl${i}`, users, read: reader })
    }
    return { quota: set.quota, tenants }
  }
  const known = ctx.profile.rateLimit.knownQuota
  if (!known) return `${update ? `the Portal's update of the account role (${update.id})` : 'the contract has no Portal update of the account role, so it'} takes no "${ctx.profile.rateLimit.quotaField}" quota and the profile declares no rateLimit.knownQuota`
  if (known.requests > 200) return `the known quota (${known.requests} requests) is too large to spend in a check`
  const tenants: QuotaTenant[] = []
  for (const account of ctx.topology.accounts) {
    const users = ctx.topology.actors.filter((a) => a.kind === 'user' && a.accountId === account.id && a.token && readFor(ctx, a)).slice(0, usersPer)
    if (users.length === usersPer) tenants.push({ accountId: account.id, label: account.label, users, read: reader })
    if (tenants.length === accounts) break
  }
  if (tenants.length < accounts) return `the topology has no ${accounts} accounts with ${usersPer} users each that may read their workspace`
  return { quota: { requests: known.requests, windowSeconds: known.windowSeconds, own: false }, tenants }
}

/**
 * Calls the tenant's read as `user`. A probe of the limiter: a 429 comes back as it is
 * (`throttle: 'report'`) instead of being waited out by the adapter. `burst`: released outside the
 * run's concurrency bound, for the requests of a flood sent together, and for a probe timed against
 * one (the call just before or after it), which must not wait behind other checks' requests.
 */
export function call(ctx: CheckContext, tenant: QuotaTenant, user: Actor, opts: { headers?: Record<string, string>; token?: string; burst?: boolean } = {}): Promise<HttpResponse> {
  const { op, path } = tenant.read(user)
  return ctx.as(opts.token ? { ...user, token: opts.token } : user).send({ method: op.method, path, headers: opts.headers, throttle: 'report', burst: opts.burst })
}

export interface Flood {
  /** Requests sent: `max`, or fewer when a wave met a 429. */
  sent: number
  admitted: number
  /** The first 429, if one came. */
  limited?: HttpResponse
  /** The last admitted answer. */
  last?: HttpResponse
  /** Answers neither 2xx nor 429. */
  other: HttpResponse[]
  elapsedMs: number
}

/** The most requests a flood releases together (a burst stays "a few dozen": see `HttpRequest.burst`). */
export const WAVE = 32

/**
 * Sends `send(i)` for i < `max` in waves released together, each as large as what is left (at most
 * {@link WAVE}), until a wave meets a 429. `send` must mark its request `burst`. Released together,
 * the requests reach the limiter within a short span whatever the target's latency, so a deployment
 * far away or answering slowly spends its quota as a near one does; sent one at a time, a flood
 * slower than the refill never would. Counts are of the whole flood; `limited` is the first 429 and
 * `last` the last admitted answer, in send order (not arrival order, which varies run to run).
 */
export async function flood(send: (i: number) => Promise<HttpResponse>, max: number): Promise<Flood> {
  const start = Date.now()
  const out: Flood = { sent: 0, admitted: 0, other: [], elapsedMs: 0 }
  for (let i = 0; i < max && !out.limited;) {
    const wave = Array.from({ length: Math.min(WAVE, max - i) }, (_, k) => i + k)
    i += wave.length
    out.sent = i
    for (const res of await Promise.all(wave.map(send))) {
      if (res.status === 429) out.limited ??= res
      else if (res.status >= 200 && res.status < 300) { out.admitted++; out.last = res } else out.other.push(res)
    }
  }
  out.elapsedMs = Date.now() - start
  return out
}

/**
 * The most requests a correct limiter may admit while a flood of `elapsedMs` runs: the quota, plus
 * what refills (token bucket) or a new window (fixed window) could add meanwhile, at least one.
 */
export function admissible(q: Quota, elapsedMs: number): number {
  return q.requests + Math.ceil((elapsedMs / 1000) * (q.requests / q.windowSeconds))
}

/** Seconds a client must wait after a 429 (Retry-After delay-seconds or HTTP-date), or undefined. */
export function retryAfter(res: HttpResponse): number | undefined {
  const ms = retryAfterMs(res.headers['retry-after'])
  return ms === undefined ? undefined : Math.ceil(ms / 1000)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * With the profile's known quota the check spent a provisioned account's window: wait it out so the
 * checks after this one are not throttled. Own accounts are deleted instead.
 */
export async function restore(setup: QuotaSetup, limited?: HttpResponse): Promise<void> {
  if (setup.quota.own) return
  const wait = Math.min(setup.quota.windowSeconds, (limited && retryAfter(limited)) ?? setup.quota.windowSeconds)
  await sleep(wait * 1000 + 250)
}

/** One parsed item of a RateLimit / RateLimit-Policy field. */
export interface RateItem { name: string; params: Map<string, unknown> }

/** Parses a draft-11 field (an SF List); undefined when absent, an Error when malformed. */
export function rateField(res: HttpResponse, name: 'ratelimit' | 'ratelimit-policy'): RateItem[] | undefined | Error {
  const v = res.headers[name]
  if (v === undefined) return undefined
  try {
    return parseList(v).map((m) => {
      const [value, params] = m as Item
      if (Array.isArray(value)) throw new Error('an inner list where an item belongs')
      return { name: value instanceof ArrayBuffer ? '' : String(value), params: params as Map<string, unknown> }
    })
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
}

/** The `r` (remaining) of the first RateLimit item, when the target sends one. */
export function remaining(res: HttpResponse | undefined): number | undefined {
  const items = res && rateField(res, 'ratelimit')
  const r = Array.isArray(items) ? items[0]?.params.get('r') : undefined
  return typeof r === 'number' ? r : undefined
}

/** A random string the length of a base64url JWS signature. */
export const forgedSignature = (): string => randomBytes(64).toString('base64url')

/** A finding about one call of the tenant's read (or any response), with its evidence and curl. */
export function findingAt(ctx: CheckContext, tenant: QuotaTenant | undefined, user: Actor | undefined, res: HttpResponse | undefined,
  dedupKey: string, severity: FindingInput['severity'], message: string, victim?: string): FindingInput {
  return findingOn(ctx, tenant && user ? tenant.read(user).op : undefined, user, res, dedupKey, severity, message, victim)
}

/** {@link findingAt} on an operation of the check's choosing. */
export function findingOn(ctx: CheckContext, op: Op | undefined, user: Actor | undefined, res: HttpResponse | undefined,
  dedupKey: string, severity: FindingInput['severity'], message: string, victim?: string): FindingInput {
  return {
    dedupKey, severity, message, actor: user?.label, victim,
    operation: op && { method: op.method.toUpperCase(), pathTemplate: op.path, operationId: op.id },
    evidence: res?.evidence,
    repro: res ? { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) } : undefined,
  }
}
