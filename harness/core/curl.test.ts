import { describe, expect, it } from 'vitest'
import { shellQuote, toCurl } from './curl.js'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln'

describe('toCurl', () => {
  it('uses $TOKEN, never the token, and stays on one line', () => {
    const line = toCurl({
      method: 'POST',
      url: `http://127.0.0.1:4010/app/v1/workspaces/w1/documents?access_token=${TOKEN}`,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': '42', Cookie: 'sid=abc123' },
      body: `{"title":"it's\nnew","token":"${TOKEN}"}`,
    })
    expect(line).not.toContain(TOKEN)
    expect(line).not.toContain('abc123')
    expect(line).not.toContain('\n')
    expect(line).toContain('-H "Authorization: Bearer $TOKEN"')
    expect(line).toContain('-X POST')
    expect(line).not.toMatch(/content-length/i)
    expect(line).toContain(`--data-raw $'{"title":"it\\'s\\nnew","token":"<redacted>"}'`)
  })

  it('keeps GET plain, turns globbing off for templates and quotes single quotes', () => {
    expect(toCurl({ method: 'GET', url: "/a/{id}?q=it's", headers: { Authorization: 'Basic dTpw' } })).toBe(
      `curl -sS -i --globoff '/a/{id}?q=it'\\''s' -H "Authorization: Basic $CREDENTIALS"`,
    )
  })

  it('quotes shell words safely', () => {
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'")
    expect(shellQuote('a\u0001b')).toBe("$'a\\x01b'")
  })
})
