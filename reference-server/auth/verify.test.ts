import { randomUUID } from 'node:crypto'
import { SignJWT, generateKeyPair } from 'jose'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { AuthErrorCode } from './errors.js'
import { AuthError } from './errors.js'
import { createKeyStore } from './keys.js'
import type { KeyStore } from './keys.js'
import { AUDIENCE, CLIENT_ID, ISSUER, accessHeader, forge, userPayload } from './testkit.js'
import { issueAccessToken, issueIdToken } from './tokens.js'
import type { TokenSettings } from './tokens.js'
import { createVerifier } from './verify.js'

const settings: TokenSettings = { issuer: ISSUER, audience: AUDIENCE, accessTtlSeconds: 900, idAudience: CLIENT_ID }
const now = (): number => Math.floor(Date.now() / 1000)

let t: number
let keys: KeyStore
let revoked: Set<string>
let isRevoked: ReturnType<typeof vi.fn<(jti: string) => Promise<boolean>>>
let verify: (authorization: string | undefined) => ReturnType<ReturnType<typeof createVerifier>['verify']>

beforeEach(async () => {
  t = Date.now()
  keys = await createKeyStore({ retireAfterSeconds: 900, now: () => t })
  revoked = new Set()
  isRevoked = vi.fn(async (jti: string) => revoked.has(jti))
  const verifier = createVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, maxTokenAgeSeconds: 900, clockToleranceSeconds: 5, isRevoked })
  verify = (authorization) => verifier.verify(authorization)
})

async function refused(token: string, code: AuthErrorCode): Promise<void> {
  const err = await verify(`Bearer ${token}`).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(AuthError)
  expect((err as AuthError).code).toBe(code)
  // Generic messages only: nothing of the token comes back.
  for (const part of token.split('.')) if (part.length > 8) expect((err as AuthError).message).not.toContain(part)
}

const user = { sub: 'user-1', client_id: CLIENT_ID, scope: 'app dashboard', account_id: randomUUID(), workspace_id: randomUUID(), roles: ['workspace:editor'] }

describe('verifier: accepts', () => {
  it('a freshly issued user token', async () => {
    const { token, jti } = await issueAccessToken(keys, settings, user)
    const v = await verify(`Bearer ${token}`)
    expect(v).toMatchObject({ sub: 'user-1', jti, clientId: CLIENT_ID, scope: ['app', 'dashboard'], accountId: user.account_id, workspaceId: user.workspace_id, roles: ['workspace:editor'], platformRole: null, kind: 'user' })
    expect(v.exp - v.iat).toBe(900)
    expect(isRevoked).toHaveBeenCalledWith(jti)
    // The scheme is case-insensitive (RFC 6750 / RFC 9110 §11.1).
    await expect(verify(`bearer ${token}`)).resolves.toMatchObject({ jti })
  })

  it('a principal token', async () => {
    const { token } = await issueAccessToken(keys, settings, { sub: 'p-1', client_id: CLIENT_ID, scope: 'portal', platform_role: 'platform_admin' })
    await expect(verify(`Bearer ${token}`)).resolves.toMatchObject({ kind: 'principal', platformRole: 'platform_admin', accountId: null, workspaceId: null, roles: [] })
  })

  it('an aud array holding our audience alone', async () => {
    await expect(verify(`Bearer ${await forge(keys, userPayload({ aud: [AUDIENCE] }))}`)).resolves.toBeDefined()
  })

  it('a token signed by a trusted RS256 test issuer', async () => {
    const rsa = await generateKeyPair('RS256')
    keys.trust('harness', rsa.publicKey, 'RS256')
    const token = await new SignJWT(userPayload()).setProtectedHeader({ alg: 'RS256', kid: 'harness', typ: 'at+jwt' }).sign(rsa.privateKey)
    await expect(verify(`Bearer ${token}`)).resolves.toMatchObject({ kind: 'user' })
  })

  it('a token from a replaced key until retireAfterSeconds have passed', async () => {
    const { token } = await issueAccessToken(keys, settings, user)
    await keys.rotate()
    await expect(verify(`Bearer ${token}`)).resolves.toBeDefined()
    t += 900_001
    await refused(token, 'key_unknown')
  })
})

describe('verifier: time', () => {
  it('refuses an expired token', async () => {
    await refused(await forge(keys, userPayload({ iat: now() - 1000, exp: now() - 100 })), 'token_expired')
  })
  it('refuses an iat in the future', async () => {
    await refused(await forge(keys, userPayload({ iat: now() + 120, exp: now() + 900 })), 'token_not_yet_valid')
  })
  it('refuses an nbf in the future', async () => {
    await refused(await forge(keys, userPayload({ nbf: now() + 120 })), 'token_not_yet_valid')
  })
  it('refuses a token older than maxTokenAge even when exp is far away', async () => {
    await refused(await forge(keys, userPayload({ iat: now() - 2000, exp: now() + 86_400 })), 'token_too_old')
  })
})

