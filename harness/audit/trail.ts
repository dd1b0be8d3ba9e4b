import { randomBytes } from 'node:crypto'
import type { HttpRequest, HttpResponse } from '../adapters/http.js'
import type { TargetContract } from '../core/contract.js'
import type { FindingInput } from '../core/finding.js'
import { expected, type OpTarget } from '../core/oracle.js'
import { ANONYMOUS, type Actor } from '../core/topology.js'
import type { CheckContext, Probe, ProbeResult } from '../engine/context.js'
import type { Op } from '../engine/judge.js'
import { decideFit, type Fit } from './fit.js'
import { EventMapping, type MappedEvent } from './mapping.js'

/**
 * The audit trail as a check sees it from outside: the read operations found in the contract by
 * `x-tenancy` (action `audit.list`; context/scope say which is which), requests sent with the
 * harness's own `X-Request-Id` so their events can be found again (research §2.5.1: look the event
 * up by correlation id), a paginating exporter, and polling bounded by the profile's
 * `audit.eventsWithinMs`. Every event read is turned into the checks' view here, through the
 * profile's `audit.events` mapping, and the mapping is tried once per run on the first events read
 * (see fit.ts). Nothing here knows the reference server's routes or event shape.
 */

export interface AuditOps {
  /** Every audit read operation of the contract. */
  all: Op[]
  /** The Portal's (platform scope): every trail. */
  portal?: Op | undefined
  /** An account's whole trail (account scope). */
  account?: Op | undefined
  /** A workspace's events (workspace scope). */
  workspace?: Op | undefined
}

export const NO_AUDIT_API = 'the contract has no audit read operation (x-tenancy action audit.list)'

/** The audit read operations: action `audit.list` (or any `audit*` resource's list). */
export function auditOps(contract: TargetContract): AuditOps {
  const all = contract.byRole('audit', 'list')
  return {
    all,
    portal: all.find((o) => o.tenancy.scope === 'platform'),
    account: all.find((o) => o.tenancy.scope === 'account'),
    workspace: all.find((o) => o.tenancy.scope === 'workspace'),
  }
}

/** One request the harness sent with its own request id, and when (harness clock). */
export interface Sent {
  requestId: string
  userAgent: string
  method: string
  path: string
  /** Just before sending / just after the answer (ms since the epoch). */
  from: number
  to: number
  response: HttpResponse
}

/** Who reads which trail through which operation. */
export interface Reader { actor: Actor; op: Op; target: OpTarget; query?: Record<string, string> }

export interface ExportResult {
  events: MappedEvent[]
  /** The read API refused or broke: the answer, for a finding. */
  failure?: { reader: Reader; response: HttpResponse } | undefined
  truncated?: boolean
}

export interface Awaited {
  /** Events per request id (an empty list when none appeared within the bound). */
  events: Map<string, MappedEvent[]>
  /** How long after the answer each request's first event was seen (ms): an upper bound of its lateness. */
  delay: Map<string, number>
  /**
   * How long after the answer a lookup that did NOT find the request's event began (ms; the latest
   * such lookup): proof the event was not there yet, so a lower bound of its lateness. Absent when
   * the first lookup found it. A check that spent time before it began to poll (other requests, a
   * slow target) makes `delay` large; only this says the target was late.
   */
  missed: Map<string, number>
  /** Request ids with no event within the profile's bound. */
  missing: string[]
  failure?: ExportResult['failure']
}

/** What a check returns when the trail cannot be read or judged: skipped, with the reason. */
export interface Unreadable { findings: []; skipped: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// The fit decision, once per run in this worker: every audit check says the same.
const fits = new Map<string, Promise<Fit>>()
const MAX_PAGES = 200
const PAGE = '200'

/** The audit trail of one target, for one check. */
export class AuditTrail {
  private n = 0
  readonly bound: number
  readonly mapping: EventMapping

  private constructor(readonly ctx: CheckContext, readonly ops: AuditOps) {
    this.bound = ctx.profile.audit.eventsWithinMs
    this.mapping = EventMapping.of(ctx.profile)
  }

  /**
   * The trail, or the reason the audit checks skip: the contract has no audit read operation, or
   * the profile's event mapping does not fit the first events read.
   */
  static async open(ctx: CheckContext): Promise<AuditTrail | Unreadable> {
    const ops = auditOps(ctx.contract)
    if (ops.all.length === 0) return { findings: [], skipped: NO_AUDIT_API }
    const trail = new AuditTrail(ctx, ops)
    const fit = await trail.fit()
    return fit.fits ? trail : { findings: [], skipped: fit.reason }
  }

  /** The trail without the fit test (for `tenant-audit inspect`), or undefined without an audit read operation. */
  static unchecked(ctx: CheckContext): AuditTrail | undefined {
    const ops = auditOps(ctx.contract)
    return ops.all.length > 0 ? new AuditTrail(ctx, ops) : undefined
  }

