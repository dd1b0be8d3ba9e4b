/**
 * The stage every forgery check plays on: an attacker in one account, a victim in another, one of the
 * victim's objects and the contract's update and read operations on it (found through `x-tenancy`),
 * and the victim's own claims (P*, forgery.md §0) for forged tokens to carry. `attempt` sends one
 * token to the victim's mutating route and judges it (forgery.md §0 "Expected outcomes"):
 * - `reject` (REJ): 401 with `WWW-Authenticate: Bearer error="invalid_token"`;
 * - `deny` (REJ or FORBID): 401 as above, or one of the profile's denial statuses;
 * and in both cases a generic body. `settle` reads the object back as its owner (no state change) and
 * checks the loopback listener saw no hit; that read-back is also every attempt's positive control
 * (a refusal counts only while the victim's genuine token is served), so when it is not a 2xx the
 * check is inconclusive.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { ANONYMOUS, type Actor, type SeededObject } from '../core/topology.js'
import { expected, type OpTarget } from '../core/oracle.js'
import type { FindingInput } from '../core/finding.js'
import type { Severity } from '../core/severity.js'
import { toCurl } from '../core/curl.js'
import type { HttpResponse } from '../adapters/http.js'
import type { CheckContext } from '../engine/context.js'
import type { Op } from '../engine/judge.js'
import { objectParam } from '../engine/targets.js'
import { bodyFromSchema } from '../provision/bodies.js'
import { decode, tokenDigest, type DecodedToken } from './jwt.js'
import type { KeyListener } from './listener.js'
import { testIssuerOf, type TestIssuer } from './issuer.js'

export interface Scene {
  ctx: CheckContext
  attacker: Actor & { token: string }
  victim: Actor & { token: string }
  object: SeededObject
  target: OpTarget
  update: Op
  read: Op
  path: string
  readPath: string
  attackerToken: DecodedToken
  victimToken: DecodedToken
  /** Markers written by attempts, with the attempt that wrote each. */
  markers: Map<string, string>
  findings: FindingInput[]
  /** Attempts sent so far. */
  sent: number
}

export type Verdict = 'reject' | 'deny'

export interface Attempt {
  /** What was sent, e.g. `alg "None", old signature kept`. */
  name: string
  /** Catalog id(s), e.g. `SIG-03`. */
  catalog: string
  /** The bearer token; or `authorization` for a raw header value; neither sends no Authorization. */
  token?: string
  authorization?: string
  headers?: Record<string, string>
  query?: Record<string, string>
  expect: Verdict
  /** Severity when the target accepts it (default critical). */
  severity?: Severity
  /** Statuses besides the verdict's that are a correct refusal (e.g. 431 for an oversized header). */
  alsoAllowed?: number[]
  /** Another request than the victim's update (e.g. a read): no marker is written. */
  at?: { method: string; path: string }
}

/** The scene, or why the target cannot host one (the check is then skipped with that reason). */
export function sceneFor(ctx: CheckContext): Scene | { reason: string } {
  const t = ctx.topology
  const withToken = (a: Actor): a is Actor & { token: string } => a.kind === 'user' && typeof a.token === 'string' && decode(a.token) !== undefined
  for (const update of ctx.contract.annotated.filter((op) => op.tenancy.scope === 'workspace' && op.verb === 'update' && objectParam(t, op))) {
    const read = ctx.contract.byResource(update.resource, 'read').find((op) => op.tenancy.scope === 'workspace' && objectParam(t, op))
    if (!read) continue
    for (const object of t.objects.filter((o) => o.resource === update.resource && !o.private)) {
      const target: OpTarget = { accountId: object.accountId, workspaceId: object.workspaceId, object }
      const victims = t.actors.filter(withToken).filter((a) => expected(update, a, target) === 'allow' && expected(read, a, target) === 'allow' && a.workspaceId === object.workspaceId)
      const victim = victims.find((a) => a.label === object.ownerLabel) ?? victims[0]
      const attacker = t.actors.filter(withToken).find((a) => a.accountId !== object.accountId)
      if (!victim || !attacker) continue
      return {
        ctx, attacker, victim, object, target, update, read,
        path: ctx.pathFor(update, target, { [objectParam(t, update)!]: object.id }),
        readPath: ctx.pathFor(read, target, { [objectParam(t, read)!]: object.id }),
        attackerToken: decode(attacker.token)!, victimToken: decode(victim.token)!,
        markers: new Map(), findings: [], sent: 0,
      }
    }
  }
  return { reason: 'no workspace object with update and read operations, a member token of its workspace and a user of another account (two accounts and JWT access tokens needed)' }
}

