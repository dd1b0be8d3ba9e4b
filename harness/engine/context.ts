import fc from 'fast-check'
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash, randomBytes } from 'node:crypto'
import { bodyFromSchema } from '../provision/bodies.js'
import { mapPool } from '../adapters/limit.js'
import type { HttpAdapter, HttpRequest, HttpResponse, RequestScope } from '../adapters/http.js'
import { fillPath, type TargetContract } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import type { Actor, Topology } from '../core/topology.js'
import { LeakDetector } from '../core/canary.js'
import type { OpTarget } from '../core/oracle.js'
import type { FindingInput } from '../core/finding.js'
import { toCurl } from '../core/curl.js'
import { isHarnessError } from '../core/errors.js'
import { ProbeSkipped, isProbeSkipped } from '../core/skip.js'
import { seedBodies, validBody } from '../provision/bodies.js'
import { judge, type Judgement, type Op } from './judge.js'
import { MatrixRecorder } from './matrix.js'
import { ControlLedger, isRefusal, operationMatcher, type ControlCall } from './controls.js'
import { controlFor } from './control-calls.js'
import type { CheckOutcome } from '../core/check.js'
import type { SessionData } from '../adapters/sessions.js'
import type { HandledSecret } from '../audit/secrets.js'

export interface ActorClient {
  send(req: Omit<HttpRequest, 'token'>): Promise<HttpResponse>
  get(path: string, query?: HttpRequest['query']): Promise<HttpResponse>
  post(path: string, body?: unknown): Promise<HttpResponse>
  patch(path: string, body?: unknown): Promise<HttpResponse>
  delete(path: string): Promise<HttpResponse>
}

export interface RunSettings {
  seed: number
  numRuns: number
  /** fast-check replay path: set by `tenant-audit replay` to re-run one counterexample. */
  path?: string
  /** Secrets the global setup handled that no session carries (ID tokens, the test-issuer key): for audit/no-secrets only. */
  secrets?: HandledSecret[]
  /** Set when the target cannot show a race (it runs one transaction at a time): why. Race checks skip with it. */
  raceless?: string
}

/** One probe as checks describe it: which actor calls which operation on which target. */
export interface Probe {
  actor: Actor
  op: Op
  target: OpTarget
  /** Path parameter values; tenant params are filled from `target` when absent. */
  params?: Record<string, string>
  body?: unknown
  query?: HttpRequest['query']
  headers?: Record<string, string>
  /** Replaces the filled path (for id mutations such as `id/` or encoded slashes). */
  rawPath?: string
}

export interface ProbeResult { response: HttpResponse; judgement: Judgement; probe: Probe }

/**
 * What a check gets: the topology, the contract, the oracle-backed `probe`, a client per actor,
 * and `findingsFrom` to turn a fast-check result into replayable findings. One per check, so its
 * request count and matrix are the check's own.
 */
export class CheckContext {
  readonly leaks: LeakDetector
  readonly matrix = new MatrixRecorder()
  /** Positive controls: refusals this check relies on, and the genuine calls behind them. */
  readonly controls = new ControlLedger()
  private readonly opOf: (method: string, path: string) => Op | undefined
  private readonly startCount: number
  /** The check's own request count when it runs in a scope (concurrent checks share the adapter). */
  private readonly scope: RequestScope | undefined
  readonly fc: { seed: number; numRuns: number; path?: string; endOnFailure: boolean }
  /** What the check's head start (`CheckDefinition.headStart`) returned, when it had one that started something. */
  headStart: unknown

  constructor(
    readonly checkId: string,
    readonly topology: Topology,
    readonly contract: TargetContract,
    readonly profile: TargetProfile,
    private readonly http: HttpAdapter,
    readonly settings: RunSettings,
  ) {
    this.leaks = new LeakDetector(topology, contract.annotated)
    this.opOf = operationMatcher(contract.annotated)
    this.startCount = http.sent
    this.scope = http.currentScope?.() // optional: unit tests hand in a bare fake adapter
    // Each check draws from its own stream: adding or reordering checks does not change another's cases.
    const seed = createHash('sha256').update(`${settings.seed}:${checkId}`).digest().readInt32LE(0)
    this.fc = { seed, numRuns: settings.numRuns, path: settings.path, endOnFailure: false }
    seedBodies(settings.seed)
  }

  private readonly deferred: { path: string; token?: string }[] = []