describe('verifier: issuer, audience, type', () => {
  it('refuses the wrong issuer', async () => {
    const { token } = await issueAccessToken(keys, { ...settings, issuer: 'https://evil.test' }, user)
    await refused(token, 'issuer_invalid')
  })
  it('refuses the wrong audience', async () => {
    const { token } = await issueAccessToken(keys, { ...settings, audience: 'https://other-api.test' }, user)
    await refused(token, 'audience_invalid')
  })
  it('refuses an aud array with an extra member (jose accepts it)', async () => {
    await refused(await forge(keys, userPayload({ aud: [AUDIENCE, 'https://other-api.test'] })), 'audience_invalid')
  })
  it('refuses the ID token on typ', async () => {
    await refused(await issueIdToken(keys, settings, { sub: user.sub, email: 'a@b.test', account_id: user.account_id, workspace_id: user.workspace_id }), 'type_invalid')
  })
  it('refuses ID-token claims on aud even under typ at+jwt', async () => {
    await refused(await forge(keys, userPayload({ aud: CLIENT_ID })), 'audience_invalid')
  })
  it('refuses token_use other than access', async () => {
    await refused(await forge(keys, userPayload({ token_use: 'id' })), 'claim_invalid')
  })
})

describe('verifier: claims', () => {
  const cases: Array<[string, Record<string, unknown>, AuthErrorCode]> = [
    ['missing client_id', { client_id: undefined }, 'claim_missing'],
    ['missing jti', { jti: undefined }, 'claim_missing'],
    ['missing exp', { exp: undefined }, 'claim_missing'],
    ['user without workspace_id', { workspace_id: undefined }, 'claim_missing'],
    ['user without account_id', { account_id: undefined }, 'claim_missing'],
    ['exp as a string', { exp: String(now() + 900) }, 'claim_invalid'],
    ['fractional iat', { iat: now() - 0.5 }, 'claim_invalid'],
    ['numeric sub', { sub: 42 }, 'claim_invalid'],
    ['account_id not a uuid', { account_id: 'acct-1' }, 'claim_invalid'],
    ['upper-case workspace_id', { workspace_id: randomUUID().toUpperCase() }, 'claim_invalid'],
    ['roles as a string', { roles: 'workspace:admin' }, 'claim_invalid'],
    ['roles with a number', { roles: ['workspace:admin', 1] }, 'claim_invalid'],
    ['user with portal scope', { scope: 'app portal' }, 'claim_invalid'],
    ['user without app or dashboard', { scope: 'openid' }, 'claim_invalid'],
    ['principal without portal', { platform_role: 'support', scope: 'app', account_id: undefined, workspace_id: undefined, roles: undefined }, 'claim_invalid'],
    ['principal with tenancy claims', { platform_role: 'support', scope: 'portal', roles: undefined }, 'claim_invalid'],
    ['unknown platform_role', { platform_role: 'root', scope: 'portal' }, 'claim_invalid'],
  ]
  it.each(cases)('refuses %s', async (_name, extra, code) => {
    await refused(await forge(keys, JSON.parse(JSON.stringify(userPayload(extra))) as object), code)
  })
})

describe('verifier: revocation', () => {
  it('refuses a revoked jti', async () => {
    const { token, jti } = await issueAccessToken(keys, settings, user)
    revoked.add(jti)
    await refused(token, 'token_revoked')
  })
  it('does not consult the revocation store for a token that fails earlier', async () => {
    await refused(await forge(keys, userPayload({ aud: 'x' })), 'audience_invalid')
    expect(isRevoked).not.toHaveBeenCalled()
  })
})

describe('verifier: a token verified once is remembered until it expires, never past a revocation or its key', () => {
  it('checks revocation on every call, also for a remembered token', async () => {
    const { token, jti } = await issueAccessToken(keys, settings, user)
    await expect(verify(`Bearer ${token}`)).resolves.toMatchObject({ jti })
    await expect(verify(`Bearer ${token}`)).resolves.toMatchObject({ jti })
    expect(isRevoked).toHaveBeenCalledTimes(2)
    revoked.add(jti)
    await refused(token, 'token_revoked')
  })

  it('refuses a remembered token once it has expired', async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] })
    try {
      const { token } = await issueAccessToken(keys, settings, user)
      await expect(verify(`Bearer ${token}`)).resolves.toBeDefined()
      vi.setSystemTime(Date.now() + 906_000) // past exp and the 5 s tolerance
      await refused(token, 'token_expired')
    } finally {
      vi.useRealTimers()
    }
  })

  it('refuses a remembered token whose key the store no longer has', async () => {
    const { token } = await issueAccessToken(keys, settings, user)
    await expect(verify(`Bearer ${token}`)).resolves.toBeDefined()
    await keys.rotate()
    t += 901_000 // the key store's clock only: the old key retires, the token itself is still within its lifetime
    await refused(token, 'key_unknown')
  })

  it('remembers token bytes, not claims: the same claims with another signature are verified afresh', async () => {
    const { token } = await issueAccessToken(keys, settings, user)
    await expect(verify(`Bearer ${token}`)).resolves.toBeDefined()
    const [h, p, s] = token.split('.') as [string, string, string]
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`
    await refused(flipped, 'signature_invalid')
  })
})
