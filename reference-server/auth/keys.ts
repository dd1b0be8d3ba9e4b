import { randomBytes } from 'node:crypto'
import { exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JWK } from 'jose'

/** Algorithms a verification key can be bound to. The server signs with ES256 only. */
export type KeyAlg = 'ES256' | 'RS256'

export interface KeyStoreOptions {
  alg?: 'ES256'
  /** How long a replaced key still verifies: the access-token lifetime, so no issued token is orphaned. */
  retireAfterSeconds: number
  /** Clock in milliseconds, for tests. */
  now?: () => number
}

/** A public key as the verifier sees it: bound to exactly one algorithm. */
export interface VerificationKey {
  kid: string
  alg: KeyAlg
  publicKey: CryptoKey
}

export interface KeyStore {
  readonly alg: 'ES256'
  /** The key new tokens are signed with. */
  signingKey(): { kid: string; privateKey: CryptoKey }
  /** Keys that may verify: the current one and replaced ones not yet past retireAfterSeconds. Bound to one alg each. */
  verificationKey(kid: string): VerificationKey | undefined
  /** New key signs; the old one verifies until retireAfterSeconds have passed since rotation, then disappears from JWKS. */
  rotate(): Promise<void>
  /** Public JWKs with kid, alg, use: 'sig' — never private members. Trusted extra keys are not published. */
  jwks(): { keys: JWK[] }
  /** Trust an extra verification-only key (test issuer used by the harness against the embedded server). */
  trust(kid: string, publicKey: CryptoKey, alg: KeyAlg): void
}

interface OwnKey extends VerificationKey {
  alg: 'ES256'
  privateKey: CryptoKey
  jwk: JWK
  /** When this key stops verifying (ms); undefined while it is the signing key. */
  retiresAt?: number
}

// WebCrypto algorithm each JWS alg requires, checked in trust() so a mismatched key fails loudly at
// setup instead of as a 500 on the first request that names its kid.
const KEY_SHAPE: Readonly<Record<KeyAlg, (k: CryptoKey) => boolean>> = {
  ES256: (k) => k.algorithm.name === 'ECDSA' && (k.algorithm as { namedCurve?: string }).namedCurve === 'P-256',
  RS256: (k) =>
    k.algorithm.name === 'RSASSA-PKCS1-v1_5' && (k.algorithm as { hash?: { name?: string } }).hash?.name === 'SHA-256',
}

async function generate(alg: 'ES256'): Promise<OwnKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomBytes(16).toString('base64url')
  // exportJWK of the public half: built from x/y only, so no private member can slip into JWKS.
  const { kty, crv, x, y } = await exportJWK(publicKey)
  return { kid, alg, privateKey, publicKey, jwk: { kty, crv, x, y, kid, alg, use: 'sig' } }
}

/** Creates a key store with one fresh signing key. */
export async function createKeyStore(opts: KeyStoreOptions): Promise<KeyStore> {
  const alg = opts.alg ?? 'ES256'
  const now = opts.now ?? Date.now
  const retireMs = opts.retireAfterSeconds * 1000
  let current = await generate(alg)
  let retired: OwnKey[] = []
  const trusted = new Map<string, VerificationKey>()

  // Retirement is evaluated lazily on every read, so no timer keeps the process alive.
  const live = (): OwnKey[] => {
    const t = now()
    retired = retired.filter((k) => k.retiresAt !== undefined && k.retiresAt > t)
    return [current, ...retired]
  }

  return {
    alg,
    signingKey: () => ({ kid: current.kid, privateKey: current.privateKey }),
    verificationKey(kid) {
      const own = live().find((k) => k.kid === kid)
      if (own !== undefined) return { kid: own.kid, alg: own.alg, publicKey: own.publicKey }
      return trusted.get(kid)
    },
    async rotate() {
      const next = await generate(alg)
      retired.push({ ...current, retiresAt: now() + retireMs })
      current = next
    },
    jwks: () => ({ keys: live().map((k) => ({ ...k.jwk })) }),
    trust(kid, publicKey, trustedAlg) {
      if (kid === '' || live().some((k) => k.kid === kid) || trusted.has(kid)) {
        throw new Error('trust(): kid is empty or already in use')
      }
      if (publicKey.type !== 'public' || !KEY_SHAPE[trustedAlg](publicKey)) {
        throw new Error(`trust(): key is not a public ${trustedAlg} key`)
      }
      trusted.set(kid, { kid, alg: trustedAlg, publicKey })
    },
  }
}