/** P*: the victim's claims, freshly timed and with a new jti, for a forged or test-issuer token. */
export function victimClaims(scene: Scene, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const p = scene.victimToken.payload
  const now = Math.floor(Date.now() / 1000)
  const life = typeof p.exp === 'number' && typeof p.iat === 'number' ? Math.min(p.exp - p.iat, 900) : 300
  return { ...p, iat: now, exp: now + life, ...('jti' in p ? { jti: randomUUID() } : {}), ...extra }
}

/** The attacker's header with another alg/kid and extras (typ and other members kept). */
export function headerLike(scene: Scene, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...scene.attackerToken.header, ...extra }
}

/** The test issuer, with the control done: a well-formed victim token it signs must be accepted on a read. */
export async function testIssuerFor(scene: Scene): Promise<{ issuer: TestIssuer; sign(payload: string | object, header?: string | object): string } | { reason: string }> {
  const got = testIssuerOf(scene.ctx.profile)
  if ('reason' in got) return got
  const { issuer } = got
  const sign = (payload: string | object, header?: string | object) => issuer.signRaw(header ?? headerLike(scene, { alg: issuer.alg, kid: issuer.kid }), payload)
  const control = await send(scene, { authorization: `Bearer ${sign(victimClaims(scene))}` }, 'GET', scene.readPath)
  if (control.status < 200 || control.status > 299) {
    return { reason: `the target refused a well-formed token signed by the test issuer (control read answered ${control.status}): is ${scene.ctx.profile.forgery.testIssuer?.privateJwkEnv} a key it trusts?` }
  }
  return { issuer, sign }
}

async function send(scene: Scene, a: Pick<Attempt, 'token' | 'authorization' | 'headers' | 'query'>, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...a.headers }
  const authorization = a.authorization ?? (a.token !== undefined ? `Bearer ${a.token}` : undefined)
  if (authorization !== undefined) headers.authorization = authorization
  return scene.ctx.as(ANONYMOUS).send({ method, path, headers, query: a.query, body })
}

// Key material or a verifier's expectation in an error body: PEM, private or symmetric JWK members, or a
// base64url run as long as a 256-bit value (an expected signature, a key, a token segment).
const KEY_MATERIAL = /-----BEGIN|"(?:d|k|p|q|dp|dq|qi)"\s*:|[A-Za-z0-9_-]{43,}/

/** Sends one attempt to the victim's update route and records a finding when the verdict is wrong. */
export async function attempt(scene: Scene, a: Attempt): Promise<HttpResponse> {
  const { ctx } = scene
  const marker = `ta-forged-${randomBytes(5).toString('hex')}`
  scene.markers.set(marker, a.name)
  const body = a.at ? undefined : markedBody(ctx, scene.update, marker)
  const res = a.at ? await send(scene, a, a.at.method, a.at.path) : await send(scene, a, scene.update.method.toUpperCase(), scene.path, body)
  scene.sent++
  const challenge = res.headers['www-authenticate'] ?? ''
  // No credential at all may be answered with a bare `Bearer` challenge (RFC 6750 §3.1).
  const bare = a.token === undefined && a.authorization === undefined && !a.query?.access_token
  const invalidToken = /^\s*Bearer\b/i.test(challenge) && (bare || /error="invalid_token"/.test(challenge))
  // A valid token of a member denied in its own workspace (demoted, removed) may be refused as
  // unauthenticated or for its role: 403 for a wrong role at home whatever the foreign-object statuses.
  const allowed = [...(a.expect === 'deny' ? [401, 403, ...ctx.profile.denial.statuses] : [401]), ...(a.alsoAllowed ?? [])]
  const what = `${a.name} [${a.catalog}]`
  let problem: { message: string; severity: Severity; key: string } | undefined
  const route = a.at ? `${a.at.method} ${a.at.path}` : `${scene.update.method.toUpperCase()} ${scene.update.path}`
  if (res.status >= 200 && res.status < 400) {
    problem = { message: `accepted: ${what} — ${route} on ${scene.object.label} answered ${res.status} (expected ${a.expect === 'reject' ? '401 invalid_token' : `401 or ${ctx.profile.denial.statuses.join('/')}`})`, severity: a.severity ?? 'critical', key: 'accepted' }
  } else if (res.status >= 500) {
    problem = { message: `server error: ${what} answered ${res.status} (a forged token must be refused with 401, never 5xx)`, severity: 'medium', key: 'server-error' }
  } else if (!allowed.includes(res.status)) {
    problem = { message: `refused with ${res.status}, not 401: ${what} (a token that fails verification is invalid_token, RFC 6750 §3.1)`, severity: 'low', key: 'wrong-status' }
  } else if (res.status === 401 && !invalidToken) {
    problem = { message: `401 without WWW-Authenticate: Bearer error="invalid_token": ${what} (RFC 6750 §3.1)`, severity: 'low', key: 'no-challenge' }
  } else if (leaksMaterial(res.body, a)) {
    problem = { message: `the refusal of ${what} carries key material, a token segment or a signature (CVE-2019-7644: the error must be generic)`, severity: 'high', key: 'error-oracle' }
  }
  // The attacker's own valid token refused abroad counts only if the target still serves it at home.
  if (a.token !== undefined && a.token === scene.attacker.token && res.status >= 400 && res.status < 500) {
    ctx.noteRefused(scene.attacker, a.at ? scene.read : scene.update, scene.target)
  }
  if (problem) {
    scene.findings.push({
      message: problem.message, severity: problem.severity, dedupKey: `${problem.key}|${a.catalog}|${a.name}`,
      // How a forged token was refused means something only while genuine tokens are served.
      restsOnRefusal: problem.key === 'wrong-status' || problem.key === 'no-challenge',
      actor: scene.attacker.label, victim: scene.object.ownerLabel, evidence: res.evidence,
      operation: { method: scene.update.method.toUpperCase(), pathTemplate: scene.update.path, operationId: scene.update.id },
      repro: { seed: ctx.settings.seed, curl: toCurl(res.evidence.request) },
    })
  }
  return res
}

