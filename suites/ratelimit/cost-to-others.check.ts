import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { defineCheck } from '../../harness/core/check.js'
import { ANONYMOUS, users, type Actor } from '../../harness/core/topology.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { wrongLogin } from '../../harness/engine/members.js'
import { slowdown } from '../../harness/engine/timing.js'
import { findingOn, readFor, retryAfter, sleep } from './quota.js'

/** Pairs per flood kind (one read alone, one while the flood runs), alternating which comes first. */
const PAIRS = 8
/** One login flood: failed logins released together (2 for existing usernames, the rest unknown). */
const LOGINS = 10
/** One refusal flood: forged and garbage tokens, unknown paths, methods a path does not take, released together. */
const REFUSALS = 20
/** How long after the flood's release the victim's read goes out (the flood's requests are in by then). */
const HEAD_START_MS = 15
/** The longest a round waits for the login limiter's window so its logins reach the password check, and the most rounds redone for it. */
const MAX_WINDOW_WAIT_SECONDS = 12
const MAX_REDOS = 6
/** The longest the check waits at the end for the harness address's login lockout to end. */
const MAX_FINAL_WAIT_SECONDS = 60

/**
 * What a flood of refused requests costs another tenant (issue 13, "cost to others"; defect 2's
 * second half: the password KDF ran inside the database transaction, holding PGlite's one connection
 * or a pool connection while it hashed, so 20 concurrent logins made another tenant's GET wait
 * 310–595 ms). Two kinds of flood, each released at once and judged on its own: failed logins
 * (unknown usernames and existing ones of another account) and other refusals (forged and garbage
 * tokens, paths that do not exist, methods a path does not take); 429s are welcome. One tenant's
 * allowed read is timed in adjacent pairs — alone, and while a flood is in flight — and with each
 * loaded read a control is sent: the key set, public and holding no tenant's data. A finding only
 * when the noisy-neighbour goal of tenancy-audit-ratelimit.md §3.6 item 4 (the victim's p95 ≤
 * max(1.5× baseline, baseline + 20 ms)) is missed *and* the read is consistently many times slower
 * than alone *and* than the control beside it (harness/engine/timing.ts `slowdown`: median pair
 * ratio ≥ 3, 80 % of the pairs agreeing, medians ≥ 100 ms apart); the samples are in the finding.
 * A flood from the same machine takes CPU from every request alike (the control too); waiting behind
 * a held resource is what the control does not do. The victim's reads must be served (a 401 or 429
 * is no latency: inconclusive). The flooder's quota side is `ratelimit/refusals-charged`.
 */
