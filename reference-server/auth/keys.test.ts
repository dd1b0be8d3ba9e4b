import { exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { createKeyStore } from './keys.js'

describe('KeyStore', () => {
  it('publishes public JWKs only, each with kid, alg and use', async () => {
    const keys = await createKeyStore({ retireAfterSeconds: 900 })
    const { keys: jwks } = keys.jwks()
    expect(jwks).toHaveLength(1)
    expect(jwks[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: keys.signingKey().kid, alg: 'ES256', use: 'sig' })
    expect(jwks[0]).not.toHaveProperty('d')
    // Extractable, so tests can export the private key; it still never reaches JWKS.
    expect(await exportJWK(keys.signingKey().privateKey)).toHaveProperty('d')
    expect(keys.signingKey().kid).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('keeps a replaced key verifying until retireAfterSeconds, then drops it', async () => {
    let t = 1_700_000_000_000
    const keys = await createKeyStore({ retireAfterSeconds: 900, now: () => t })
    const old = keys.signingKey().kid
    await keys.rotate()
    const fresh = keys.signingKey().kid
    expect(fresh).not.toBe(old)
    expect(keys.verificationKey(old)).toMatchObject({ kid: old, alg: 'ES256' })
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([fresh, old])

    t += 899_999
    expect(keys.verificationKey(old)).toBeDefined()
    t += 1
    expect(keys.verificationKey(old)).toBeUndefined()
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([fresh])
    expect(keys.verificationKey(fresh)?.publicKey.type).toBe('public')
  })

  it('trusts extra verification-only keys bound to their alg, without publishing them', async () => {
    const keys = await createKeyStore({ retireAfterSeconds: 900 })
    const rsa = await generateKeyPair('RS256')
    keys.trust('harness-issuer', rsa.publicKey, 'RS256')
    expect(keys.verificationKey('harness-issuer')).toMatchObject({ kid: 'harness-issuer', alg: 'RS256' })
    expect(keys.jwks().keys.map((k) => k.kid)).not.toContain('harness-issuer')

    expect(() => keys.trust('harness-issuer', rsa.publicKey, 'RS256')).toThrow(/already in use/)
    expect(() => keys.trust(keys.signingKey().kid, rsa.publicKey, 'RS256')).toThrow(/already in use/)
    expect(() => keys.trust('other', rsa.publicKey, 'ES256')).toThrow(/not a public ES256 key/)
    expect(() => keys.trust('other', rsa.privateKey, 'RS256')).toThrow(/not a public RS256 key/)
  })
})
