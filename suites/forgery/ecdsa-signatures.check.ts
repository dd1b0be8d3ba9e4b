import { attempt, headerLike, victimClaims } from '../../harness/forge/scene.js'
import { b64u, psychicSignatures } from '../../harness/forge/jwt.js'
import { forgeryCheck } from './shared.js'

/** SIG-10: psychic ECDSA signatures (r = s = 0, raw and DER forms) under ES256/384/512 with the real kid. */
export const ecdsaSignatures = forgeryCheck({
  name: 'ecdsa-signatures',
  title: 'A psychic (all-zero) ECDSA signature is accepted',
  docs: 'forgery.md SIG-10 (CVE-2022-21449); fault signature-not-checked',
  async attack(scene) {
    const claims = b64u(victimClaims(scene))
    for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
      for (const [i, sig] of psychicSignatures(alg).entries()) {
        await attempt(scene, { name: `${alg}, r = s = 0 (${i === 0 ? 'JOSE raw' : 'DER'} form)`, catalog: 'SIG-10', token: `${b64u(headerLike(scene, { alg }))}.${claims}.${sig}`, expect: 'reject' })
      }
    }
  },
})
