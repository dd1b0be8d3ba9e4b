import { randomUUID } from 'node:crypto'
import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { attempt, sceneFor, testIssuerFor, victimClaims, type Scene } from '../../harness/forge/scene.js'
import { decode } from '../../harness/forge/jwt.js'
import { forgeryCheck, noMemberReason, throwawaySession, victimWorkspace } from './shared.js'

const SKEWS = [1, 30, 60, 120, 300, 600]

/**
 * CLM-01 to CLM-04, CLM-06 (test issuer, KT): expired, not yet valid (`nbf`, `iat` in the future) and
 * overlong tokens with the victim's claims, then a clock-skew probe: tokens expired k seconds ago
 * (k ∈ 1…600 s) on a read; the largest accepted k must not exceed `forgery.maxClockSkewSeconds`.
 * Where access tokens live briefly (a deployment's own, no test issuer needed), CLM-01 is also shown
 * with a genuine token: a throwaway member's, kept until it has expired plus the allowed skew.
 */
const forgery = forgeryCheck({
  name: 'token-lifetime',
  title: 'An expired, not-yet-valid or overlong token is accepted',
  docs: 'forgery.md CLM-01 (expired), CLM-02 (nbf future), CLM-03 (iat future), CLM-04 (excessive lifetime), CLM-06 (clock-skew probe); RFC 7519 §4.1.4-6; capability: forgery.testIssuer; fault exp-not-checked',
  async attack(scene) {
    const natural = await naturalExpiry(scene)
    const kt = await testIssuerFor(scene)
    if ('reason' in kt) return natural === undefined ? undefined : `${kt.reason}; ${natural}`
    const { sign } = kt
    const now = Math.floor(Date.now() / 1000)
    const v = victimClaims(scene)
    const life = Number(v.exp) - Number(v.iat)
    const maxSkew = scene.ctx.profile.forgery.maxClockSkewSeconds
    const past = maxSkew + 60
    await attempt(scene, { name: `expired ${past} s ago`, catalog: 'CLM-01', token: sign({ ...v, iat: now - past - life, exp: now - past }), expect: 'reject' })
    await attempt(scene, { name: 'expired a day ago', catalog: 'CLM-01', token: sign({ ...v, iat: now - 86_400 - life, exp: now - 86_400 }), expect: 'reject' })
    await attempt(scene, { name: `nbf ${maxSkew + 60} s in the future`, catalog: 'CLM-02', token: sign({ ...v, nbf: now + maxSkew + 60 }), expect: 'reject' })
    await attempt(scene, { name: 'iat an hour in the future', catalog: 'CLM-03', token: sign({ ...v, iat: now + 3600, exp: now + 3600 + life }), expect: 'reject' })
    await attempt(scene, { name: 'exp ten years out', catalog: 'CLM-04', token: sign({ ...v, exp: now + 10 * 365 * 86_400 }), expect: 'reject' })
    await attempt(scene, { name: 'lifetime of two days (exp − iat)', catalog: 'CLM-04', token: sign({ ...v, iat: now - 60, exp: now + 2 * 86_400 }), expect: 'reject' })
    note(scene.ctx, await skewProbe(scene, sign, life, maxSkew))
  },
})

// The skew a deployment accepts is worth knowing even when it is within bounds: the probe's
// result travels as a note on the outcome (keyed by the run's context, one per check run), and so
// does how the genuine token's expiry was shown.
const skewNotes = new WeakMap<CheckContext, string[]>()
const note = (ctx: CheckContext, line: string) => skewNotes.set(ctx, [...(skewNotes.get(ctx) ?? []), line])

export const tokenLifetime: CheckDefinition<CheckContext> = {
  ...forgery,
  headStart: expiringEarly,
  async run(ctx) {
    const outcome = await forgery.run(ctx)
    const notes = skewNotes.get(ctx)
    skewNotes.delete(ctx)
    return notes && !outcome.skipped ? { ...outcome, notes: [...(outcome.notes ?? []), ...notes] } : outcome
  },
}

/** The probe's result in one line: the largest skew accepted and the next one refused (no token in it). */
export function skewNote(accepted: readonly number[], refused: readonly number[], maxSkew: number): string {
  const allows = `the profile allows ${maxSkew} s`
  const largest = accepted.length ? Math.max(...accepted) : undefined
  if (largest === undefined) return `clock skew: refused an access token expired ${Math.min(...refused)} s ago, the smallest skew tried (${allows})`
  const next = refused.filter((k) => k > largest)
  return next.length
    ? `clock skew: accepted an access token expired ${largest} s ago; refused ${Math.min(...next)} s (${allows})`
    : `clock skew: accepted an access token expired ${largest} s ago, the largest skew tried (${allows})`
}

