import type { JWK } from 'jose'
import { attempt, headerLike, victimClaims } from '../../harness/forge/scene.js'
import { WEAK_SECRETS, hmacToken, publicKeyEncodings } from '../../harness/forge/jwt.js'
import { forgeryCheck, publishedJwks } from './shared.js'

/**
 * SIG-05 to SIG-08: HS256/384/512 tokens keyed with the empty key, common weak secrets, and every
 * encoding of each published public key (SPKI PEM with and without the final newline, CRLF, leading
 * whitespace, DER, JWK and JWKS JSON; PKCS#1 for RSA), naming that key's kid.
 */
export const hmacKeys = forgeryCheck({
  name: 'hmac-keys',
  title: 'An HMAC token keyed with an empty, weak or public key is accepted (algorithm confusion)',
  docs: 'forgery.md SIG-05 (empty key), SIG-06 (weak secret), SIG-07 (RS→HS, CVE-2015-9235, CVE-2016-10555, CVE-2022-23541), SIG-08 (EC/OKP key as HMAC secret); fault hs256-with-public-key',
  async attack(scene) {
    const jwks = await publishedJwks(scene.ctx)
    if (!jwks || jwks.keys.length === 0) return 'the contract publishes no JWKS (jwks.read): the key-confusion attempts need the public keys'
    const claims = victimClaims(scene)
    for (const secret of WEAK_SECRETS) {
      const catalog = secret === '' ? 'SIG-05' : 'SIG-06'
      for (const alg of secret === '' ? (['HS256', 'HS384', 'HS512'] as const) : (['HS256'] as const)) {
        await attempt(scene, { name: `${alg} with ${secret === '' ? 'the empty key' : `the weak secret "${secret}"`}`, catalog, token: hmacToken(alg, secret, headerLike(scene), claims), expect: 'reject' })
      }
    }
    for (const jwk of jwks.keys.slice(0, 3) as JWK[]) {
      const catalog = jwk.kty === 'RSA' ? 'SIG-07' : 'SIG-08'
      for (const enc of publicKeyEncodings(jwk, jwks as { keys: JWK[] })) {
        const algs = enc.name.startsWith('SPKI PEM') ? (['HS256', 'HS384', 'HS512'] as const) : (['HS256'] as const)
        for (const alg of algs) {
          await attempt(scene, { name: `${alg} keyed with key ${String(jwk.kid)} as ${enc.name}`, catalog, token: hmacToken(alg, enc.bytes, headerLike(scene, { kid: jwk.kid }), claims), expect: 'reject' })
        }
      }
    }
  },
})
