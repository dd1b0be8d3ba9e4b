import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSecretScrubber, redactBody, redactHeaders, redactUrl } from './redact.js'

const JWT = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSIsImFjY291bnRfaWQiOiJhIn0.c2lnbmF0dXJlLWJ5dGVz'
const NONE_JWT = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.'
const PASSWORD = 'Planted-Passw0rd!'
const OPAQUE = 'rt_4f8a9c1e2b7d'

describe('redactHeaders', () => {
  const out = redactHeaders({
    Authorization: `Bearer ${JWT}`,
    Cookie: `session=${OPAQUE}; theme=dark`,
    'Set-Cookie': [`sid=${OPAQUE}; Path=/; HttpOnly`, 'b=2'],
    'X-Api-Key': OPAQUE,
    'X-Refresh-Token': OPAQUE,
    'X-Forwarded-For': `10.0.0.1 ${NONE_JWT}`,
    Location: `/cb?access_token=${OPAQUE}&state=ok`,
    'WWW-Authenticate': 'Bearer error="invalid_token"',
    'X-Request-Id': 'req-1',
  })
  const text = JSON.stringify(out)

  it('leaves no credential behind', () => {
    for (const secret of [JWT, NONE_JWT, OPAQUE]) expect(text).not.toContain(secret)
  })

  it('keeps what makes the evidence readable', () => {
    expect(out.Authorization).toBe('Bearer <redacted>')
    expect(out.Cookie).toBe('session=<redacted>; theme=<redacted>')
    expect(out['Set-Cookie']).toBe('sid=<redacted>; Path=/; HttpOnly, b=<redacted>')
    expect(out['X-Api-Key']).toBe('<redacted>')
    expect(out.Location).toBe('/cb?access_token=<redacted>&state=ok')
    expect(out['WWW-Authenticate']).toBe('Bearer error="invalid_token"')
    expect(out['X-Request-Id']).toBe('req-1')
  })

  it('accepts iterable headers (undici / fetch Headers)', () => {
    expect(redactHeaders(new Headers({ authorization: `Basic ${OPAQUE}` }))).toEqual({ authorization: 'Basic <redacted>' })
  })
})

describe('redactBody', () => {
  it('redacts JSON credential fields, keeping field names and formatting', () => {
    const body = JSON.stringify({ username: 'a@b.c', password: PASSWORD, nested: { refresh_token: OPAQUE, client_secret: OPAQUE, n: 1 } }, null, 2)
    const out = redactBody(body)
    expect(out).not.toContain(PASSWORD)
    expect(out).not.toContain(OPAQUE)
    expect(out).toContain('"password": "<redacted>"')
    expect(out).toContain('"username": "a@b.c"')
    expect(JSON.parse(out).nested.n).toBe(1)
  })

  it('redacts a token response, JWTs anywhere and JSON escaped in a string', () => {
    const tokens = JSON.stringify({ access_token: JWT, token_type: 'Bearer', refresh_token: OPAQUE, id_token: JWT, expires_in: 300 })
    const out = redactBody(tokens)
    expect(out).not.toContain(JWT)
    expect(out).not.toContain(OPAQUE)
    expect(out).toContain('"token_type":"Bearer"')
    const echoed = JSON.stringify({ detail: `bad body ${JSON.stringify({ password: PASSWORD })}`, hint: `used ${JWT}` })
    const echoOut = redactBody(echoed)
    expect(echoOut).not.toContain(PASSWORD)
    expect(echoOut).toContain('<redacted-jwt>')
  })

  it('redacts form-urlencoded bodies', () => {
    const out = redactBody(`grant_type=password&username=a%40b.c&password=${encodeURIComponent(PASSWORD)}&workspace_id=w1`)
    expect(out).toBe('grant_type=password&username=a%40b.c&password=<redacted>&workspace_id=w1')
  })

  it('never lets a planted password survive, whatever it looks like', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (secret) => {
        const json = redactBody(JSON.stringify({ email: 'x@y.z', password: secret }))
        const form = redactBody(`username=x&password=${encodeURIComponent(secret)}`)
        return JSON.parse(json).password === '<redacted>' && new URLSearchParams(form).get('password') === '<redacted>'
      }),
    )
  })
})

describe('redactUrl', () => {
  it('redacts credential query parameters, userinfo and JWTs in the path', () => {
    expect(redactUrl(`https://u:${PASSWORD}@h/x?access_token=${JWT}&token=${OPAQUE}&password=p&limit=5#f`)).toBe(
      'https://u:<redacted>@h/x?access_token=<redacted>&token=<redacted>&password=<redacted>&limit=5#f',
    )
    expect(redactUrl(`/v1/verify/${JWT}?api_key=${OPAQUE}`)).toBe('/v1/verify/<redacted-jwt>?api_key=<redacted>')
    expect(redactUrl('/app/v1/workspaces/{workspaceId}/documents?q=a&cursor=c')).toBe('/app/v1/workspaces/{workspaceId}/documents?q=a&cursor=c')
  })
})

describe('createSecretScrubber', () => {
  it('removes known secrets in raw, JSON, URL and HTML-escaped forms', () => {
    const secret = `pa"ss&<word> ${OPAQUE}`
    const scrub = createSecretScrubber([secret, 'ab'])
    const doc = [secret, JSON.stringify(secret), JSON.stringify(JSON.stringify(secret)), encodeURIComponent(secret),
      secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')].join('\n')
    const out = scrub(doc)
    expect(out).not.toContain(OPAQUE)
    expect(out).toContain('[redacted]')
    expect(scrub('ab cd')).toBe('ab cd') // too short to scrub safely
    expect(createSecretScrubber([])('unchanged')).toBe('unchanged')
  })
})
