import { randomBytes } from 'node:crypto'
import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { trailLabel } from '../../harness/audit/labels.js'
import { AuditTrail, type Sent } from '../../harness/audit/trail.js'
import { collapse } from '../../harness/audit/scenarios.js'
import type { MappedEvent } from '../../harness/audit/mapping.js'
import { describeSecrets, SecretMatcher, sessionSecrets, whoIs, type HandledSecret, type SecretKind } from '../../harness/audit/secrets.js'

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/-]{8,}/i

/** Where in an event a string occurs (`src.authorization`), without ever naming the string. */
function fieldOf(value: unknown, needle: (s: string) => boolean, path = ''): string | undefined {
  if (typeof value === 'string') return needle(value) ? path || '(the event)' : undefined
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = fieldOf(v, needle, `${path}[${i}]`)
      if (hit) return hit
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hit = fieldOf(v, needle, path ? `${path}.${k}` : k)
      if (hit) return hit
    }
  }
  return undefined
}

/** The kind a token endpoint's answer field names (`refresh_token` → refresh token). */
const TOKEN_KINDS: Record<string, SecretKind> = { access_token: 'access token', refresh_token: 'refresh token', id_token: 'ID token' }

/**
 * No secret ever appears in any event (research §2.5.5; OWASP Logging Cheat Sheet: never log access
 * tokens, passwords): the harness plants its own — a failed login with a canary password, a user
 * created with a password that then logs in and calls the API with its fresh token, denied and
 * allowed — then exports the whole trail and searches every event for every secret the run handled
 * (what it planted; every password, access, ID and refresh token of every login, the setup's and the
 * checks' throwaway members', with every renewal; the test issuer's private key) and for anything
 * shaped like a JWT or a Bearer credential. A finding names the secret's kind and whose it was.
 */
