import { describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { SessionData } from '../adapters/sessions.js'
import { parseProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { describeSecrets, handledInSetup, SecretMatcher, sessionSecrets, testIssuerSecrets, whoIs, type HandledSecret } from './secrets.js'

const topology: Topology = {
  seed: 1, tag: 't1', accounts: [], objects: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' },
  actors: [{ label: 'a0.w0.viewer', kind: 'user', actorKind: 'viewer', id: 'u-1', username: 'Viewer@Tenant-Audit.test', role: 'viewer' }],
}
const pw = (whose: string, value: string): HandledSecret => ({ kind: 'password', whose, value })

describe('SecretMatcher', () => {
  it('finds every listed secret in one text, each once, in order of first occurrence', () => {
    const m = new SecretMatcher([pw('a', 'Ta-alpha-secret'), pw('b', 'Ta-beta-secret-longer'), { kind: 'refresh token', whose: 'c', value: 'rt-0123456789' }])
    const text = JSON.stringify({ x: 'pre rt-0123456789 mid', y: ['Ta-beta-secret-longer', 'Ta-alpha-secret', 'Ta-alpha-secret'] })
    expect(m.find(text).map((s) => s.whose)).toEqual(['c', 'b', 'a'])
    expect(m.find('Ta-alpha-secre')).toEqual([]) // a prefix is not the secret
    expect(m.find('')).toEqual([])
  })

  it('sees a secret JSON-escaped or URL-encoded, as an event or a recorded form holds it', () => {
    const m = new SecretMatcher([pw('quoted', 'pa"ss\\word'), pw('form', 'a b+c/d=e&f')])
    expect(m.find(JSON.stringify({ body: 'password=pa"ss\\word' })).map((s) => s.whose)).toEqual(['quoted'])
    expect(m.find(JSON.stringify({ body: `grant_type=password&password=${encodeURIComponent('a b+c/d=e&f')}` })).map((s) => s.whose)).toEqual(['form'])
    expect(SecretMatcher.contains(`x=${encodeURIComponent('a b+c/d=e&f')}`, pw('form', 'a b+c/d=e&f'))).toBe(true)
  })

  it('keeps the first label of a value listed twice, ignores values too short to mean anything, and copes with none', () => {
    const m = new SecretMatcher([pw('planted', 'same-value-1'), { kind: 'access token', whose: 'later', value: 'same-value-1' }, pw('short', 'abc')])
    expect(m.secrets.map((s) => s.whose)).toEqual(['planted'])
    expect(m.find('abc same-value-1').map((s) => s.whose)).toEqual(['planted'])
    expect(new SecretMatcher([]).find('anything')).toEqual([])
  })

  it('short secrets shrink the index key without missing longer ones', () => {
    const m = new SecretMatcher([pw('four', 'wxyz'), pw('long', 'a-much-longer-secret')])
    expect(m.find('..a-much-longer-secret..wxyz').map((s) => s.whose)).toEqual(['long', 'four'])
  })
})

describe('the secrets a run handled, labelled', () => {
  const session: SessionData = {
    username: 'viewer@tenant-audit.test', password: 'Ta-pw-viewer', accessToken: 'at-now-123', previousTokens: ['at-old-123'],
    refreshToken: 'rt-viewer-123', obtainedAt: 0, partition: 'account:x',
  }

  it("every session's password, access tokens (renewed ones too) and refresh token, named by actor", () => {
    const who = whoIs(topology, 'root@ops.test')
    expect(sessionSecrets([session, { ...session, username: 'ROOT@ops.test', password: 'Ta-root', accessToken: 'at-root-1', previousTokens: undefined, refreshToken: undefined }], who)).toEqual([
      pw('a0.w0.viewer', 'Ta-pw-viewer'),
      { kind: 'access token', whose: 'a0.w0.viewer', value: 'at-now-123' },
      { kind: 'access token', whose: 'a0.w0.viewer', value: 'at-old-123' },
      { kind: 'refresh token', whose: 'a0.w0.viewer', value: 'rt-viewer-123' },
      pw('the bootstrap principal', 'Ta-root'),
      { kind: 'access token', whose: 'the bootstrap principal', value: 'at-root-1' },
    ])
    expect(who('ta-t1-fab12@tenant-audit.test')).toBe('a member created during the run (ta-t1-fab12@tenant-audit.test)')
  })

  it("the test issuer's private key: the JWK text, each private parameter and the PEM", async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' }
    const values = testIssuerSecrets(JSON.stringify(jwk)).map((s) => s.value)
    expect(values).toContain(JSON.stringify(jwk))
    expect(values).toContain(jwk.d)
    expect(values).toContain(Buffer.from(jwk.d!, 'base64url').toString('base64'))
    expect(values.some((v) => v.startsWith(`-----BEGIN ${'PRIVATE'} KEY-----`))).toBe(true)
    expect(testIssuerSecrets('not json').map((s) => s.value)).toEqual(['not json'])
    expect(testIssuerSecrets(undefined)).toEqual([])
  })

  it('what the setup hands over: the bootstrap password, the key, and ID tokens no session carries', async () => {
    const profile = parseProfile({ name: 'p', baseUrl: 'http://127.0.0.1:1' })
    const idToken = await new SignJWT({ email: 'Viewer@Tenant-Audit.test' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u-1').sign(new TextEncoder().encode('k'.repeat(32)))
    const env = { [profile.auth.bootstrap.passwordEnv]: 'Ta-bootstrap', TENANT_AUDIT_TEST_ISSUER_JWK: '{"kty":"oct"}' }
    const handed = handledInSetup(profile, topology, [session], ['Ta-pw-viewer', 'at-old-123', idToken, 'Ta-never-logged-in'], env)
    expect(handed.map((s) => [s.kind, s.whose])).toEqual([
      ['password', 'the bootstrap principal'],
      ['test-issuer private key', 'the test issuer'],
      ['ID token', 'a0.w0.viewer'],
      ['credential', 'an identity provisioning created'],
    ])
  })

  it('describes what was searched by kind and how many identities, never a value', () => {
    const line = describeSecrets([pw('a', 'v1-secret'), pw('b', 'v2-secret'), { kind: 'access token', whose: 'a', value: 'v3-secret' }, { kind: 'test-issuer private key', whose: 'the test issuer', value: 'v4-secret' }])
    expect(line).toBe('passwords of 2 identities, access tokens of 1 identity, the test-issuer private key')
    expect(line).not.toMatch(/v\d-secret/)
  })
})
