import { attempt, victimClaims, headerLike } from '../../harness/forge/scene.js'
import { b64u, brokenSignatures, raw } from '../../harness/forge/jwt.js'
import { forgeryCheck } from './shared.js'

/**
 * SIG-01, SIG-02, SIG-04: the attacker's token with the victim's claims swapped in under its old
 * signature, with broken signatures (truncated, one bit flipped, zeroed), and with an empty signature
 * under a real alg. Each must be 401 invalid_token and change nothing.
 */
export const tamperedSignature = forgeryCheck({
  name: 'tampered-signature',
  title: 'A token with tampered claims or a broken signature is accepted',
  docs: 'forgery.md SIG-01 (claims tampered, old signature kept), SIG-02 (broken signature), SIG-04 (null signature, CVE-2020-28042); fault signature-not-checked',
  async attack(scene) {
    const [h, p, s] = scene.attackerToken.segments
    const forged = b64u(victimClaims(scene))
    await attempt(scene, { name: "victim's claims under the attacker's signature", catalog: 'SIG-01', token: `${h}.${forged}.${s}`, expect: 'reject' })
    for (const b of brokenSignatures(s)) {
      await attempt(scene, { name: `victim's claims, ${b.name}`, catalog: 'SIG-02', token: `${h}.${forged}.${b.signature}`, expect: 'reject' })
      await attempt(scene, { name: `attacker's own claims, ${b.name}`, catalog: 'SIG-02', token: `${h}.${p}.${b.signature}`, expect: 'deny' })
    }
    await attempt(scene, { name: `empty signature under alg ${String(scene.attackerToken.header.alg)}`, catalog: 'SIG-04', token: `${h}.${forged}.`, expect: 'reject' })
    await attempt(scene, { name: 'empty signature under alg HS256', catalog: 'SIG-04', token: raw(headerLike(scene, { alg: 'HS256' }), victimClaims(scene)), expect: 'reject' })
  },
})
