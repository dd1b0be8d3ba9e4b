import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { exportJWK, generateKeyPair, jwtVerify, importJWK, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { parseProfile } from '../core/profile.js'
import { algNoneHeaders, b64u, brokenSignatures, decode, highS, hmacToken, nonCanonical, psychicSignatures, publicKeyEncodings, raw } from './jwt.js'
import { generateTestIssuer, signWith, testIssuerOf } from './issuer.js'
import { startKeyListener } from './listener.js'

const profileWith = (forgery: object) => parseProfile({ name: 't', baseUrl: 'http://127.0.0.1:1', forgery })

describe('forge: token builders', () => {
  it('raw keeps duplicate members and odd bytes verbatim', () => {
    const t = raw('{"alg":"none","alg":"ES256"}', '{"a":1,"a":2}', 'sig')
    const [h, p, s] = t.split('.')
    expect(Buffer.from(h!, 'base64url').toString()).toBe('{"alg":"none","alg":"ES256"}')
    expect(Buffer.from(p!, 'base64url').toString()).toBe('{"a":1,"a":2}')
    expect(s).toBe('sig')
  })

  it('alg none headers cover every spelling, null, an array and an absent alg, keeping kid and typ', () => {
    const hs = algNoneHeaders({ alg: 'ES256', kid: 'k', typ: 'at+jwt' }).map((x) => JSON.parse(x.header) as Record<string, unknown>)
    expect(hs.map((h) => h.alg)).toEqual(['none', 'None', 'NONE', 'nOnE', 'noNE', '', 'none ', null, ['none'], undefined])
    for (const h of hs) expect(h).toMatchObject({ kid: 'k', typ: 'at+jwt' })
  })

  it('hmacToken signs with any key bytes, the empty key included, and jose verifies the non-empty ones', async () => {
    const t = hmacToken('HS256', 'secret', { kid: 'x' }, { sub: 'u' })
    expect(decode(t)?.header).toEqual({ kid: 'x', alg: 'HS256' })
    await expect(jwtVerify(t, new TextEncoder().encode('secret'))).resolves.toBeDefined()
    expect(hmacToken('HS512', '', {}, { sub: 'u' }).split('.')[2]).toHaveLength(86)
  })

  it('broken signatures differ from the original and are not empty', () => {
    const sig = Buffer.alloc(64, 7).toString('base64url')
    for (const b of brokenSignatures(sig)) {
      expect(b.signature).not.toBe(sig)
      expect(b.signature.length).toBeGreaterThan(0)
    }
  })

  it('psychic signatures are all zeros in the JOSE size of each curve, plus the DER form', () => {
    expect(Buffer.from(psychicSignatures('ES256')[0]!, 'base64url')).toEqual(Buffer.alloc(64))
    expect(Buffer.from(psychicSignatures('ES512')[0]!, 'base64url')).toHaveLength(132)
    expect(psychicSignatures('ES384')[1]).toBe('MAYCAQACAQA')
  })

  it('highS gives a second signature that verifies over the same input (malleability)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const key = (await import('node:crypto')).createPrivateKey({ key: (await exportJWK(privateKey)) as never, format: 'jwk' })
    const token = signWith('ES256', key, { alg: 'ES256' }, { sub: 'u' })
    const [h, p, s] = token.split('.') as [string, string, string]
    const twin = highS(s)!
    expect(twin).not.toBe(s)
    const pub = createPublicKey({ key: (await exportJWK(publicKey)) as never, format: 'jwk' })
    expect(cryptoVerify('sha256', Buffer.from(`${h}.${p}`), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(twin, 'base64url'))).toBe(true)
  })

  it('non-canonical spellings differ from the token; flipped low bits decode to the same bytes', () => {
    const token = `${b64u({ alg: 'ES256' })}.${b64u({ sub: 'u' })}.${Buffer.alloc(64, 9).toString('base64url')}`
    const variants = nonCanonical(token)
    for (const v of variants) expect(v.token).not.toBe(token)
    const flipped = variants.find((v) => v.name.startsWith('unused low bits'))!
    expect(Buffer.from(flipped.token.split('.')[2]!, 'base64url')).toEqual(Buffer.alloc(64, 9))
  })

  it('public key encodings: PEM with and without newline, CRLF, DER, JWK, JWKS; PKCS#1 for RSA only', async () => {
    const ec = { ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)), kid: 'e' }
    const names = publicKeyEncodings(ec, { keys: [ec] }).map((e) => e.name)
    expect(names).toContain('SPKI PEM without the final newline')
    expect(names).not.toContain('PKCS#1 PEM')
    const rsa = { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey)), kid: 'r' }
    const encs = publicKeyEncodings(rsa, { keys: [rsa] })
    expect(encs.map((e) => e.name)).toContain('PKCS#1 DER')
    expect(encs.find((e) => e.name === 'SPKI PEM')!.bytes.toString()).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n$/)
  })
})

describe('forge: test issuer', () => {
  it('a generated key round-trips through the environment and signs tokens jose verifies with the public JWK', async () => {
    const g = await generateTestIssuer()
    const got = testIssuerOf(profileWith({ testIssuer: { privateJwkEnv: 'TA_TEST_JWK' } }), { TA_TEST_JWK: JSON.stringify(g.privateJwk) })
    expect('issuer' in got).toBe(true)
    const issuer = (got as Extract<typeof got, { issuer: unknown }>).issuer
    expect(issuer.kid).toBe(g.kid)
    expect(g.publicJwk).not.toHaveProperty('d')
    const token = issuer.signRaw({ alg: 'ES256', kid: g.kid }, { sub: 'u' })
    await expect(jwtVerify(token, await importJWK(g.publicJwk, 'ES256'))).resolves.toBeDefined()
    expect(decodeProtectedHeader(token).kid).toBe(g.kid)
  })

  it('says why there is none: no profile entry, variable unset, not a private JWK', () => {
    expect(testIssuerOf(profileWith({}), {})).toEqual({ reason: expect.stringMatching(/forgery.testIssuer/) })
    const named = profileWith({ testIssuer: { privateJwkEnv: 'TA_TEST_JWK' } })
    expect(testIssuerOf(named, {})).toEqual({ reason: expect.stringMatching(/TA_TEST_JWK is not set/) })
    expect(testIssuerOf(named, { TA_TEST_JWK: '{"kty":"EC"}' })).toEqual({ reason: expect.stringMatching(/private JWK/) })
  })
})

describe('forge: loopback key listener', () => {
  it('binds 127.0.0.1 on a free port only, serves what it is given and counts every hit', async () => {
    const l = await startKeyListener()
    try {
      expect(l.address.address).toBe('127.0.0.1')
      expect(l.address.port).toBeGreaterThan(0)
      expect(new URL(l.url('/jwks.json')).hostname).toBe('127.0.0.1')
      l.serve('/jwks.json', { keys: [] })
      const ok = await fetch(l.url('/jwks.json'))
      expect(await ok.json()).toEqual({ keys: [] })
      expect((await fetch(l.url('/nothing?x=1'))).status).toBe(404)
      expect(l.hits).toEqual(['/jwks.json', '/nothing?x=1'])
    } finally {
      await l.close()
    }
  })
})
