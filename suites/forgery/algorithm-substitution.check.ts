import { attempt, headerLike, testIssuerFor, victimClaims } from '../../harness/forge/scene.js'
import { b64u } from '../../harness/forge/jwt.js'
import { signInput } from '../../harness/forge/issuer.js'
import { forgeryCheck } from './shared.js'

/**
 * SIG-11 (needs the test issuer, KT): a signature made with the trusted test key, presented under
 * another alg than the one the key is bound to (other ES sizes, RS256, PS256, HS256, a lower-case or
 * padded spelling). Only the key's own alg may verify.
 */
export const algorithmSubstitution = forgeryCheck({
  name: 'algorithm-substitution',
  title: 'A trusted key verifies under an algorithm it is not bound to',
  docs: 'forgery.md SIG-11 (RFC 8725 §3.1; CVE-2022-23539); capability: forgery.testIssuer; fault signature-not-checked',
  async attack(scene) {
    const kt = await testIssuerFor(scene)
    if ('reason' in kt) return kt.reason
    const { issuer } = kt
    const claims = b64u(victimClaims(scene))
    const others = ['ES384', 'ES512', 'RS256', 'PS256', 'HS256', issuer.alg.toLowerCase(), `${issuer.alg} `, 'EdDSA'].filter((a) => a !== issuer.alg)
    for (const alg of others) {
      const input = `${b64u(headerLike(scene, { alg, kid: issuer.kid }))}.${claims}`
      await attempt(scene, { name: `test key's ${issuer.alg} signature presented as alg ${JSON.stringify(alg)}`, catalog: 'SIG-11', token: `${input}.${signInput(issuer.alg, issuer.privateKey, input)}`, expect: 'reject' })
    }
  },
})