export const costToOthers = defineCheck<CheckContext>({
  id: 'ratelimit/cost-to-others',
  suite: 'ratelimit',
  title: "A flood of refused requests slows another tenant's reads",
  severity: 'medium', cwe: 400, owasp: 'API4:2023',
  requires: ['two-accounts'],
  // Alone: it times answers, and its failed logins spend the harness address's login windows.
  exclusive: true,
  docs: 'issue 13 defect 2 (KDF inside db.withTenant held the connection); tenancy-audit-ratelimit.md §3.6 item 4 (noisy-neighbour goal) and §3.5 (relative, same-run comparison); CWE-400; fault login-kdf-in-transaction',
  async run(ctx) {
    if (ctx.profile.budget.requestsPerSecond) return { findings: [], skipped: `the profile caps the harness at ${ctx.profile.budget.requestsPerSecond} requests/s: the victim's read would wait behind the flood in the harness itself, not in the target` }
    const all = users(ctx.topology).filter((u) => u.token)
    const victim = all.find((u) => readFor(ctx, u))
    const flooder = victim && all.find((u) => u.accountId !== victim.accountId)
    if (!victim || !flooder) return { findings: [], skipped: 'the topology has no user with a workspace read and a user of another account' }
    const readOp = readFor(ctx, victim)!
    const readPath = ctx.pathFor(readOp, { accountId: victim.accountId, workspaceId: victim.workspaceId })
    // The control: the key set, public on every conforming deployment, and no tenant's data. A flood that only takes
    // CPU slows it as much as the victim's read; one that holds what tenants' requests need (a database connection) does not.
    const controlOp = ctx.contract.byRole('key-set')[0]
    if (!controlOp) return { findings: [], skipped: 'the contract has no key-set read (JWKS) to time beside the victim\'s read as a control' }
    const controlPath = ctx.pathFor(controlOp, {})
    const flooderOp = readFor(ctx, flooder)
    const flooderPath = flooderOp ? ctx.pathFor(flooderOp, { accountId: flooder.accountId, workspaceId: flooder.workspaceId }) : readPath
    // Existing usernames of other accounts than the victim's, 2 per flood in turn: far below any per-username limit.
    const known = all.filter((u) => u.accountId !== victim.accountId && typeof u.username === 'string').map((u) => u.username!)
    const nobody = () => `ta-${ctx.topology.tag}-flood-${randomBytes(4).toString('hex')}@tenant-audit.test`
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const forged = () => `${b64({ alg: 'RS256', typ: 'JWT', kid: 'ta-forged' })}.${b64({ sub: 'ta-forged', account_id: flooder.accountId, exp: Math.floor(Date.now() / 1000) + 300 })}.${randomBytes(32).toString('base64url')}`
    const anon = (method: string, path: string, headers?: Record<string, string>, body?: unknown) =>
      ctx.as(ANONYMOUS).send({ method, path, headers, body, throttle: 'report', burst: true })
    const others: (() => Promise<HttpResponse>)[] = [
      () => anon('GET', flooderPath, { authorization: `Bearer ${forged()}` }),
      () => anon('GET', flooderPath, { authorization: `Bearer ${randomBytes(24).toString('base64url')}` }),
      () => anon('GET', `/ta-no-such-path-${randomBytes(3).toString('hex')}`),
      () => anon('PUT', flooderPath, { authorization: `Bearer ${forged()}` }, {}),
      () => anon('DELETE', ctx.profile.auth.tokenEndpoint),
    ]

    let knownUsed = 0
    type Kind = 'logins' | 'refusals'
    /** One flood: its answers, and how many of its logins were judged (reached the password check). */
    const flood = async (kind: Kind): Promise<{ answers: HttpResponse[]; judged: number; throttled?: HttpResponse }> => {
      if (kind === 'refusals') return { answers: await Promise.all(Array.from({ length: REFUSALS }, (_, i) => others[i % others.length]!())), judged: 0 }
      const answers = await Promise.all(Array.from({ length: LOGINS }, (_, i) => wrongLogin(ctx, i < 2 && known.length ? known[knownUsed++ % known.length]! : nobody(), { burst: true })))
      return { answers, judged: answers.filter((r) => r.status === 400 || r.status === 401).length, throttled: answers.find((r) => r.status === 429) }
    }
    const timed = async (send: () => Promise<HttpResponse>): Promise<{ ms: number; res: HttpResponse }> => {
      const t0 = performance.now()
      const res = await send()
      return { ms: performance.now() - t0, res }
    }
    /** The victim's read and, sent with it, the control: a public read that needs no tenant's data. */
    const read = async () => {
      const [victimRead, controlRead] = await Promise.all([
        timed(() => ctx.as(victim).send({ method: readOp.method.toUpperCase(), path: readPath, throttle: 'report' })),
        timed(() => ctx.as(ANONYMOUS).send({ method: 'GET', path: controlPath, throttle: 'report', burst: true })),
      ])
      return { ...victimRead, control: controlRead }
    }

    // Warm the connections and paths first: the first read pays for what later ones do not.
    const warm = await read()
    if (!ctx.expectServed(warm.res, `${victim.label}'s read before the flood`)) return { findings: [] }
    if (warm.control.res.status !== 200) return { findings: [], skipped: `the key set (${controlOp.id}), the control read, answered ${warm.control.res.status}` }

    // One failed login alone first: where the KDF is slow (serve's production cost, scrypt N=2^17, ~1–4 s each on a
    // loaded 2-core machine) a flood of LOGINS would outlast the request timeout before it measured anything.
    let single = await timed(() => wrongLogin(ctx, nobody()))
    // A lockout left by earlier traffic (the login checks before this one stop waiting as soon as this address may
    // log in again, which may be one failure short of its limit): waited out once where the window is short enough.
    const leftover = single.res.status === 429 ? retryAfter(single.res) : undefined
    if (leftover !== undefined && leftover <= MAX_WINDOW_WAIT_SECONDS) {
      await sleep((leftover + 0.25) * 1000)
      single = await timed(() => wrongLogin(ctx, nobody()))
    }
    if (single.res.status === 429) return { findings: [], skipped: 'a failed login was throttled before the flood began (a lockout from earlier traffic): no login flood to measure' }
    // What the login costs beyond the round trip (a far deployment's 1.2 s is no KDF): the control read, sent alone, is the round trip.
    const trip = (await timed(() => ctx.as(ANONYMOUS).send({ method: 'GET', path: controlPath, throttle: 'report', burst: true }))).ms
    const kdf = Math.max(0, single.ms - trip)
    if (trip + kdf * LOGINS / 2 > ctx.profile.budget.timeoutMs / 2) return { findings: [], skipped: `one failed login took ${single.ms.toFixed(0)} ms, ${kdf.toFixed(0)} ms more than a read needing no password: ${LOGINS} at once would outlast the ${ctx.profile.budget.timeoutMs} ms request timeout (a KDF this costly on this machine); run against a deployment with more cores, or a cheaper test KDF` }

    interface Series { loaded: number[]; base: number[]; control: number[]; statuses: Map<number, number>; judged: number; throttledRounds: number; evidence?: HttpResponse; worst: number }
    const series: Record<Kind, Series> = {
      logins: { loaded: [], base: [], control: [], statuses: new Map(), judged: 0, throttledRounds: 0, worst: -1 },
      refusals: { loaded: [], base: [], control: [], statuses: new Map(), judged: 0, throttledRounds: 0, worst: -1 },
    }
    /** When the last lockout a flood met ends (ms since the epoch): what the checks after this one must not meet. */
    let lockedUntil = 0
    let redos = 0
    /** When a login round refused for the login limiter's window may be redone (ms since the epoch). */
    let loginsResumeAt = 0
    // Login and refusal floods alternate, each kind judged on its own: a login flood's KDFs take CPU while a
    // refusal flood's requests queue for the database, and together they would be neither. While the login
    // window refills, the refusal rounds go on (they send no login); only with none left is the window waited for.
    for (let i = 0; series.logins.loaded.length < PAIRS || series.refusals.loaded.length < PAIRS; i++) {
      const refusalsDue = series.refusals.loaded.length < PAIRS
      let kind: Kind = series.logins.loaded.length < PAIRS && (series.logins.loaded.length <= series.refusals.loaded.length || !refusalsDue) ? 'logins' : 'refusals'
      if (kind === 'logins' && Date.now() < loginsResumeAt) {
        if (refusalsDue) kind = 'refusals'
        else await sleep(loginsResumeAt - Date.now())
      }
      const sr = series[kind]
      const floodFirst = sr.loaded.length % 2 === 1
      let alone: Awaited<ReturnType<typeof read>> | undefined
      if (!floodFirst) alone = await read()
      const running = flood(kind)
      await sleep(HEAD_START_MS)
      const during = await read()
      const f = await running
      if (floodFirst) { await sleep(50); alone = await read() }
      for (const [what, r] of [['alone', alone!], ['while flooded', during]] as const) {
        if (!ctx.expectServed(r.res, `${victim.label}'s read ${what}`)) return { findings: [], notes: [`${victim.label}'s read ${what} answered ${r.res.status}: no latency to compare`] }
      }
      if (f.throttled) {
        lockedUntil = Math.max(lockedUntil, Date.now() + Math.min(retryAfter(f.throttled) ?? MAX_FINAL_WAIT_SECONDS, MAX_FINAL_WAIT_SECONDS) * 1000)
        const wait = retryAfter(f.throttled) ?? MAX_WINDOW_WAIT_SECONDS
        // Most of the logins were refused before the password check: not the flood this kind measures. Redo the
        // round once the window has refilled, where the window is short enough to wait for.
        if (f.judged < LOGINS / 2 && wait <= MAX_WINDOW_WAIT_SECONDS && redos < MAX_REDOS) {
          redos++
          loginsResumeAt = Date.now() + (wait + 0.25) * 1000
          continue
        }
        sr.throttledRounds++
      }
      for (const r of f.answers) sr.statuses.set(r.status, (sr.statuses.get(r.status) ?? 0) + 1)
      sr.judged += f.judged
      sr.loaded.push(during.ms)
      sr.base.push(alone!.ms)
      sr.control.push(during.control.ms)
      if (during.ms > sr.worst) { sr.worst = during.ms; sr.evidence = during.res }
      await sleep(50)
    }

    // Logins after this check must not meet its lockout (the harness address's failed-login windows): what is left of it.
    if (lockedUntil > Date.now()) await sleep(lockedUntil - Date.now() + 500)

    const findings: FindingInput[] = []
    const notes: string[] = []
    for (const kind of ['logins', 'refusals'] as const) {
      const sr = series[kind]
      const v = slowdown(sr.loaded, sr.base, sr.control)
      const mix = [...sr.statuses].sort(([a], [b]) => a - b).map(([st, n]) => `${n}×${st}`).join(', ')
      const what = kind === 'logins'
        ? `${PAIRS} floods of ${LOGINS} failed logins at once (${sr.judged} judged in all; answers ${mix}${sr.throttledRounds ? `; ${sr.throttledRounds} floods mostly throttled` : ''}${redos ? `; ${redos} floods redone after the login window refilled` : ''})`
        : `${PAIRS} floods of ${REFUSALS} refused requests at once (forged and garbage tokens, unknown paths, methods a path does not take; answers ${mix})`
      const note = `${what}; ${victim.label}'s read: ${v.summary}`
      notes.push(note)
      if (v.slowed) {
        findings.push(findingOn(ctx, readOp, victim, sr.evidence, `cost-to-others|${kind}`, 'medium',
          `While anonymous callers flooded the target with ${kind === 'logins' ? 'failed logins' : 'refused requests'}, ${victim.label}'s allowed read of its own account was consistently many times slower than alone and than a key-set read sent with it, missing the noisy-neighbour goal: ${note}. The refused traffic holds something tenants' requests need${kind === 'logins' ? ' (a database connection during the password KDF?)' : ''}`))
      }
    }
    return { findings, notes }
  },
})