export const noSecrets = defineCheck<CheckContext>({
  id: 'audit/no-secrets',
  suite: 'audit',
  // Alone: it exports whole trails and searches them for every secret the run handled so far; a concurrent login would add secrets it has not been told of.
  exclusive: true,
  title: 'Secret recorded in the audit trail',
  severity: 'high', cwe: 532, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.5.5 (negative content: no raw JWTs, passwords, Authorization headers), §2.4 (OWASP Logging Cheat Sheet)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const t = ctx.topology
    const { profile } = ctx
    // What the check plants itself: listed first, so their labels win over the sessions' for the same value.
    const secrets: HandledSecret[] = []
    const sent: Sent[] = []
    const track = async (p: Promise<Sent>) => {
      const s = await p
      sent.push(s)
      return s
    }
    const login = (username: string, password: string, workspaceId?: string) => {
      const form = new URLSearchParams({ grant_type: 'password', username, password })
      if (workspaceId && profile.auth.workspaceParam) form.set(profile.auth.workspaceParam, workspaceId)
      return track(trail.send(undefined, { method: 'POST', path: profile.auth.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }))
    }
    // 1. A failed login with a canary password, for a real user.
    const someone = t.actors.find((a) => a.kind === 'user' && a.username)
    const wrong = `Ta-canary-${randomBytes(12).toString('hex')}`
    secrets.push({ kind: 'password', whose: 'a failed login (planted)', value: wrong })
    if (someone) await login(someone.username!, wrong, someone.workspaceId)

    // 2. A user created with a password, logged in, and its token used (allowed and denied).
    const hasPassword = (o: (typeof ctx.contract.annotated)[number]) =>
      Object.keys((ctx.contract.resolve(o.requestSchema ?? {}).properties ?? {}) as object).some((k) => /^password$/i.test(k))
    const create = ctx.contract.annotated.find((o) => o.verb === 'create' && o.tenancy.scope === 'workspace' && hasPassword(o))
    const ws = t.accounts[0]?.workspaces[0]
    const creator = create && ws && t.actors.find((a) => a.kind === 'user' && a.token && expected(create, a, { accountId: ws.accountId, workspaceId: ws.id }) === 'allow')
    if (create && ws && creator) {
      const password = newPassword()
      const email = `ta-${t.tag}-secret-${randomBytes(3).toString('hex')}@tenant-audit.test`
      secrets.push({ kind: 'password', whose: 'a user the harness created', value: password })
      const body = bodyFromSchema(ctx.contract, create.requestSchema ?? {}, { email, password, role: 'viewer', label: `ta-${t.tag}-secret` })
      const made = await trail.probe({ actor: creator, op: create, target: { accountId: ws.accountId, workspaceId: ws.id }, body })
      if (made.response.status >= 200 && made.response.status < 300) {
        const res = await login(email, password, ws.id)
        const tokens = res.response.json as { access_token?: unknown; refresh_token?: unknown; id_token?: unknown } | undefined
        const fresh = typeof tokens?.access_token === 'string' ? tokens.access_token : undefined
        for (const [k, v] of Object.entries(tokens ?? {})) if (typeof v === 'string' && k.endsWith('token') && v.length >= 8) secrets.push({ kind: TOKEN_KINDS[k] ?? 'credential', whose: 'a user the harness created', value: v })
        if (fresh) {
          const user: Actor = { label: 'created.viewer', kind: 'user', actorKind: 'viewer', role: 'viewer', accountId: ws.accountId, workspaceId: ws.id, token: fresh }
          const other = t.accounts[1]?.workspaces[0]
          const read = ctx.contract.annotated.find((o) => o.tenancy.scope === 'workspace' && o.verb === 'list' && o.tenancy.context === 'app')
          const write = ctx.contract.annotated.find((o) => o.tenancy.scope === 'workspace' && o.verb === 'create' && o.tenancy.context === 'app')
          if (read) await track(trail.send(user, { method: 'GET', path: ctx.pathFor(read, { accountId: ws.accountId, workspaceId: ws.id }) }))
          if (read && other) await track(trail.send(user, { method: 'GET', path: ctx.pathFor(read, { accountId: other.accountId, workspaceId: other.id }) }))
          if (write) await track(trail.send(user, { method: write.method, path: ctx.pathFor(write, { accountId: ws.accountId, workspaceId: ws.id }), body: {} }))
          // The same token with one character changed: an authentication failure carrying a token.
          const bent = fresh.slice(0, -2) + (fresh.at(-2) === 'A' ? 'B' : 'A') + fresh.at(-1)
          secrets.push({ kind: 'tampered token', whose: 'a user the harness created', value: bent })
          if (read) await track(trail.send({ ...user, token: bent }, { method: 'GET', path: ctx.pathFor(read, { accountId: ws.accountId, workspaceId: ws.id }) }))
        }
      }
    }
    // Events may be written a little later: wait for them (or the bound) before the search.
    await trail.await(sent)

    const all = await trail.export()
    if (all.failure) return { findings: [trail.readFailure(all.failure)] }
    // Everything else the run handled: the actors' current tokens, what the setup handed over beyond
    // the sessions (ID tokens, the bootstrap password, the test issuer's key), and every session the
    // adapter saw — the setup's logins and this worker's (throwaway members), with every renewal.
    const matcher = new SecretMatcher([
      ...secrets,
      ...t.actors.flatMap((a) => (a.token ? [{ kind: 'access token' as const, whose: a.label, value: a.token }] : [])),
      ...(ctx.settings.secrets ?? []),
      ...sessionSecrets(ctx.sessionsSeen(), whoIs(t, process.env[profile.auth.bootstrap.usernameEnv])),
    ])
    const findings: FindingInput[] = []
    const reported = new Set<string>()
    const report = (e: MappedEvent, kind: string, what: string, field: string) => {
      const key = `${kind}|${field}`
      if (reported.has(key)) return
      reported.add(key)
      findings.push({
        message: `event seq ${e.seq ?? '?'} of trail ${trailLabel(t, e.accountId)} (action ${e.action ?? '?'}) carries ${what} in \`${field}\``,
        dedupKey: key,
        victim: trailLabel(t, e.accountId),
      })
    }
    for (const e of all.events) {
      // One scan of the event's JSON for every secret; the field is looked up only for a hit.
      const text = JSON.stringify(e.raw) ?? ''
      const fields = new Set<string>()
      for (const hit of matcher.find(text)) {
        const field = fieldOf(e.raw, (v) => SecretMatcher.contains(v, hit)) ?? '(the event)'
        fields.add(field)
        report(e, hit.kind, `the ${hit.kind} of ${hit.whose}`, field)
      }
      // The shapes catch what no list holds (another tenant's token); a field already named is not named
      // twice. The JSON text only pre-screens (a JWT reads the same there; `Bearer\n…` does not, so the word alone).
      const jwt = JWT.test(text) ? fieldOf(e.raw, (v) => JWT.test(v)) : undefined
      if (jwt && !fields.has(jwt)) report(e, 'JSON Web Token', 'a JSON Web Token', jwt)
      const bearer = /bearer/i.test(text) ? fieldOf(e.raw, (v) => BEARER.test(v)) : undefined
      if (bearer && !fields.has(bearer)) report(e, 'Bearer credential', 'a Bearer credential', bearer)
    }
    const searched = `searched ${all.events.length} audit events for ${matcher.secrets.length} secrets the run handled (${describeSecrets(matcher.secrets) || 'none'}) and for JWT and Bearer shapes`
    return { findings: collapse(findings), notes: [searched] }
  },
})
