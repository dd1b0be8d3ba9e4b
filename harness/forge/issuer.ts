/**
 * The test issuer (catalog capability KT): a key the target trusts for its own issuer, so the forgery
 * checks can mint *validly signed* tokens that carry bad claims. The embedded reference server is
 * started trusting a fresh one per run; a deployment offers one through `forgery.testIssuer` (the
 * private JWK in an environment variable). Without it, the checks that need it are skipped.
 */
import { createPrivateKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import type { TargetProfile } from '../core/profile.js'
import { b64u } from './jwt.js'

/** The variable the reference profile names; the embedded server's key goes there. */
export const DEFAULT_TEST_ISSUER_ENV = 'TENANT_AUDIT_TEST_ISSUER_JWK'

export interface TestIssuer {
  kid: string
  alg: 'ES256' | 'RS256'
  privateKey: KeyObject
  /** Signs raw header and payload text (or objects, serialised as JSON) with the test key. */
  signRaw(header: string | object, payload: string | object): string
}

/** A fresh ES256 test-issuer key pair: the private JWK for the harness, the public one for the server. */
export async function generateTestIssuer(): Promise<{ privateJwk: JWK; publicJwk: JWK; kid: string; alg: 'ES256' }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = `ta-test-issuer-${randomBytes(8).toString('hex')}`
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }
  return { privateJwk, publicJwk, kid, alg: 'ES256' }
}

/** Signs `H.P` with a key object: ES* in the JOSE r‖s form, RS*, PS*. */
export function signInput(alg: string, key: KeyObject, input: string): string {
  const hash = `sha${alg.slice(2)}`
  if (alg.startsWith('ES')) return cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  if (alg.startsWith('PS')) return cryptoSign(hash, Buffer.from(input), { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(alg.slice(2)) / 8 }).toString('base64url')
  return cryptoSign(hash, Buffer.from(input), key).toString('base64url')
}

/** The raw token for header and payload (strings verbatim) signed with `key` under `alg`. */
export function signWith(alg: string, key: KeyObject, header: string | object, payload: string | object): string {
  const input = `${b64u(header)}.${b64u(payload)}`
  return `${input}.${signInput(alg, key, input)}`
}

/**
 * The profile's test issuer, or why there is none (the reason a check is skipped with).
 * @returns `{ issuer }` or `{ reason }`
 */
export function testIssuerOf(profile: TargetProfile, env: NodeJS.ProcessEnv = process.env): { issuer: TestIssuer } | { reason: string } {
  const name = profile.forgery.testIssuer?.privateJwkEnv
  if (!name) return { reason: 'the target offers no test-issuer key (set forgery.testIssuer in the profile)' }
  const text = env[name]
  if (!text) return { reason: `the target offers no test-issuer key: ${name} is not set` }
  let jwk: JWK
  try {
    jwk = JSON.parse(text) as JWK
  } catch {
    return { reason: `${name} is not a JSON private JWK` }
  }
  const alg = jwk.alg === 'RS256' ? 'RS256' : jwk.alg === 'ES256' ? 'ES256' : undefined
  if (!alg || typeof jwk.kid !== 'string' || !jwk.d) return { reason: `${name} must be a private JWK with kid and alg ES256 or RS256` }
  const privateKey = createPrivateKey({ key: jwk as never, format: 'jwk' })
  return { issuer: { kid: jwk.kid, alg, privateKey, signRaw: (h, p) => signWith(alg, privateKey, h, p) } }
}
