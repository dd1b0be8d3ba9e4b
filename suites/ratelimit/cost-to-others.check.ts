import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { defineCheck } from '../../harness/core/check.js'
import { ANONYMOUS, users, type Actor } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { wrongLogin } from '../../harness/engine/members.js'
import { slowdown } from '../../harness/engine/timing.js'
import { findingAt, readFor, retryAfter, sleep, type QuotaTenant } from './quota.js'

/** Pairs (one read alone, one while the flood runs), alternating which comes first. */
const PAIRS = 8
/** Requests in one flood, released together: 10 failed logins and 10 other refusals. */
const LOGINS = 10
const OTHERS = 10
/** How long after the flood's release the victim's read goes out (the flood's requests are in by then). */
const HEAD_START_MS = 15
/** The longest a round waits for the login limiter's window so its logins reach the password check, and the most rounds redone for it. */
const MAX_WINDOW_WAIT_SECONDS = 12
const MAX_REDOS = 4
/** The longest the check waits at the end for the harness address's login lockout to end. */
const MAX_FINAL_WAIT_SECONDS = 60

/**
 * What a flood of refused requests costs another tenant (issue 13, "cost to others"; defect 2's
 * second half: the password KDF ran inside the database transaction, holding PGlite's one connection
 * or a pool connection while it hashed, so 20 concurrent logins made another tenant's GET wait
 * 310–595 ms). One tenant's reads are timed in adjacent pairs: alone, and while a flood of refusals
 * is in flight — failed logins for unknown and existing usernames, forged and garbage tokens, paths
 * that do not exist, methods a path does not take; 20 requests released together, 429s welcome. A
 * finding only when the noisy-neighbour goal of tenancy-audit-ratelimit.md §3.6 (item 4: the victim's
 * p95 ≤ max(1.5× baseline, baseline + 20 ms)) is missed *and* the paired statistic shows a large,
 * consistent slowdown (harness/engine/timing.ts `slowdown`: median pair ratio ≥ 3, 80 % of the
 * pairs agreeing, medians ≥ 100 ms apart); the samples are in the finding. A flood sent from the
 * same machine takes CPU from everyone, which the goal alone would call a finding; waiting behind
 * a held resource is many times worse, and consistent. The victim's reads must be served (a 401 or
 * 429 is no latency: inconclusive). The flooder's quota side is `ratelimit/refusals-charged`.
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
    const tenant: QuotaTenant = { accountId: victim.accountId!, label: victim.label, users: [victim], read: (u) => ({ op: readOp, path: ctx.pathFor(readOp, { accountId: u.accountId, workspaceId: u.workspaceId }) }) }
    const readPath = tenant.read(victim).path
    const flooderOp = readFor(ctx, flooder)
    const flooderPath = flooderOp ? ctx.pathFor(flooderOp, { accountId: flooder.accountId, workspaceId: flooder.workspaceId }) : readPath
    // Existing usernames of the flooder's side, each used at most PAIRS/known.length times: far below any per-username limit.
    const known = all.filter((u) => u !== victim && typeof u.username === 'string').map((u) => u.username!)
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
    /** One flood: its answers, and how many of its logins were judged (reached the password check). */
    const flood = async (): Promise<{ answers: HttpResponse[]; judged: number; throttled?: HttpResponse }> => {
      const logins = Array.from({ length: LOGINS }, (_, i) => wrongLogin(ctx, i < 2 && known.length ? known[knownUsed++ % known.length]! : nobody(), { burst: true }))
      const rest = Array.from({ length: OTHERS }, (_, i) => others[i % others.length]!())
      const answers = await Promise.all([...logins, ...rest])
      const loginAnswers = answers.slice(0, LOGINS)
      return { answers, judged: loginAnswers.filter((r) => r.status === 400 || r.status === 401).length, throttled: loginAnswers.find((r) => r.status === 429) }
    }
    const read = async (): Promise<{ ms: number; res: HttpResponse }> => {
      const t0 = performance.now()
      const res = await ctx.as(victim).send({ method: readOp.method.toUpperCase(), path: readPath, throttle: 'report' })
      return { ms: performance.now() - t0, res }
    }

    // Warm the victim's connection and path first: the first read pays for what later ones do not.
    const warm = await read()
    if (!ctx.expectServed(warm.res, `${victim.label}'s read before the flood`)) return { findings: [] }

    const loaded: number[] = []
    const base: number[] = []
    const statuses = new Map<number, number>()
    let judgedLogins = 0
    let throttledRounds = 0
    let lastThrottle: HttpResponse | undefined
    let evidence: HttpResponse | undefined
    let redos = 0
    for (let i = 0; loaded.length < PAIRS; i++) {
      const floodFirst = loaded.length % 2 === 1
      let alone: { ms: number; res: HttpResponse } | undefined
      if (!floodFirst) alone = await read()
      const running = flood()
      await sleep(HEAD_START_MS)
      const during = await read()
      const f = await running
      if (floodFirst) { await sleep(50); alone = await read() }
      for (const r of f.answers) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      for (const [what, r] of [['alone', alone!], ['while flooded', during]] as const) {
        if (!ctx.expectServed(r.res, `${victim.label}'s read ${what}`)) return { findings: [], notes: [`${victim.label}'s read ${what} answered ${r.res.status}: no latency to compare`] }
      }
      if (f.throttled) {
        lastThrottle = f.throttled
        const wait = retryAfter(f.throttled) ?? MAX_WINDOW_WAIT_SECONDS
        // Most of the logins were refused before the password check: a cheaper flood than the others. Redo the
        // round once the window has refilled, where the window is short enough to wait for.
        if (f.judged < LOGINS / 2 && wait <= MAX_WINDOW_WAIT_SECONDS && redos < MAX_REDOS) {
          redos++
          await sleep((wait + 0.25) * 1000)
          continue
        }
        throttledRounds++
      }
      judgedLogins += f.judged
      loaded.push(during.ms)
      base.push(alone!.ms)
      if (during.ms >= Math.max(...loaded)) evidence = during.res
      await sleep(50)
    }

    // Logins after this check must not meet its lockout (the harness address's failed-login windows).
    if (lastThrottle) await sleep((Math.min(retryAfter(lastThrottle) ?? MAX_FINAL_WAIT_SECONDS, MAX_FINAL_WAIT_SECONDS) + 0.5) * 1000)

    const v = slowdown(loaded, base)
    const mix = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${n}×${s}`).join(', ')
    const note = `${PAIRS} floods of ${LOGINS + OTHERS} refused requests (${LOGINS} failed logins, ${judgedLogins} of them judged in all; answers ${mix}${throttledRounds ? `; ${throttledRounds} rounds with logins throttled` : ''}${redos ? `; ${redos} rounds redone after the login window refilled` : ''}); ${victim.label}'s read: ${v.summary}`
    if (!v.slowed) return { findings: [], notes: [note] }
    return {
      findings: [findingAt(ctx, tenant, victim, evidence, 'cost-to-others', 'medium',
        `While anonymous callers flooded the target with refused requests (failed logins, forged and garbage tokens, bad paths and methods; ${LOGINS + OTHERS} at once), ${victim.label}'s allowed read of its own account was consistently many times slower than alone, missing the noisy-neighbour goal: ${note}. Refused traffic holds something every tenant needs (a database connection during the password KDF?)`)],
      notes: [note],
    }
  },
})
