import { ANONYMOUS } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import { forgeryCheck, throwawaySession, victimWorkspace, noMemberReason, type Session } from './shared.js'

/**
 * Single-use refresh tokens under concurrency (RFC 9700 §4.14.2, rotation with reuse detection; no
 * catalog id in forgery.md covers it, RPL-04 is its sequential cousin): a throwaway member's
 * refresh token is sent WIDTH times at once (at most one may be honoured), and a rotated-away token
 * is replayed at the same moment as its child is refreshed (the family revocation that replay sets
 * off must reach the grandchild that refresh issues). Each race is tried TRIALS times with a fresh
 * login, so a race that wins one time in ten shows with good odds; the first win ends the tries.
 *
 * Preconditions, each a skip: the target issues refresh tokens, and rotates them (a refresh token
 * honoured twice one after the other has nothing single-use to race: a reuse interval, or no
 * rotation at all). The embedded reference server runs on PGlite, one transaction at a time: no
 * race can show there, and the check says so instead of passing.
 */
const WIDTH = 8
const TRIALS = 10

interface Grant { status: number; refresh?: string; res: HttpResponse }

export const refreshRace = forgeryCheck({
  name: 'refresh-race',
  title: 'A single-use refresh token is honoured twice when sent twice at once, or a revoked family lives on through a concurrent refresh',
  cwe: 362,
  docs: 'RFC 9700 §4.14.2 (refresh-token rotation and reuse detection, raced); forgery.md RPL-04 is the sequential case; issue 13 defect 1; fault refresh-token-race (real Postgres only)',
  async attack(scene) {
    const { ctx } = scene
    if (ctx.settings.raceless) return ctx.settings.raceless
    const ws = victimWorkspace(scene)
    const got = await throwawaySession(ctx, ws, 'viewer', `${ws.label}.throwaway-refresh-race`)
    if (!got) return noMemberReason(ctx)
    ctx.retire(got.session.access_token)
    if (!got.session.refresh_token) return `the token endpoint (${ctx.profile.auth.tokenEndpoint}) issued no refresh token to a password grant: nothing single-use to race`
    const login = async (): Promise<string | undefined> => {
      const s = await got.login()
      if (s) ctx.retire(s.access_token)
      return s?.refresh_token
    }
    const refresh = async (token: string, burst = false): Promise<Grant> => {
      const res = await ctx.as(ANONYMOUS).send({
        method: 'POST', path: ctx.profile.auth.tokenEndpoint, throttle: 'report', burst,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
      })
      const body = res.json as Session | undefined
      if (res.status === 200 && typeof body?.access_token === 'string') ctx.retire(body.access_token)
      return { status: res.status, refresh: res.status === 200 ? body?.refresh_token : undefined, res }
    }

    // Rotation, one request at a time: a new refresh token, and the old one refused afterwards.
    const r1 = await refresh(got.session.refresh_token)
    if (r1.status !== 200) return `the refresh grant refused a fresh refresh token (${r1.status}): no control for the race`
    if (!r1.refresh) return 'a refresh answered without a new refresh token: the target does not rotate them (nothing single-use to race)'
    const reused = await refresh(got.session.refresh_token)
    if (reused.status === 200) return 'a rotated refresh token was honoured again one request later (no rotation, or a reuse interval): nothing single-use to race'

    let raced = 0
    for (let trial = 0; trial < TRIALS && raced === 0; trial++) {
      const token = await login()
      if (!token) return 'the throwaway member could not log in again: no fresh refresh token to race'
      const answers = await Promise.all(Array.from({ length: WIDTH }, () => refresh(token, true)))
      const won = answers.filter((a) => a.status === 200)
      if (won.length > 1) {
        raced++
        scene.findings.push({
          message: `one refresh token was honoured ${won.length} times when sent ${WIDTH} times at once (try ${trial + 1} of ${TRIALS}): every copy is a new, independent login (RFC 9700 §4.14.2)`,
          severity: 'high', dedupKey: 'double-spend', actor: got.member.label, evidence: won[1]!.res.evidence,
        })
      }
    }

    let escaped = 0
    for (let trial = 0; trial < TRIALS && escaped === 0; trial++) {
      const r0 = await login()
      if (!r0) return 'the throwaway member could not log in again: no fresh refresh token to race'
      const child = await refresh(r0)
      if (!child.refresh) continue
      // The replayed parent revokes the family; its child is refreshed at the same moment.
      const [, grandchild] = await Promise.all([refresh(r0, true), refresh(child.refresh, true)])
      if (!grandchild.refresh) continue
      const after = await refresh(grandchild.refresh)
      if (after.status === 200) {
        escaped++
        scene.findings.push({
          message: `a refresh-token family revoked by the replay of a rotated token lived on: the child refreshed at the same moment got a grandchild that still worked afterwards (try ${trial + 1} of ${TRIALS}; RFC 9700 §4.14.2)`,
          severity: 'high', dedupKey: 'family-escape', actor: got.member.label, evidence: after.res.evidence,
        })
      }
    }
  },
})
