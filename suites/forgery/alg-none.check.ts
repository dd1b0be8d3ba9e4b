import { attempt, victimClaims } from '../../harness/forge/scene.js'
import { algNoneHeaders, b64u } from '../../harness/forge/jwt.js'
import { forgeryCheck } from './shared.js'

/**
 * SIG-03: `alg: none` in every spelling (none, None, NONE, nOnE, noNE, "", "none "), null, ["none"] and
 * absent, each with an empty signature and with the attacker's old one, carrying the victim's claims.
 */
export const algNone = forgeryCheck({
  name: 'alg-none',
  title: 'An unsigned token (alg none, any spelling) is accepted',
  docs: 'forgery.md SIG-03 (McLean 2015; RFC 8725 §2.1, §3.1; 8725bis §2.11; CVE-2022-23540); fault alg-none-accepted',
  async attack(scene) {
    const sig = scene.attackerToken.segments[2]
    const forged = b64u(victimClaims(scene))
    for (const { name, header } of algNoneHeaders(scene.attackerToken.header)) {
      await attempt(scene, { name: `${name}, empty signature`, catalog: 'SIG-03', token: `${b64u(header)}.${forged}.`, expect: 'reject' })
      await attempt(scene, { name: `${name}, old signature kept`, catalog: 'SIG-03', token: `${b64u(header)}.${forged}.${sig}`, expect: 'reject' })
    }
  },
})