/** CLM-06: the largest k for which a token expired k seconds ago is still accepted on a read; returns the note. */
async function skewProbe(scene: Scene, sign: (p: object) => string, life: number, maxSkew: number): Promise<string> {
  let largest = 0
  let evidence
  const accepted: number[] = []
  const refused: number[] = []
  for (const k of SKEWS) {
    const now = Math.floor(Date.now() / 1000)
    const token = sign({ ...victimClaims(scene), iat: now - k - life, exp: now - k, jti: randomUUID() })
    const res = await scene.ctx.as({ label: scene.attacker.label, kind: 'user', actorKind: 'viewer', token }).get(scene.readPath)
    if (res.status >= 200 && res.status < 300) {
      largest = k
      evidence = res.evidence
      accepted.push(k)
    } else refused.push(k)
  }
  if (largest > maxSkew) {
    scene.findings.push({
      message: `clock-skew probe: a token expired ${largest} s ago is still accepted (largest accepted skew ${largest} s; the profile allows ${maxSkew} s) [CLM-06]`,
      severity: 'high', dedupKey: 'skew', actor: scene.attacker.label, evidence,
      operation: { method: scene.read.method.toUpperCase(), pathTemplate: scene.read.path, operationId: scene.read.id },
    })
  }
  return skewNote(accepted, refused, maxSkew)
}

/** The longest the check waits for a genuine token to expire: deployments with short-lived tokens only. */
const NATURAL_WAIT_MS = 90_000

/** The head start's result: the throwaway member's access token, held since the run's first suite began. */
interface Expiring { token: string }

/** The throwaway member's genuine access token, never renewed; undefined when none could be had. */
async function expiringToken(ctx: CheckContext, scene: Scene): Promise<string | undefined> {
  const ws = victimWorkspace(scene)
  const got = await throwawaySession(ctx, ws, 'editor', `${ws.label}.throwaway-expiring`)
  if (!got) return undefined
  ctx.retire(got.session.access_token) // kept as it is: the adapter must never renew it
  return got.session.access_token
}

/**
 * The head start: where the provisioned tokens live briefly enough to wait for one to expire (a
 * deployment's own 60-second tokens), the throwaway member logs in when the run begins, so its token
 * has expired, or nearly, by the time the forgery suite gets here (the blind target's: 72 s of waiting
 * gone). Nothing where tokens live long (nothing would be waited for) or the scene is missing.
 */
async function expiringEarly(ctx: CheckContext): Promise<Expiring | undefined> {
  const scene = sceneFor(ctx)
  if ('reason' in scene) return undefined
  const { exp, iat } = scene.victimToken.payload
  if (typeof exp !== 'number' || typeof iat !== 'number' || (exp - iat + ctx.profile.forgery.maxClockSkewSeconds + 2) * 1000 > NATURAL_WAIT_MS) return undefined
  const token = await expiringToken(ctx, scene)
  return token === undefined ? undefined : { token }
}

/**
 * CLM-01 with a genuine token: a throwaway member of the victim's workspace logs in (at the head
 * start, where it ran), its access token is kept (never renewed) until `exp` plus the profile's
 * allowed skew has passed, then replayed on the victim's update route. Undefined when it ran;
 * otherwise why it could not.
 */
async function naturalExpiry(scene: Scene): Promise<string | undefined> {
  const { ctx } = scene
  const early = ctx.headStart as Expiring | undefined
  const token = early?.token ?? (await expiringToken(ctx, scene))
  if (token === undefined) return noMemberReason(ctx)
  const exp = Number(decode(token)?.payload.exp)
  const skew = ctx.profile.forgery.maxClockSkewSeconds
  if (!Number.isFinite(exp)) return 'the access token carries no exp to wait for'
  const wait = (exp + skew + 2) * 1000 - Date.now()
  if (wait > NATURAL_WAIT_MS) return `its access tokens live too long to wait for one to expire (${Math.round(wait / 1000)} s with the allowed skew of ${skew} s)`
  await new Promise((r) => setTimeout(r, Math.max(0, wait)))
  note(ctx, `expiry: a throwaway member's genuine access token, ${early ? 'obtained when the run began (head start)' : 'obtained by this check'}, replayed at least ${skew + 2} s after its exp`)
  // On the read its owner may call, so an accepted token is a 2xx, not a refusal for the role.
  await attempt(scene, { name: `a genuine access token ${skew + 2} s after its exp`, catalog: 'CLM-01', token, expect: 'reject', at: { method: scene.read.method.toUpperCase(), path: scene.readPath } })
  return undefined
}