  /** Deletes something this check created outside the provisioned accounts, when the check ends. */
  defer(path: string, token?: string): void {
    this.inOrder(() => this.deferred.push({ path, token }))
  }

  /** The bookkeeping of the case `concurrently` is running here, kept aside until every case is in. */
  private readonly lane = new AsyncLocalStorage<(() => void)[]>()

  /**
   * Applies a piece of bookkeeping now, or, inside `concurrently`, when its case's turn comes: for a
   * check's own order-dependent state (a FindingCollector keeps the first evidence per defect).
   */
  inOrder(apply: () => void): void {
    const log = this.lane.getStore()
    if (log) log.push(apply)
    else apply()
  }

  /**
   * Runs `fn` on every item, up to the adapter's concurrency at once: for the cases of a walk that
   * do not depend on one another's effects. Each case's bookkeeping (positive-control numbers,
   * refusals, served controls, the matrix, deferred deletes) is kept aside and applied in item order
   * once every case has ended, so the controls, the matrix and the clean-up are exactly what one
   * case after another would give, whichever answer came first. Every case runs to its end; the
   * error of the first case (in item order) that threw is then rethrown.
   */
  async concurrently<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const logs = items.map((): (() => void)[] => [])
    const settled = await mapPool(items, this.http.concurrency ?? 1, (item, i) =>
      this.lane.run(logs[i]!, () => fn(item, i).then((value) => ({ ok: true as const, value }), (err: unknown) => ({ ok: false as const, err }))))
    for (const log of logs) for (const apply of log) this.inOrder(apply)
    const failed = settled.find((s) => !s.ok)
    if (failed && !failed.ok) throw failed.err
    return settled.map((s) => (s as { value: R }).value)
  }

  /**
   * `fc.check` of "`passes(await work(value))`" over `arb`, with the runs' work done ahead and
   * concurrently: `fc.sample` with the check's seed yields exactly the values `fc.check` runs (after
   * the examples, in order), so those are worked through {@link concurrently} first and the property
   * then reads their results in order; only shrinking works new values, one at a time. Same seed →
   * same requests, same results, same shrunk counterexample as one run after another (the runs after
   * a first failure are worked too, and booked). Each value read is checked against the one worked
   * for it (by its labels); should they ever differ, the rest is worked as it comes. A replay
   * (`path`) works only what it replays.
   */
  async property<T, R>(arb: fc.Arbitrary<T>, work: (value: T) => Promise<R>, passes: (result: R) => boolean,
    options: { numRuns?: number; examples?: T[] } = {}): Promise<fc.RunDetails<[T]>> {
    const numRuns = options.numRuns ?? this.fc.numRuns
    const examples = options.examples ?? []
    let ahead: { key: string; result: Promise<R> }[] = []
    if (!this.fc.path && (this.http.concurrency ?? 1) > 1) {
      const generated = numRuns > examples.length ? fc.sample(arb, { seed: this.fc.seed, numRuns: numRuns - examples.length }) : []
      const values = [...examples, ...generated].slice(0, numRuns)
      const results = await this.concurrently(values, (v) => work(v).then((r) => ({ r }), (err: unknown) => ({ err })))
      ahead = values.map((v, i) => {
        const done = results[i]!
        return { key: keyOf(v), result: 'err' in done ? Promise.reject(done.err) : Promise.resolve(done.r) }
      })
      for (const a of ahead) a.result.catch(() => undefined) // read (and rethrown) only when fast-check gets there
    }
    let next = 0
    let failed = false
    const property = fc.asyncProperty(arb, async (value) => {
      const worked = failed ? undefined : ahead[next++]
      if (worked && worked.key !== keyOf(value)) ahead = []
      let result: R
      try {
        result = await (worked && ahead.length > 0 ? worked.result : work(value))
      } catch (err) {
        failed = true
        throw err
      }
      const ok = passes(result)
      if (!ok) failed = true
      return ok
    })
    return fc.check(property, { ...this.fc, numRuns, examples: examples.map((e) => [e] as [T]) })
  }

  /** Runs the deferred deletes (newest first) as the platform admin principal; never throws. */
  async cleanup(): Promise<void> {
    const admin = this.topology.actors.find((a) => a.kind === 'principal' && a.platformRole === 'platform_admin')
    for (const d of this.deferred.splice(0).reverse()) {
      await this.http.send({ method: 'DELETE', path: d.path, token: d.token ?? admin?.token }).catch(() => undefined)
    }
  }

  /**
   * The check revoked this token, or removed, suspended or demoted its user: the adapter never
   * renews or substitutes it again, so no later check silently gets a fresh token for that user.
   */
  retire(token: string | undefined): void {
    this.http.sessions?.retire(token)
  }

  /** Every session the adapter saw (the setup's logins, this worker's, every renewal). Secrets: for audit/no-secrets only. */
  sessionsSeen(): SessionData[] {
    return this.http.sessions?.export() ?? []
  }

  get requests(): number {
    return this.scope ? this.scope.sent : this.http.sent - this.startCount
  }

  /**
   * A client that sends as `actor`. The adapter swaps a session's token for its current one and
   * keeps `actor.token` current in place; pass `renew: false` to send the token exactly as it is
   * (checks about tokens), `throttle: 'report'` to see a 429 (the rate-limit probes). Every request
   * through it is numbered for the positive controls, and every 2xx counts as a control for that
   * actor on the operation it hit.
   */
  as(actor: Actor): ActorClient {
    this.http.sessions?.bind(actor) // optional: unit tests hand in a bare fake adapter
    const send = async (req: Omit<HttpRequest, 'token'>): Promise<HttpResponse> => this.booked(actor, req, await this.http.send({ ...req, token: actor.token }))
    return {
      send,
      get: (path, query) => send({ method: 'GET', path, query }),
      post: (path, body) => send({ method: 'POST', path, body }),
      patch: (path, body) => send({ method: 'PATCH', path, body }),
      delete: (path) => send({ method: 'DELETE', path }),
    }
  }

  /** Numbers an answer for the positive controls, and counts a 2xx as a control for the actor on the operation it hit. */
  private booked(actor: Actor, req: Pick<HttpRequest, 'method' | 'path'>, res: HttpResponse): HttpResponse {
    const op = res.status >= 200 && res.status < 300 ? this.opOf(req.method, req.path) : undefined
    this.inOrder(() => {
      const seq = this.controls.tick()
      if (res.status >= 200 && res.status < 300) this.controls.success(actor, op?.id, seq)
      this.lastSeq = seq
    })
    return res
  }

  /** Fills an operation's path from a target: tenant params from the target, the rest from `params`. */
  pathFor(op: Op, target: OpTarget, params: Record<string, string> = {}): string {
    const values: Record<string, string> = { ...params }
    const { account, workspace } = this.topology.params
    if (target.workspaceId && values[workspace] === undefined) values[workspace] = target.workspaceId
    if (target.accountId && values[account] === undefined) values[account] = target.accountId
    const last = op.pathParams.at(-1)
    if (target.object && last && values[last] === undefined && last !== workspace && last !== account) values[last] = target.object.id
    return fillPath(op.path, values)
  }

  /**
   * Whatever a create made (a 2xx with an `id`) is deleted when the check ends: in a Portal-built
   * topology the account deletion would cascade anyway, but with "bring your own tenants" nothing
   * the harness created may stay behind. Portal resources are deleted by the platform admin,
   * workspace data by its creator.
   */
  trackCreated(op: Op, response: Pick<HttpResponse, 'status' | 'json'>, creator: Actor, target: OpTarget): void {
    const id = (response.json as { id?: unknown } | undefined)?.id
    if (op.verb !== 'create' || response.status < 200 || response.status > 299 || typeof id !== 'string') return
    const deletes = this.contract.byResource(op.resource, 'delete')
    const portal = deletes.find((d) => d.tenancy.context === 'portal')
    const del = portal ?? deletes.find((d) => d.tenancy.scope === 'workspace')
    if (!del) return
    const last = del.pathParams.at(-1)!
    const values = { [last]: id }
    this.defer(this.pathFor(del, op.role === 'account' ? {} : target, values), portal ? undefined : creator.token)
  }

  /**
   * The body a probe sends when its check gives none: for a write, the smallest body the operation's
   * schema accepts (an update gets a valid partial body, which `{}` is not under `minProperties: 1`),
   * free text marked with the run's tag; `{}` when the contract gives no schema.
   * @throws ProbeSkipped when no valid body can be built: the check skips, never judges a 400 it caused
   */
  bodyFor(op: Op): unknown {
    if (!['post', 'put', 'patch'].includes(op.method)) return undefined
    if (!op.requestSchema) return {}
    const mark = `ta-${this.topology.tag}-probe`
    const r = validBody(this.contract, op.requestSchema, { label: mark, canary: mark, email: `${mark}@tenant-audit.test`, role: 'viewer', platformRole: 'support' })
    if (!r.ok) throw new ProbeSkipped(`${op.id} needs a body the harness cannot build: ${r.reason}`)
    return r.body
  }

  /** Sends one probe and judges it against the oracle and the canaries; records it in the matrix. */
  async probe(p: Probe): Promise<ProbeResult> {
    const path = p.rawPath ?? this.pathFor(p.op, p.target, p.params)
    const body = p.body ?? this.bodyFor(p.op)
    const response = await this.as(p.actor).send({ method: p.op.method, path, body, query: p.query, headers: p.headers })
    return this.settle(p, response)
  }

  /**
   * Probes that do not depend on one another's effects, sent concurrently (up to the adapter's
   * concurrency), then booked in the order given — numbered for the positive controls, created
   * objects tracked, judged, recorded in the matrix, refusals registered — exactly as `probe` one
   * after another would book them: the results, the matrix and the controls do not depend on which
   * answer came first. Every body is built before anything is sent.
   */
  async probeAll(probes: readonly Probe[]): Promise<ProbeResult[]> {
    const reqs = probes.map((p) => ({ method: p.op.method, path: p.rawPath ?? this.pathFor(p.op, p.target, p.params), body: p.body ?? this.bodyFor(p.op), query: p.query, headers: p.headers }))
    for (const p of probes) this.http.sessions?.bind(p.actor)
    const answers = await mapPool(reqs, this.http.concurrency ?? 1, (req, i) => this.http.send({ ...req, token: probes[i]!.actor.token }))
    return probes.map((p, i) => this.settle(p, this.booked(p.actor, reqs[i]!, answers[i]!)))
  }

  /** What `probe` does with an answer: track what it created, judge it, record it, register a refusal. */
  private settle(p: Probe, response: HttpResponse): ProbeResult {
    this.trackCreated(p.op, response, p.actor, p.target)
    const judgement = judge(this.topology, this.profile, this.leaks, p.actor, p.op, p.target, response)
    this.inOrder(() => this.matrix.record(this.topology, p.actor, p.op, p.target, judgement))
    const result = { response, judgement, probe: p }
    this.noteRefusal(result)
    return result
  }

  private lastSeq = 0

  /**
   * Registers the refusal of a probe (any 4xx but 429, to a token-bearing actor) with the control
   * that must stand behind it. `ctx.probe` does this itself; call it for a probe sent another way
   * (e.g. `probeUnrecorded`), right after the response.
   */
  noteRefusal(r: ProbeResult): void {
    if (!isRefusal(r.response.status)) return
    const control = controlFor(this.topology, this.contract, r.probe.actor, r.probe.op, r.probe.target)
    if (control) this.inOrder(() => this.controls.refusal(control, `${r.probe.actor.label} ${r.probe.op.method.toUpperCase()} ${r.probe.op.path}`, this.lastSeq))
  }

  /**
   * Registers a refusal the check relies on, by `actor` on `op` at `target`, sent some other way
   * than a probe (right after its response).
   */
  noteRefused(actor: Actor, op: Op, target: OpTarget): void {
    const control = controlFor(this.topology, this.contract, actor, op, target)
    if (control) this.inOrder(() => this.controls.refusal(control, `${actor.label} ${op.method.toUpperCase()} ${op.path}`, this.lastSeq))
  }

  /**
   * Registers a refusal whose control the check names itself (e.g. a user of another account, when
   * the refused actor is expected to have lost its access): `control` must be served after it.
   */
  requireControl(control: ControlCall, because: string): void {
    this.inOrder(() => this.controls.refusal(control, because, this.lastSeq))
  }

  /**
   * A call whose success the verdict rests on: a read-back that shows "nothing changed", or the
   * genuine token a forgery was made from. Anything but a 2xx makes the check inconclusive.
   * @returns whether it was served
   */
  expectServed(res: Pick<HttpResponse, 'status'>, what: string): boolean {
    if (res.status >= 200 && res.status < 300) return true
    this.inOrder(() => this.controls.fail(`${what} answered ${res.status}`))
    return false
  }

  /**
   * Ends the check's bookkeeping: sends one control call for each refusal no observed success
   * stands behind (stopping at the first that fails), and when a control failed returns the
   * outcome as inconclusive, without the findings that rest on a refusal. Leaks and 2xx answers to
   * forbidden calls stand whatever happened. A skipped outcome is returned unchanged.
   */
  async controlled(outcome: CheckOutcome): Promise<CheckOutcome> {
    if (outcome.skipped) return outcome
    if (this.controls.inconclusive === undefined) {
      for (const need of this.controls.open()) {
        const { actor, op, target, params } = need.call
        const path = this.pathFor(op, target, params)
        const body = ['post', 'put', 'patch'].includes(op.method) ? bodyFromSchema(this.contract, op.requestSchema ?? {}, controlHints()) : undefined
        const res = await this.as(actor).send({ method: op.method, path, body })
        this.trackCreated(op, res, actor, target)
        if (res.status >= 200 && res.status < 300) continue
        const covers = need.refusals === 1 ? 'a refusal' : `${need.refusals} refusals`
        this.controls.fail(`positive control failed: ${actor.label} ${op.method.toUpperCase()} ${op.path} answered ${res.status}, so ${covers} of ${need.because} prove nothing`)
        break
      }
    }
    const reason = this.controls.inconclusive
    if (reason === undefined) return outcome
    return { findings: outcome.findings.filter((f) => !f.restsOnRefusal), inconclusive: reason, notes: outcome.notes }
  }

  /** Evidence, curl and the operation for a finding about one probe. */
  evidenceOf(r: ProbeResult): Pick<FindingInput, 'evidence' | 'operation' | 'actor' | 'victim'> {
    const victim = r.probe.target.object?.ownerLabel ?? this.topology.accounts.find((a) => a.workspaces.some((w) => w.id === r.probe.target.workspaceId))?.label
    return {
      evidence: r.response.evidence,
      operation: { method: r.probe.op.method.toUpperCase(), pathTemplate: r.probe.op.path, operationId: r.probe.op.id },
      actor: r.probe.actor.label,
      victim,
    }
  }

  /**
   * Turns a fast-check result into findings: none when it passed; otherwise one finding for the
   * shrunk counterexample, rebuilt by `describe` (which re-runs it once to capture the evidence),
   * with the seed and replay path. A harness fault inside the property is rethrown (exit 2), and so
   * is a {@link ProbeSkipped} (the check skips).
   */
  async findingsFrom<T>(result: fc.RunDetails<[T]>, describe: (counterexample: T) => Promise<FindingInput | undefined>): Promise<FindingInput[]> {
    if (!result.failed) return []
    const err = result.errorInstance
    if (isHarnessError(err) || isProbeSkipped(err)) throw err
    if (!result.counterexample) throw err instanceof Error ? err : new Error(String(err))
    const [example] = result.counterexample
    const finding = await describe(example)
    if (!finding) return []
    const curl = finding.evidence ? toCurl(finding.evidence.request) : ''
    const names = new Map<string, string>()
    for (const a of this.topology.accounts) {
      names.set(a.id, a.label)
      for (const w of a.workspaces) names.set(w.id, w.label)
    }
    for (const o of this.topology.objects) names.set(o.id, o.label)
    return [{ ...finding, repro: { seed: result.seed, path: result.counterexamplePath ?? undefined, counterexample: labelsOf(example, names), curl } }]
  }
}

/** What identifies a property's value across `fc.sample` and `fc.check`: its labels, no token. */
function keyOf(value: unknown): string {
  return JSON.stringify(labelsOf(value)) ?? ''
}

/** Body hints for a control create: throwaway names, no real address. */
function controlHints() {
  const tag = randomBytes(4).toString('hex')
  return { email: `control-${tag}@tenant-audit.test`, password: `Ctl-${randomBytes(12).toString('base64url')}`, role: 'viewer', platformRole: 'support', label: `control-${tag}`, canary: `control-${tag}` }
}

/** A counterexample as plain, secret-free data: actors and objects by label. */
export function labelsOf(value: unknown, names: ReadonlyMap<string, string> = new Map()): unknown {
  if (typeof value === 'string') return names.get(value) ?? value
  if (Array.isArray(value)) return value.map((v) => labelsOf(v, names))
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>
    if (typeof v.label === 'string' && ('kind' in v || 'resource' in v)) return v.label
    if (typeof v.id === 'string' && 'tenancy' in v) return v.id
    if (typeof v.toString === 'function' && v.toString !== Object.prototype.toString) return String(v)
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'token').map(([k, x]) => [k, labelsOf(x, names)]))
  }
  return value
}