  /**
   * Whether the mapping fits, decided on the first page the first reader gets, once per run. A
   * read that fails or returns nothing decides nothing (the checks report or retry it).
   */
  fit(): Promise<Fit> {
    const key = `${this.ctx.topology.tag}|${this.ctx.profile.name}|${this.ctx.profile.baseUrl}`
    let known = fits.get(key)
    if (!known) {
      known = this.firstEvents().then((events) => decideFit(this.mapping, events))
      fits.set(key, known)
      void known.then((f) => f.events === 0 && fits.get(key) === known && fits.delete(key), () => fits.delete(key))
    }
    return known
  }

  /** The events on the first page of the first reader, as served (an empty list when it cannot be read). */
  async firstEvents(): Promise<unknown[]> {
    const [reader] = this.readers()
    if (!reader) return []
    const res = await this.page(reader)
    const items = (res.json as { items?: unknown } | undefined)?.items
    return res.status === 200 && Array.isArray(items) ? items : []
  }

  /** The events of a read API answer (`{items: [...]}`), in the checks' view; none when it is not one. */
  eventsIn(res: HttpResponse): MappedEvent[] {
    const items = (res.json as { items?: unknown } | undefined)?.items
    return res.status === 200 && Array.isArray(items) ? items.map((e) => this.mapping.map(e)) : []
  }

  /** Why the chain checks skip, when the profile says the deployment's events are not chained. */
  get chainSkipped(): string | undefined {
    return this.mapping.chain ? undefined : "the profile's audit.events.chain.recipe is none: the deployment's events are not hash-chained, or not in a way the harness verifies"
  }

  /** A fresh request id, unique in the run (and safe for any server's request-id filter). */
  requestId(): string {
    const name = this.ctx.checkId.slice(this.ctx.checkId.indexOf('/') + 1)
    return `ta-${this.ctx.topology.tag}-${name}-${++this.n}-${randomBytes(3).toString('hex')}`
  }

  get userAgent(): string {
    return `tenant-audit/1 (${this.ctx.checkId})`
  }

  /** Sends one request as `actor` (anonymous: no token) with a fresh request id and the check's user agent. */
  async send(actor: Actor | undefined, req: Omit<HttpRequest, 'token'>): Promise<Sent> {
    const requestId = this.requestId()
    const headers = { ...req.headers, 'x-request-id': requestId, 'user-agent': this.userAgent }
    const from = Date.now()
    const response = await this.ctx.as(actor ?? ANONYMOUS).send({ ...req, headers })
    return { requestId, userAgent: this.userAgent, method: req.method.toUpperCase(), path: req.path, from, to: Date.now(), response }
  }

  /** `ctx.probe` (oracle, canaries, matrix) with a fresh request id. */
  async probe(p: Probe): Promise<ProbeResult & { sent: Sent }> {
    const requestId = this.requestId()
    const from = Date.now()
    const r = await this.ctx.probe({ ...p, headers: { ...p.headers, 'x-request-id': requestId, 'user-agent': this.userAgent } })
    const path = p.rawPath ?? this.ctx.pathFor(p.op, p.target, p.params)
    return { ...r, sent: { requestId, userAgent: this.userAgent, method: p.op.method.toUpperCase(), path, from, to: Date.now(), response: r.response } }
  }

  /** Principals the Portal read operation allows, the platform admin first. */
  portalReaders(): Actor[] {
    const op = this.ops.portal
    if (!op) return []
    return this.ctx.topology.actors
      .filter((a) => a.kind === 'principal' && expected(op, a, {}) === 'allow')
      .sort((a, b) => Number(b.platformRole === 'platform_admin') - Number(a.platformRole === 'platform_admin'))
  }

  /** An account admin of `accountId` the account read operation allows. */
  accountReader(accountId: string): Actor | undefined {
    const op = this.ops.account
    return op && this.ctx.topology.actors.find((a) => a.kind === 'user' && a.accountId === accountId && expected(op, a, { accountId }) === 'allow')
  }

  /**
   * How to read every trail the harness may see: the Portal operation as a principal; without one,
   * each account's trail as its account admin (the platform trail is then out of reach).
   */
  readers(): Reader[] {
    const [principal] = this.portalReaders()
    if (this.ops.portal && principal) return [{ actor: principal, op: this.ops.portal, target: {} }]
    const out: Reader[] = []
    for (const a of this.ctx.topology.accounts) {
      const actor = this.accountReader(a.id)
      if (this.ops.account && actor) out.push({ actor, op: this.ops.account, target: { accountId: a.id } })
    }
    return out
  }

  /** Reads one page (limit 200); throttling is waited out by the adapter, never seen here. */
  async page(reader: Reader, query: Record<string, string> = {}): Promise<HttpResponse> {
    return this.ctx.as(reader.actor).get(this.ctx.pathFor(reader.op, reader.target), { limit: PAGE, ...reader.query, ...query })
  }

