import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { retryAfterMs } from '../../harness/adapters/rate-headers.js'
import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { users, type Actor } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { wrongLogin } from '../../harness/engine/members.js'
import { timingOracle, type TimingVerdict } from '../../harness/engine/timing.js'

/** Pairs per variant; each known user takes at most PER_USER of them (below any sane per-username failure limit). */
const SAMPLES = 10
const PER_USER = 3
/** The most a throttled sample is waited for before the check gives up (seconds): one per-address window of a minute. */
const MAX_WAIT_SECONDS = 65

/**
 * Login timing tells which e-mails exist (issue 13 defect 3; OWASP Authentication Cheat Sheet,
 * "authentication responses"; an existence oracle across tenants: another tenant's users' e-mails).
 * Wrong-password logins for a provisioned user's e-mail and for an e-mail that exists nowhere are
 * sent interleaved (A B B A …, so drift and load hit both alike), once plainly and once with a
 * workspace the user is not a member of (where a server may answer before it hashes). A finding only
 * for a large, consistent difference (harness/engine/timing.ts: the median pair ratio ≥ 2, 80 % of
 * the pairs agreeing, medians 15 ms apart); the samples are in the finding. Never a timed assertion: a loaded machine slows both cases alike.
 */
export const loginTiming = defineCheck<CheckContext>({
  id: 'access/login-timing',
  suite: 'access',
  title: 'The time a failed login takes tells whether the e-mail exists',
  severity: 'medium', cwe: 208, owasp: 'API2:2023',
  // Alone: it spends the harness address's login windows (other checks' logins would meet its lockouts), and it times answers.
  exclusive: true,
  docs: 'issue 13 defect 3 (known e-mail with a foreign workspace skipped the KDF); OWASP Authentication Cheat Sheet (generic, constant-time authentication responses); CWE-208; fault login-timing-oracle',
  async run(ctx) {
    const known = users(ctx.topology).filter((u): u is Actor & { username: string } => typeof u.username === 'string')
    if (known.length < 2) return { findings: [], skipped: 'the topology has fewer than two users with a known login name' }
    const foreignWs = (u: Actor) => ctx.topology.accounts.find((a) => a.id !== u.accountId)?.workspaces[0]?.id
    // Each variant its own users (a user's failures stay under any per-username limit); the second, where a
    // server may answer before it hashes, takes a workspace of another account than the user's.
    const wsParam = ctx.profile.auth.workspaceParam
    const pool = (offset: number) => Array.from({ length: Math.ceil(SAMPLES / PER_USER) }, (_, i) => known[(offset + i) % known.length]!)
    const variants: { name: string; users: (Actor & { username: string })[]; foreign: boolean }[] = [{ name: 'wrong password', users: pool(0), foreign: false }]
    if (wsParam) variants.push({ name: `wrong password, ${wsParam} of another account`, users: pool(Math.ceil(SAMPLES / PER_USER)), foreign: true })

    const findings: FindingInput[] = []
    const notes: string[] = []
    for (const v of variants) {
      // A new unknown e-mail per pair: one unknown username must not meet the per-username limit either.
      const nobody = () => `ta-${ctx.topology.tag}-nobody-${randomBytes(4).toString('hex')}@tenant-audit.test`
      const sample = async (username: string, workspace: string | undefined): Promise<{ ms: number; res: HttpResponse } | string> => {
        for (let waited = 0; ;) {
          const t0 = performance.now()
          const res = await wrongLogin(ctx, username, { workspaceId: workspace })
          const ms = performance.now() - t0
          if (res.status !== 429) return res.status === 400 || res.status === 401 ? { ms, res } : `a wrong password answered ${res.status}, not a login failure`
          // Throttled: not a sample. Wait the window out (the answer's own time is not measured).
          const wait = Math.max(1, Math.ceil((retryAfterMs(res.headers['retry-after']) ?? 1000) / 1000))
          if ((waited += wait) > MAX_WAIT_SECONDS) return `the token endpoint stayed throttled for ${MAX_WAIT_SECONDS} s`
          await new Promise((r) => setTimeout(r, wait * 1000))
        }
      }
      const a: number[] = []
      const b: number[] = []
      let evidence: HttpResponse | undefined
      let user = v.users[0]!
      for (let i = 0; i < SAMPLES; i++) {
        user = v.users[Math.floor(i / PER_USER)]!
        const workspace = v.foreign ? foreignWs(user) : undefined
        const order = i % 2 === 0 ? [true, false] : [false, true]
        for (const isKnown of order) {
          const s = await sample(isKnown ? user.username : nobody(), workspace)
          if (typeof s === 'string') return { findings: [], skipped: s }
          ;(isKnown ? a : b).push(s.ms)
          if (isKnown) evidence = s.res
        }
      }
      const verdict: TimingVerdict = timingOracle(a, b)
      notes.push(`${v.name}: ${verdict.summary}`)
      if (verdict.oracle) {
        findings.push({
          message: `failed logins for existing e-mails (${[...new Set(v.users.map((u) => u.label))].join(', ')}) and one that exists nowhere take measurably different times (${v.name}): ${verdict.summary}; the e-mails of every tenant's users can be enumerated`,
          severity: 'medium', dedupKey: `login-timing|${v.foreign ? 'foreign-workspace' : 'plain'}`, actor: 'anonymous', victim: user.label,
          evidence: evidence?.evidence,
        })
      }
    }
    return { findings, notes }
  },
})
