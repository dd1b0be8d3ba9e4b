import { createHmac, randomUUID } from 'node:crypto'
import { CompactEncrypt, exportJWK, exportSPKI, generateKeyPair } from 'jose'
import { beforeEach, describe, expect, it } from 'vitest'
import type { AuthErrorCode } from './errors.js'
import { AuthError } from './errors.js'
import { createKeyStore } from './keys.js'
import type { KeyStore } from './keys.js'
import { AUDIENCE, ISSUER, accessHeader, b64, forge, signRaw, userPayload } from './testkit.js'
import { createVerifier } from './verify.js'
import { hasDuplicateMembers } from './strict-json.js'

let keys: KeyStore
let verify: (authorization: string | undefined) => Promise<unknown>

beforeEach(async () => {
  keys = await createKeyStore({ retireAfterSeconds: 900 })
  const verifier = createVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, maxTokenAgeSeconds: 900, isRevoked: async () => false })
  verify = (authorization) => verifier.verify(authorization)
})

async function refusedHeader(authorization: string | undefined, code: AuthErrorCode): Promise<void> {
  const err = await verify(authorization).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(AuthError)
  expect((err as AuthError).code).toBe(code)
}
const refused = (token: string, code: AuthErrorCode): Promise<void> => refusedHeader(`Bearer ${token}`, code)

/** Replaces the last character of a segment with the one whose 6-bit value differs in the lowest bit. */
function flipLowBit(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(segment.slice(-1))
  return segment.slice(0, -1) + alphabet.charAt(last ^ 1)
}

