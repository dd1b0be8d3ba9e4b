import { attempt, headerLike, testIssuerFor, victimClaims } from '../../harness/forge/scene.js'
import { forgeryCheck } from './shared.js'

/**
 * ENC-01, ENC-02 (test issuer, KT): one validly signed token whose identity and tenancy claims appear
 * twice — the victim's first, the attacker's last — and headers with a duplicated `kid` or `alg` whose
 * first copy is the one that verifies. Refusal is preferred; otherwise every reader must take the
 * last copy, so the victim's first copy must never act, and the first header copy must never verify.
 */
export const duplicateMembers = forgeryCheck({
  name: 'duplicate-members',
  title: 'Duplicate claims or header parameters are read differently by different layers',
  docs: 'forgery.md ENC-01 (duplicate claims: RFC 7519 §4, jose last-wins), ENC-02 (duplicate header parameters, RFC 7515 §4); capability: forgery.testIssuer; fault duplicate-claims-first-wins',
  async attack(scene) {
    const kt = await testIssuerFor(scene)
    if ('reason' in kt) return kt.reason
    const { issuer, sign } = kt
    const { claims } = scene.ctx.profile
    const attacker = scene.attackerToken.payload
    const victim = victimClaims(scene)
    const names = ['sub', claims.accountId, claims.workspaceId, claims.roles].filter((n) => n in attacker && n in victim)
    const tail = names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(attacker[n])}`).join(',')
    const twice = JSON.stringify(victim).replace(/\}$/, `,${tail}}`)
    await attempt(scene, { name: `${names.join(', ')} twice: the victim's first, the attacker's last`, catalog: 'ENC-01', token: sign(twice), expect: 'deny' })
    for (const n of names) {
      const one = JSON.stringify(victim).replace(/\}$/, `,${JSON.stringify(n)}:${JSON.stringify(attacker[n])}}`)
      await attempt(scene, { name: `${n} twice: the victim's first, the attacker's last`, catalog: 'ENC-01', token: sign(one), expect: 'deny' })
    }
    const header = JSON.stringify(headerLike(scene, { alg: issuer.alg, kid: issuer.kid }))
    const otherKid = scene.attackerToken.header.kid
    await attempt(scene, { name: "kid twice: the test key's first, another last", catalog: 'ENC-02', token: sign(victim, header.replace(/\}$/, `,"kid":${JSON.stringify(otherKid ?? 'other')}}`)), expect: 'reject' })
    await attempt(scene, { name: 'alg twice: the real alg first, none last', catalog: 'ENC-02', token: sign(victim, header.replace(/\}$/, ',"alg":"none"}')), expect: 'reject' })
  },
})
