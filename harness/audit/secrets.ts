/**
 * The secrets a run handled, labelled, and one matcher that finds any of them in a text (an audit
 * event's JSON) in a single pass. Used by `audit/no-secrets`; a finding names a secret's kind and
 * whose it was, never its value.
 */
import { createPrivateKey } from 'node:crypto'
import { decodeJwt } from 'jose'
import type { SessionData } from '../adapters/sessions.js'
import type { TargetProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { DEFAULT_TEST_ISSUER_ENV } from '../forge/issuer.js'

export type SecretKind = 'password' | 'access token' | 'refresh token' | 'ID token' | 'tampered token' | 'test-issuer private key' | 'credential'

/** One secret the run handled. Plain data (it travels to the worker through `provide`); never logged or reported. */
export interface HandledSecret {
  kind: SecretKind
  /** Whose it was, safe to print: an actor label, `the bootstrap principal`, `a member created during the run (…)`. */
  whose: string
  /** The secret itself. */
  value: string
}

/** Shorter values are not searched (nor scrubbed from reports: harness/provision/session.ts `Secrets`). */
export const MIN_SECRET_LENGTH = 4

/**
 * Finds secrets in a text. Each secret is looked for as written, JSON-escaped (the text is usually
 * an event's JSON) and URL-encoded (a recorded form or query). Candidates are indexed by their
 * first few characters, so one scan of the text tests every position against every secret at once
 * (thousands of tokens cost one map lookup per character, not one `includes` per secret).
 */
export class SecretMatcher {
  private readonly byPrefix = new Map<string, { form: string; secret: HandledSecret }[]>()
  private readonly width: number
  /** The distinct secrets searched for (first label wins for a value listed twice). */
  readonly secrets: readonly HandledSecret[]

  constructor(secrets: Iterable<HandledSecret>) {
    const seen = new Map<string, HandledSecret>()
    for (const s of secrets) if (s.value.length >= MIN_SECRET_LENGTH && !seen.has(s.value)) seen.set(s.value, s)
    this.secrets = [...seen.values()]
    const entries = this.secrets.flatMap((secret) => [...new Set([secret.value, JSON.stringify(secret.value).slice(1, -1), encodeURIComponent(secret.value)])].map((form) => ({ form, secret })))
    this.width = Math.min(8, ...entries.map((e) => e.form.length))
    for (const e of entries) {
      const key = e.form.slice(0, this.width)
      const list = this.byPrefix.get(key)
      if (list) list.push(e)
      else this.byPrefix.set(key, [e])
    }
  }

  /** Every secret occurring in `text`, each once, in order of first occurrence. */
  find(text: string): HandledSecret[] {
    const hits = new Set<HandledSecret>()
    if (this.byPrefix.size === 0) return []
    for (let i = 0; i + this.width <= text.length; i++) {
      const candidates = this.byPrefix.get(text.slice(i, i + this.width))
      if (candidates) for (const c of candidates) if (text.startsWith(c.form, i)) hits.add(c.secret)
    }
    return [...hits]
  }

  /** True when `value` holds `secret` in any of the forms searched for (to name the field of a hit). */
  static contains(value: string, secret: HandledSecret): boolean {
    return value.includes(secret.value) || value.includes(encodeURIComponent(secret.value))
  }
}

/** Who a username belongs to, in words a report may carry: the actor's label, else a created member. */
export function whoIs(topology: Topology, bootstrapUsername?: string): (username: string) => string {
  const byName = new Map(topology.actors.filter((a) => a.username).map((a) => [a.username!.toLowerCase(), a.label]))
  return (username) => {
    const u = username.toLowerCase()
    if (bootstrapUsername && u === bootstrapUsername.toLowerCase()) return 'the bootstrap principal'
    return byName.get(u) ?? `a member created during the run (${username})`
  }
}

/** Every password and token of every session: logins seen by the adapter, with every renewal. */
export function sessionSecrets(sessions: readonly SessionData[], whose: (username: string) => string): HandledSecret[] {
  return sessions.flatMap((s) => {
    const who = whose(s.username)
    return [
      { kind: 'password' as const, whose: who, value: s.password },
      ...[s.accessToken, ...(s.previousTokens ?? [])].map((value) => ({ kind: 'access token' as const, whose: who, value })),
      ...(s.refreshToken ? [{ kind: 'refresh token' as const, whose: who, value: s.refreshToken }] : []),
    ]
  })
}

/**
 * The test issuer's private key material (catalog capability KT), from the JWK text the profile's
 * variable holds: the text itself, each private parameter (base64url and base64) and the PKCS#8 PEM.
 */
export function testIssuerSecrets(jwkText: string | undefined): HandledSecret[] {
  if (!jwkText) return []
  const values = [jwkText]
  try {
    const jwk = JSON.parse(jwkText) as Record<string, unknown>
    for (const k of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
      const v = jwk[k]
      if (typeof v === 'string') values.push(v, Buffer.from(v, 'base64url').toString('base64'))
    }
    values.push(String(createPrivateKey({ key: jwk as never, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' })).trim())
  } catch {
    // Not a JWK: the text alone is searched.
  }
  return values.map((value) => ({ kind: 'test-issuer private key', whose: 'the test issuer', value }))
}

/**
 * Labels secrets known only as values (provisioning's `Secrets`: ID tokens, passwords of identities
 * that never logged in) that no session accounts for. A JWT is an ID token of the identity its
 * `sub` or `email` names; anything else is a credential provisioning handled.
 */
export function otherSecrets(values: readonly string[], covered: ReadonlySet<string>, topology: Topology): HandledSecret[] {
  return values.filter((v) => !covered.has(v)).map((value) => {
    try {
      const claims = decodeJwt(value)
      const actor = topology.actors.find((a) => (a.id && a.id === claims.sub) || (a.username && a.username === claims.email))
      return { kind: 'ID token' as const, whose: actor?.label ?? 'an identity provisioning logged in', value }
    } catch {
      return { kind: 'credential' as const, whose: 'an identity provisioning created', value }
    }
  })
}

/** One line for a note: what was searched for, by kind (`passwords of 24 identities, …`); no value. */
export function describeSecrets(secrets: readonly HandledSecret[]): string {
  const byKind = new Map<SecretKind, Set<string>>()
  for (const s of secrets) (byKind.get(s.kind) ?? byKind.set(s.kind, new Set()).get(s.kind)!).add(s.whose)
  return [...byKind].map(([kind, who]) => (kind === 'test-issuer private key' ? 'the test-issuer private key' : `${kind}s of ${who.size} ${who.size === 1 ? 'identity' : 'identities'}`)).join(', ')
}

/**
 * What the global setup hands the worker besides the sessions (which carry every login's password
 * and tokens): the bootstrap principal's password, the test issuer's key and the values only
 * provisioning knew (ID tokens), each labelled.
 */
export function handledInSetup(profile: TargetProfile, topology: Topology, sessions: readonly SessionData[], values: readonly string[], env: NodeJS.ProcessEnv = process.env): HandledSecret[] {
  const bootstrap = env[profile.auth.bootstrap.passwordEnv]
  const known = [
    ...(bootstrap ? [{ kind: 'password' as const, whose: 'the bootstrap principal', value: bootstrap }] : []),
    ...testIssuerSecrets(env[profile.forgery.testIssuer?.privateJwkEnv ?? DEFAULT_TEST_ISSUER_ENV]),
  ]
  const covered = new Set([...sessionSecrets(sessions, () => '').map((s) => s.value), ...known.map((s) => s.value)])
  return [...known, ...otherSecrets(values, covered, topology)]
}