describe('forgery: signature and algorithm', () => {
  it('sanity: the raw-signing path yields an accepted token', async () => {
    await expect(verify(`Bearer ${await forge(keys)}`)).resolves.toBeDefined()
  })

  it('refuses a tampered payload under the old signature', async () => {
    const [h, , s] = (await forge(keys)).split('.')
    await refused(`${h}.${b64(userPayload({ roles: ['account:admin'] }))}.${s}`, 'signature_invalid')
  })

  it('refuses a truncated signature', async () => {
    await refused((await forge(keys)).slice(0, -2), 'signature_invalid')
  })

  it('refuses alg none built raw as H.P. (empty signature)', async () => {
    await refused(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(userPayload())}.`, 'token_malformed')
  })

  it('refuses alg none carrying a known kid and a signature', async () => {
    const h = b64({ alg: 'none', kid: keys.signingKey().kid, typ: 'at+jwt' })
    await refused(`${h}.${b64(userPayload())}.AAAA`, 'algorithm_not_allowed')
  })

  it('refuses HS256 keyed with the public key PEM bytes (RS/ES → HS confusion)', async () => {
    const pem = await exportSPKI(keys.verificationKey(keys.signingKey().kid)!.publicKey)
    const input = `${b64(accessHeader(keys, { alg: 'HS256' }))}.${b64(userPayload())}`
    const sig = createHmac('sha256', pem).update(input).digest('base64url')
    await refused(`${input}.${sig}`, 'algorithm_not_allowed')
  })

  it('refuses an allowed alg that is not the one the kid is bound to', async () => {
    const rsa = await generateKeyPair('RS256')
    const token = await signRaw(rsa.privateKey, accessHeader(keys, { alg: 'RS256' }), userPayload(), 'RS256')
    await refused(token, 'algorithm_not_allowed')
  })

  it('refuses a missing kid and an unknown kid', async () => {
    const { kid: _kid, ...noKid } = accessHeader(keys)
    await refused(await forge(keys, userPayload(), noKid), 'key_unknown')
    await refused(await forge(keys, userPayload(), accessHeader(keys, { kid: 'no-such-key' })), 'key_unknown')
    await refused(await forge(keys, userPayload(), accessHeader(keys, { kid: 7 })), 'key_unknown')
  })

  it('refuses exp: 1e309 (jose reads it as Infinity and lets it pass)', async () => {
    const json = JSON.stringify(userPayload()).replace(/"exp":\d+/, '"exp":1e309')
    expect(json).toContain('1e309')
    await refused(await forge(keys, json as unknown as object), 'claim_invalid')
  })
})

describe('forgery: header parameters', () => {
  it('refuses crit, whether jose knows the extension or not', async () => {
    await refused(await forge(keys, userPayload(), accessHeader(keys, { crit: ['exp'], exp: 1 })), 'token_malformed')
    await refused(await forge(keys, userPayload(), accessHeader(keys, { crit: ['b64'], b64: true })), 'token_malformed')
  })

  it('refuses an embedded jwk, even one matching the signing key', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true })
    const jwk = await exportJWK(attacker.publicKey)
    await refused(await signRaw(attacker.privateKey, accessHeader(keys, { jwk }), userPayload()), 'token_malformed')
    const own = keys.jwks().keys[0]
    await refused(await forge(keys, userPayload(), accessHeader(keys, { jwk: own })), 'token_malformed')
  })

  it.each(['jku', 'x5u'])('refuses %s', async (name) => {
    await refused(await forge(keys, userPayload(), accessHeader(keys, { [name]: 'https://evil.test/keys' })), 'token_malformed')
  })

  it('refuses x5c', async () => {
    await refused(await forge(keys, userPayload(), accessHeader(keys, { x5c: ['MIIB'] })), 'token_malformed')
  })
})

describe('forgery: encoding', () => {
  it('refuses = padding on the signature', async () => {
    await refused(`${await forge(keys)}==`, 'token_malformed')
  })

  it('refuses a trailing space', async () => {
    await refused(`${await forge(keys)} `, 'token_malformed')
  })

  it('refuses flipped unused low bits in the last signature character', async () => {
    const [h, p, s] = (await forge(keys)).split('.') as [string, string, string]
    const flipped = flipLowBit(s)
    // Same bytes, different spelling: the decoder cannot tell them apart, so only the re-encode check can.
    expect(Buffer.from(flipped, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true)
    await refused(`${h}.${p}.${flipped}`, 'token_malformed')
  })

  it('refuses standard-alphabet base64 and a five-part JWE', async () => {
    await refused((await forge(keys)).replace(/-/g, '+').replace(/_/g, '/') + '+/', 'token_malformed')
    const { publicKey } = await generateKeyPair('ECDH-ES')
    const jwe = await new CompactEncrypt(Buffer.from('{}')).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' }).encrypt(publicKey)
    await refused(jwe, 'token_malformed')
  })
})

describe('forgery: the Authorization header', () => {
  it('reports no token for an absent header, another scheme, or an empty Bearer', async () => {
    await refusedHeader(undefined, 'token_missing')
    await refusedHeader('', 'token_missing')
    await refusedHeader('Basic dXNlcjpwYXNz', 'token_missing')
    await refusedHeader('Bearer ', 'token_missing')
  })

  it('refuses two tokens, comma- or space-separated, and a double space', async () => {
    const a = await forge(keys)
    const b = await forge(keys)
    await refusedHeader(`Bearer ${a}, ${b}`, 'token_malformed')
    await refusedHeader(`Bearer ${a},${b}`, 'token_malformed')
    await refusedHeader(`Bearer ${a} ${b}`, 'token_malformed')
    await refusedHeader(`Bearer  ${a}`, 'token_malformed')
  })

  it('refuses an oversize token before parsing it', async () => {
    const big = await forge(keys, userPayload({ pad: 'x'.repeat(4000) }))
    expect(big.length).toBeGreaterThan(4096)
    await refused(big, 'token_too_large')
  })
})

describe('forgery: strict JSON segments and lifetime (hardening for ENC-01, ENC-02, ENC-05, CLM-04)', () => {
  it('refuses a duplicate claim, whichever copy would win', async () => {
    const base = JSON.stringify(userPayload())
    const dup = base.replace(/^\{/, `{"account_id":"${randomUUID()}",`)
    await refused(await forge(keys, dup as unknown as object), 'token_malformed')
    const escaped = base.replace(/^\{/, '{"\\u0073ub":"someone-else",')
    await refused(await forge(keys, escaped as unknown as object), 'token_malformed')
  })

  it('refuses a duplicate header parameter', async () => {
    const header = JSON.stringify(accessHeader(keys)).replace(/^\{/, '{"alg":"none",')
    await refused(await forge(keys, userPayload(), header as unknown as object), 'token_malformed')
  })

  it('refuses a BOM, invalid UTF-8 and a non-object segment', async () => {
    await refused(await forge(keys, `\uFEFF${JSON.stringify(userPayload())}` as unknown as object), 'token_malformed')
    const input = `${b64(accessHeader(keys))}.${Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]).toString('base64url')}`
    await refused(`${input}.AAAA`, 'token_malformed')
    await refused(await forge(keys, '[1]' as unknown as object), 'token_malformed')
  })

  it('accepts nested objects that merely reuse a name at another depth', () => {
    expect(hasDuplicateMembers('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toBe(false)
    expect(hasDuplicateMembers('{"a":{"b":1,"b":2}}')).toBe(true)
    expect(hasDuplicateMembers('{"a":"\\"b\\":","b":1}')).toBe(false)
  })

  it('refuses a lifetime longer than the access-token lifetime (exp ten years out)', async () => {
    const iat = Math.floor(Date.now() / 1000)
    await refused(await forge(keys, userPayload({ iat, exp: iat + 10 * 365 * 86_400 })), 'claim_invalid')
  })
})

describe('forgery: app client binding (hardening for CLM-08)', () => {
  it('refuses a client_id outside the configured set, accepts one inside it', async () => {
    const bound = createVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, maxTokenAgeSeconds: 900, isRevoked: async () => false, clientIds: ['tenant-audit-cli'] })
    await expect(bound.verify(`Bearer ${await forge(keys)}`)).resolves.toBeDefined()
    const err = await bound.verify(`Bearer ${await forge(keys, userPayload({ client_id: 'someone-else' }))}`).catch((e: unknown) => e)
    expect((err as AuthError).code).toBe('audience_invalid')
  })
})
