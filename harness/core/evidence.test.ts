import { describe, expect, it } from 'vitest'
import { MAX_EVIDENCE_BODY_BYTES, recordEvidence, truncateBody } from './evidence.js'

describe('truncateBody', () => {
  it('keeps short bodies and cuts long ones at 4 KiB', () => {
    expect(truncateBody('short')).toBe('short')
    const cut = truncateBody('x'.repeat(10_000))
    expect(cut.startsWith('x'.repeat(MAX_EVIDENCE_BODY_BYTES))).toBe(true)
    expect(cut).toContain('[truncated 5904 bytes]')
  })

  it('never splits a UTF-8 character', () => {
    const cut = truncateBody('€'.repeat(2000)) // 3 bytes each
    expect(cut).not.toContain('\ufffd')
    expect(Buffer.byteLength(cut.split('…')[0] ?? '', 'utf8')).toBeLessThanOrEqual(MAX_EVIDENCE_BODY_BYTES)
  })
})

describe('recordEvidence', () => {
  it('redacts before truncating, so a credential at the cut cannot leak a prefix', () => {
    const token = `eyJ${'a'.repeat(40)}.eyJ${'b'.repeat(40)}.${'c'.repeat(40)}`
    const body = `${'x'.repeat(MAX_EVIDENCE_BODY_BYTES - 20)}${token}`
    const ev = recordEvidence({
      request: { method: 'post', url: '/auth/token?password=p', headers: { authorization: `Bearer ${token}` }, body: 'password=hunter22' },
      response: { status: 200, headers: { 'content-type': 'text/plain' }, body },
    })
    expect(ev.request.method).toBe('POST')
    expect(ev.request.url).toBe('/auth/token?password=<redacted>')
    expect(ev.request.body).toBe('password=<redacted>')
    expect(JSON.stringify(ev)).not.toContain('a'.repeat(10))
    expect(ev.response.body).not.toContain('eyJ')
  })
})