/** An update body from the schema with the marker in its first free-text field, so a change can be read back. */
export function markedBody(ctx: CheckContext, op: Op, marker: string): unknown {
  const schema = op.requestSchema ?? {}
  const body = bodyFromSchema(ctx.contract, schema, { label: marker, canary: marker })
  if (!body || typeof body !== 'object') return body
  const props = (ctx.contract.resolve(schema).properties ?? {}) as Record<string, unknown>
  for (const [key, sub] of Object.entries(props)) {
    const r = ctx.contract.resolve(sub)
    if (r.type === 'string' && r.enum === undefined && r.format === undefined && !/mail|password|role|id$/i.test(key)) {
      ;(body as Record<string, unknown>)[key] = bodyFromSchema(ctx.contract, sub, { label: marker, canary: marker }, key)
      break
    }
  }
  return body
}

function leaksMaterial(body: string, a: Attempt): boolean {
  const token = a.token ?? a.authorization?.replace(/^\S+\s+/, '') ?? ''
  const parts = token.split(/[.\s,]/).filter((s) => s.length >= 16)
  // Identifiers a problem body legitimately carries (requestId, traceId, instance) are not key material.
  const scanned = body.replace(/"(?:\w*[Ii]d|trace\w*|instance)"\s*:\s*"[^"]*"/g, '""')
  return KEY_MATERIAL.test(scanned) || parts.some((s) => body.includes(s))
}

/**
 * After the attempts: the owner reads the object back — no marker may have landed (no state change) —
 * and the loopback listener must have seen no request. Returns the check's findings.
 */
export async function settle(scene: Scene, listener?: KeyListener): Promise<FindingInput[]> {
  const res = await scene.ctx.as(scene.victim).get(scene.readPath)
  // The positive control of every attempt: the victim's genuine token — whose claims the forgeries
  // carry — served on the victim's object after the last forged request. A read, not a genuine
  // update on the same route: an update would overwrite the canaries other checks look for. A
  // read-back that is not served cannot show "nothing changed" either (the check is then inconclusive).
  const served = scene.ctx.expectServed(res, `the owner's read-back of ${scene.object.label} by ${scene.victim.label} (${scene.read.method.toUpperCase()} ${scene.read.path}), the positive control of ${scene.sent} forged request(s),`)
  for (const [marker, name] of served ? scene.markers : []) {
    if (res.body.includes(marker)) {
      scene.findings.push({
        message: `state changed: ${scene.object.label} now carries what the forged request "${name}" wrote (read back by its owner)`,
        severity: 'critical', dedupKey: `state-changed|${name}`, actor: scene.attacker.label, victim: scene.object.ownerLabel, evidence: res.evidence,
        operation: { method: scene.read.method.toUpperCase(), pathTemplate: scene.read.path, operationId: scene.read.id },
      })
    }
  }
  if (listener && listener.hits.length > 0) {
    scene.findings.push({
      message: `the target fetched a URL a token named: ${listener.hits.length} request(s) reached the harness's loopback listener (${[...new Set(listener.hits)].join(', ')}); a verifier must never follow jku/x5u/kid URLs (RFC 8725 §3.10)`,
      severity: 'critical', dedupKey: `listener-hit|${[...new Set(listener.hits)].sort().join(',')}`, actor: scene.attacker.label,
    })
  }
  return scene.findings
}

/** Dedup key helper for tokens: a digest, never the token. */
export const keyOf = tokenDigest
