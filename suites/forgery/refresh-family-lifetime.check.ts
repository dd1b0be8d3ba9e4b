import { ANONYMOUS } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import { forgeryCheck, noMemberReason, throwawaySession, victimWorkspace, type Session } from './shared.js'

/** The longest family lifetime the check waits out: a test deployment's, never a production one's. */
export const MAX_FAMILY_WAIT_SECONDS = 120
/** Past the family's end by this much before the last refresh (the server's `now()` is its transaction's start). */
const MARGIN_MS = 2_000

/**
 * A login's refresh tokens end at a fixed time after the login, however often they rotate (RFC 9700
 * §4.14.2: a refresh token's lifetime bounds how long a stolen one is useful; a rotation that slides it
 * lets a thief who keeps rotating stay signed in forever). Issue 13 s2.
 *
 * Why it waits: before the family's end a fixed and a sliding lifetime answer alike (each rotated token
 * lives the same time, and a `refresh_expires_in` shorter than the family's remaining life says nothing
 * either way), so the end is only seen by passing it. The profile declares the lifetime it expects
 * (`auth.refreshFamilyLifetimeSeconds`); where it is at most MAX_FAMILY_WAIT_SECONDS, a throwaway member
 * logs in, rotates its refresh token every few seconds up to just before the end, and presents the
 * newest one just after it: a 200 is the finding. Skipped when the lifetime is not declared, too long,
 * or the target issues no refresh token; a rotation refused *before* the declared end is a profile that
 * does not match the deployment, skipped with that reason, never a finding.
 */
export const refreshFamilyLifetime = forgeryCheck({
  name: 'refresh-family-lifetime',
  title: "A login's refresh tokens outlive the family's absolute lifetime by being rotated",
  severity: 'high',
  cwe: 613,
  docs: 'RFC 9700 §4.14.2 (refresh-token lifetime and rotation); RFC 6749 §5.2 (invalid_grant); profile auth.refreshFamilyLifetimeSeconds; issue 13 s2; fault refresh-family-endless (short family lifetime only: test/refresh-family.test.ts)',
  async attack(scene) {
    const { ctx } = scene
    const lifetime = ctx.profile.auth.refreshFamilyLifetimeSeconds
    if (lifetime === undefined) return 'the profile declares no refresh-token family lifetime (auth.refreshFamilyLifetimeSeconds): a fixed and a sliding one answer alike until the end is passed, and nothing says when that is'
    if (lifetime > MAX_FAMILY_WAIT_SECONDS) return `the declared refresh-token family lifetime (${lifetime} s) is too long to wait out (at most ${MAX_FAMILY_WAIT_SECONDS} s; a test deployment can run it short)`
    const ws = victimWorkspace(scene)
    const got = await throwawaySession(ctx, ws, 'viewer', `${ws.label}.throwaway-refresh-family`)
    if (!got) return noMemberReason(ctx)
    ctx.retire(got.session.access_token)
    // A login of its own, timed: the family starts between sending it and its answer, so it ends
    // between `earliest` and `latest` (harness clock), however slow the target is to answer.
    const sentAt = Date.now()
    const session = await got.login()
    const loggedIn = Date.now()
    if (!session) return 'the throwaway member could not log in again: no fresh login to follow'
    ctx.retire(session.access_token)
    if (!session.refresh_token) return `the token endpoint (${ctx.profile.auth.tokenEndpoint}) issued no refresh token to a password grant: no family to outlive`
    const earliest = sentAt + lifetime * 1000
    const latest = loggedIn + lifetime * 1000

    const refresh = async (token: string): Promise<{ status: number; refresh?: string; res: HttpResponse }> => {
      const res = await ctx.as(ANONYMOUS).send({
        method: 'POST', path: ctx.profile.auth.tokenEndpoint,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
      })
      const body = res.json as Session | undefined
      if (res.status === 200 && typeof body?.access_token === 'string') ctx.retire(body.access_token)
      return { status: res.status, refresh: res.status === 200 ? body?.refresh_token : undefined, res }
    }
    const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())))

    // Rotations spread over the family's life, the last a little before its end: each one would slide a sliding end.
    const step = Math.min(10_000, Math.max(1_000, (lifetime * 1000) / 4))
    let token = session.refresh_token
    let rotations = 0
    for (let at = loggedIn + step; at < earliest - 1_000; at += step) {
      await sleepUntil(at)
      const sent = Date.now()
      const r = await refresh(token)
      if (r.status !== 200) {
        if (Date.now() >= earliest) break // answered after the end may have passed: the refusal may be the end itself
        return `a refresh ${Math.round((sent - loggedIn) / 1000)} s into a login was refused (${r.status}), before the declared family lifetime of ${lifetime} s: the profile does not match the deployment`
      }
      if (!r.refresh) return 'a refresh answered without a new refresh token: the target does not rotate them (a family with no rotation has no end to slide)'
      token = r.refresh
      rotations++
    }
    await sleepUntil(latest + MARGIN_MS)
    const past = await refresh(token)
    if (past.status === 200) {
      scene.findings.push({
        message: `a refresh token was honoured ${Math.round((Date.now() - loggedIn) / 1000)} s after its login, past the declared family lifetime of ${lifetime} s (after ${rotations} rotations): rotation slides the login's end, so a refresh token kept rotating never expires (RFC 9700 §4.14.2)`,
        severity: 'high', dedupKey: 'family-outlived', actor: got.member.label, evidence: past.res.evidence,
      })
    }
  },
})