  /** Every event one reader returns for a query, following `nextCursor` to the end. */
  async exportVia(reader: Reader, query: Record<string, string> = {}): Promise<ExportResult> {
    const events: MappedEvent[] = []
    let cursor: string | undefined
    const seen = new Set<string>()
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const res = await this.page(reader, cursor ? { ...query, cursor } : query)
      const body = res.json as { items?: unknown; nextCursor?: unknown } | undefined
      if (res.status !== 200 || !body || !Array.isArray(body.items)) return { events, failure: { reader, response: res } }
      events.push(...body.items.map((e) => this.mapping.map(e)))
      if (typeof body.nextCursor !== 'string' || body.nextCursor === '' || seen.has(body.nextCursor)) return { events }
      seen.add(body.nextCursor)
      cursor = body.nextCursor
    }
    return { events, truncated: true }
  }

  /** Every event every reader returns (deduplicated by id), in (trail, seq) order. */
  async export(query: Record<string, string> = {}): Promise<ExportResult> {
    const byId = new Map<string, MappedEvent>()
    let truncated = false
    for (const reader of this.readers()) {
      const r = await this.exportVia(reader, query)
      for (const e of r.events) byId.set(e.id ?? e.hash ?? JSON.stringify(e.raw), e)
      if (r.failure) return { events: [...byId.values()], failure: r.failure }
      truncated ||= r.truncated === true
    }
    return { events: [...byId.values()], truncated }
  }

  /** The events of one request id (every trail the harness may read). */
  async lookup(requestId: string): Promise<ExportResult> {
    const known = this.found.get(requestId)
    if (known) return { events: known }
    const r = await this.export({ requestId })
    // A target that ignores the filter still answers: keep only this request's events.
    const events = r.events.filter((e) => e.requestId === requestId)
    if (events.length > 0 && !r.failure) this.found.set(requestId, events)
    return { ...r, events }
  }

  /** Events already found per request id: once read, an event is remembered (its trail may go with its tenant). */
  private readonly found = new Map<string, MappedEvent[]>()

  /**
   * Polls until every request has at least one event, or the profile's bound
   * (`audit.eventsWithinMs` after the last answer; `patienceMs` to wait longer) has passed. Cheap on a waiting target: one
   * lookup per round, everything re-read once when one appears and once at the end.
   */
  async await(sent: readonly Sent[], options: { patienceMs?: number } = {}): Promise<Awaited> {
    const events = new Map<string, MappedEvent[]>()
    const delay = new Map<string, number>()
    const missed = new Map<string, number>()
    const pending = sent.map((s) => s.requestId)
    const answered = new Map(sent.map((s) => [s.requestId, s.to]))
    // An attempt the adapter resent (a throttled answer waited out, a 401 before a renewal) carries the
    // same request id: its event (a status the request's own answer did not have) is that attempt's, not
    // the request's. A 429 or 503 is taken for one even where the adapter did not say so.
    const final = new Map(sent.map((s) => [s.requestId, s.response]))
    const own = (id: string, e: MappedEvent) => {
      const res = final.get(id)!
      if (e.status === undefined || e.status === res.status) return true
      return !(e.status === 429 || e.status === 503 || res.superseded?.includes(e.status))
    }
    const deadline = Math.max(0, ...sent.map((s) => s.to)) + (options.patienceMs ?? this.bound)
    let failure: ExportResult['failure']
    const query = async (id: string): Promise<boolean> => {
      const began = Date.now()
      const r = await this.lookup(id)
      failure ??= r.failure
      const mine = r.events.filter((e) => own(id, e))
      events.set(id, mine)
      if (mine.length === 0) {
        missed.set(id, Math.max(0, began - answered.get(id)!))
        return false
      }
      delay.set(id, Math.max(0, Date.now() - answered.get(id)!))
      pending.splice(pending.indexOf(id), 1)
      return true
    }
    const all = async () => {
      for (const id of [...pending]) await query(id)
    }
    await all()
    let i = 0
    while (pending.length > 0 && !failure && Date.now() < deadline) {
      await sleep(Math.min(250, Math.max(0, deadline - Date.now())))
      if (await query(pending[i++ % pending.length]!)) await all()
    }
    if (pending.length > 0 && !failure) await all()
    return { events, delay, missed, missing: [...pending], failure }
  }

  /** A finding for a read API that refused the harness's reader or broke. */
  readFailure(failure: NonNullable<ExportResult['failure']>): FindingInput {
    const { reader, response } = failure
    return {
      message: `the audit read API ${reader.op.method.toUpperCase()} ${reader.op.path} answered ${response.status} to ${reader.actor.label}, whom the contract allows: the trail cannot be read`,
      dedupKey: `read-failed|${reader.op.id}|${response.status}`,
      severity: 'medium',
      evidence: response.evidence,
      actor: reader.actor.label,
      operation: { method: reader.op.method.toUpperCase(), pathTemplate: reader.op.path, operationId: reader.op.id },
    }
  }
}

/** Evidence of one tracked request, for a finding. */
export function evidenceOfSent(s: Sent): Pick<FindingInput, 'evidence'> {
  return { evidence: s.response.evidence }
}
