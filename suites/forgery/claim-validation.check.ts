import { attempt, headerLike, testIssuerFor, victimClaims } from '../../harness/forge/scene.js'
import { b64u } from '../../harness/forge/jwt.js'
import { signInput, type TestIssuer } from '../../harness/forge/issuer.js'
import { forgeryCheck } from './shared.js'

/**
 * CLM-05, CLM-07 to CLM-10, ENC-06, ENC-07, RPL-03, KEY-10 (test issuer, KT): validly signed tokens
 * with the victim's claims, each wrong in one way — a required claim missing, another issuer (trailing
 * slash, scheme, case, foreign), another or an extra audience, `crit`, `b64: false`, claims of the
 * wrong JSON type, prototype-pollution keys, and tenant claims that disagree with the path.
 */
export const claimValidation = forgeryCheck({
  name: 'claim-validation',
  title: 'A validly signed token with a missing, mismatched or mistyped claim is accepted',
  docs: 'forgery.md CLM-05 (missing claim), CLM-07 (issuer), CLM-08 (audience/client), CLM-09 (crit), CLM-10 (b64:false), ENC-06 (type juggling), ENC-07 (prototype pollution), RPL-03 (tenant claim vs path), KEY-10 (foreign issuer); capability: forgery.testIssuer; fault iss-aud-not-checked',
  async attack(scene) {
    const kt = await testIssuerFor(scene)
    if ('reason' in kt) return kt.reason
    const { issuer, sign } = kt
    const { claims: names } = scene.ctx.profile
    const victim = victimClaims(scene)
    const attacker = scene.attackerToken.payload

    const required = ['exp', 'iat', 'iss', 'aud', 'sub', 'jti', 'client_id', 'token_use', 'scope', names.accountId, names.workspaceId].filter((n) => n in victim)
    for (const n of required) {
      const { [n]: _dropped, ...rest } = victim
      await attempt(scene, { name: `${n} missing`, catalog: 'CLM-05', token: sign(rest), expect: n === names.accountId || n === names.workspaceId ? 'deny' : 'reject' })
    }

    if (typeof victim.iss === 'string') {
      const iss = victim.iss
      const variants = [`${iss}/`, iss.replace(/^https?:/, (m) => (m === 'https:' ? 'http:' : 'https:')), iss.toUpperCase(), 'https://foreign-issuer.tenant-audit.test']
      for (const v of variants.filter((x) => x !== iss)) {
        await attempt(scene, { name: `iss ${JSON.stringify(v)}`, catalog: v.includes('foreign') ? 'CLM-07, KEY-10' : 'CLM-07', token: sign({ ...victim, iss: v }), expect: 'reject' })
      }
    }
    if (victim.aud !== undefined) {
      const aud = Array.isArray(victim.aud) ? victim.aud[0] : victim.aud
      await attempt(scene, { name: 'aud of another resource server', catalog: 'CLM-08', token: sign({ ...victim, aud: 'https://other-api.tenant-audit.test' }), expect: 'reject' })
      await attempt(scene, { name: 'aud array with an extra member', catalog: 'CLM-08', token: sign({ ...victim, aud: [aud, 'https://other-api.tenant-audit.test'] }), expect: 'reject' })
    }
    if (typeof victim.client_id === 'string') {
      await attempt(scene, { name: 'client_id of an unknown app client', catalog: 'CLM-08', token: sign({ ...victim, client_id: 'ta-unknown-client' }), expect: 'deny' })
    }

    const header = headerLike(scene, { alg: issuer.alg, kid: issuer.kid })
    const crits: [string, Record<string, unknown>][] = [
      ['crit ["x-tenant"] with x-tenant', { crit: ['x-tenant'], 'x-tenant': victim[names.accountId] ?? 'B' }],
      ['crit []', { crit: [] }],
      ['crit ["alg"]', { crit: ['alg'] }],
    ]
    for (const [name, extra] of crits) await attempt(scene, { name, catalog: 'CLM-09', token: sign(victim, { ...header, ...extra }), expect: 'reject' })
    for (const b of b64False(issuer, victim, { ...header, b64: false, crit: ['b64'] })) await attempt(scene, { name: b.name, catalog: 'CLM-10', authorization: `Bearer ${b.token}`, expect: 'reject' })

    const json = JSON.stringify(victim)
    const juggled: [string, string][] = [
      ['exp as a string', JSON.stringify({ ...victim, exp: String(victim.exp) })],
      ['exp null', JSON.stringify({ ...victim, exp: null })],
      ['exp as an array', JSON.stringify({ ...victim, exp: [victim.exp] })],
      ['exp 1e309 (Infinity)', json.replace(/"exp":\d+/, '"exp":1e309')],
      [`${names.accountId} as an array`, JSON.stringify({ ...victim, [names.accountId]: [victim[names.accountId]] })],
      [`${names.accountId} as an object`, JSON.stringify({ ...victim, [names.accountId]: { id: victim[names.accountId] } })],
      [`${names.accountId} as a number`, JSON.stringify({ ...victim, [names.accountId]: 1 })],
      [`${names.roles} as a string`, JSON.stringify({ ...victim, [names.roles]: String(victim[names.roles] ?? '') })],
      ['scope as an array', JSON.stringify({ ...victim, scope: String(victim.scope ?? '').split(' ') })],
      ['token_use ["access"]', JSON.stringify({ ...victim, token_use: ['access'] })],
    ]
    for (const [name, payload] of juggled) await attempt(scene, { name, catalog: 'ENC-06', token: sign(payload), expect: 'deny' })

    // The attacker's own identity, with the victim's tenancy only in polluting keys: no privilege may change.
    const tenancy = { [names.accountId]: victim[names.accountId], [names.workspaceId]: victim[names.workspaceId], [names.roles]: victim[names.roles] }
    const own = JSON.stringify({ ...attacker, iat: victim.iat, exp: victim.exp, jti: victim.jti })
    await attempt(scene, { name: '__proto__ carrying the victim\'s tenancy', catalog: 'ENC-07', token: sign(own.replace(/\}$/, `,"__proto__":${JSON.stringify(tenancy)}}`)), expect: 'deny' })
    await attempt(scene, { name: 'constructor.prototype carrying the victim\'s tenancy', catalog: 'ENC-07', token: sign(own.replace(/\}$/, `,"constructor":{"prototype":${JSON.stringify(tenancy)}}}`)), expect: 'deny' })

    // RPL-03: the attacker's identity with tenant claims that disagree with the victim's path.
    const tenantValues: [string, unknown][] = [['the attacker\'s own', attacker[names.accountId]], ['both tenants', [attacker[names.accountId], victim[names.accountId]]], ['empty', ''], ['"*"', '*']]
    for (const [name, value] of tenantValues) {
      await attempt(scene, { name: `attacker's token, ${names.accountId} ${name}, on the victim's path`, catalog: 'RPL-03', token: sign({ ...attacker, iat: victim.iat, exp: victim.exp, jti: victim.jti, [names.accountId]: value }), expect: 'deny' })
    }
  },
})

/** RFC 7797 unencoded payload: the signature covers `H.<raw JSON>`; sent with the raw JSON inline and detached (`H..S`). */
function b64False(issuer: TestIssuer, payload: object, header: object): { name: string; token: string }[] {
  const h = b64u(header)
  const rawJson = JSON.stringify(payload)
  const sig = signInput(issuer.alg, issuer.privateKey, `${h}.${rawJson}`)
  return [{ name: 'b64: false, raw JSON payload inline', token: `${h}.${rawJson}.${sig}` }, { name: 'b64: false, detached payload', token: `${h}..${sig}` }]
}
