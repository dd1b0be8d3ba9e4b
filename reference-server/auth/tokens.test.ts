import { randomUUID } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { createKeyStore } from './keys.js'
import { AUDIENCE, CLIENT_ID, ISSUER } from './testkit.js'
import { issueAccessToken, issueIdToken } from './tokens.js'

const settings = { issuer: ISSUER, audience: AUDIENCE, accessTtlSeconds: 900, idAudience: CLIENT_ID }

describe('issuing', () => {
  it('writes RFC 9068 access tokens with tenancy claims', async () => {
    const keys = await createKeyStore({ retireAfterSeconds: 900 })
    const account_id = randomUUID()
    const workspace_id = randomUUID()
    const { token, jti, expiresIn } = await issueAccessToken(keys, settings, {
      sub: 'u1', client_id: CLIENT_ID, scope: 'app dashboard', account_id, workspace_id, roles: ['workspace:viewer'],
    })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: keys.signingKey().kid, typ: 'at+jwt' })
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: 'u1', client_id: CLIENT_ID, jti, account_id, workspace_id })
    expect(jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(expiresIn).toBe(900)
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900)
  })

  it('leaves absent tenancy claims out of principal tokens', async () => {
    const keys = await createKeyStore({ retireAfterSeconds: 900 })
    const { token } = await issueAccessToken(keys, settings, {
      sub: 'p1', client_id: CLIENT_ID, scope: 'portal', platform_role: 'support',
    })
    const claims = decodeJwt(token)
    expect(claims.platform_role).toBe('support')
    for (const name of ['account_id', 'workspace_id', 'roles']) expect(claims).not.toHaveProperty(name)
  })

  it('writes ID tokens that differ from access tokens in typ and aud', async () => {
    const keys = await createKeyStore({ retireAfterSeconds: 900 })
    const token = await issueIdToken(keys, settings, { sub: 'u1', email: 'u1@example.test' })
    expect(decodeProtectedHeader(token).typ).toBe('JWT')
    expect(decodeJwt(token)).toMatchObject({ aud: CLIENT_ID, token_use: 'id', email: 'u1@example.test', iss: ISSUER })
  })
})
