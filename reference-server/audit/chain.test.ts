import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canonicalJson, eventHash } from './canonical.js'
import { verifyEvents } from './chain.js'
import { activityOf, classOf, clean, type AuditEvent } from './event.js'

/** A well-formed trail of `n` events for `accountId`, hashed as the server hashes them. */
function trail(accountId: string | null, n: number): AuditEvent[] {
  const out: AuditEvent[] = []
  for (let i = 1; i <= n; i++) {
    const body = {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, accountId, seq: i, prevHash: out[i - 2]?.hash ?? null,
      time: '2026-11-28T09:00:00.000Z', classUid: 6003, activity: 'update' as const, action: 'documents.update',
      metadata: { tenantUid: accountId, correlationUid: `r${i}`, version: '1' as const }, actor: { kind: 'anonymous' as const },
      target: { type: 'documents', uid: null, accountId, workspaceId: null },
      http: { method: 'PATCH', route: '/x', status: 200 }, outcome: 'success' as const, reason: null,
      src: { ip: '127.0.0.1', userAgent: 'ü' }, count: 1,
    }
    out.push({ ...body, hash: eventHash(body) })
  }
  return out
}

describe('audit chain', () => {
  it('hashes the RFC 8785 form: sorted keys, no whitespace, independent of key order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1.5, y: 'é' } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":"é","z":1.5}}')
    const e = trail('a', 1)[0]!
    const { hash, ...rest } = e
    const reversed = Object.fromEntries(Object.entries(rest).reverse())
    expect(eventHash(reversed)).toBe(hash)
    expect(hash).toBe(createHash('sha256').update(canonicalJson(rest)).digest('hex'))
  })

  it('verifies well-formed trails, in any order and interleaved', () => {
    const events = [...trail('a', 5), ...trail(null, 3), ...trail('b', 4)].reverse()
    expect(verifyEvents(events)).toEqual({ ok: true, trails: 3, events: 12 })
  })

  it('names the first broken row: changed content, a broken link, a gap', () => {
    const changed = trail('a', 5)
    changed[2] = { ...changed[2]!, outcome: 'failure' }
    expect(verifyEvents(changed)).toMatchObject({ ok: false, accountId: 'a', seq: 3, problem: 'hash' })
    const relinked = trail('a', 5)
    relinked[3] = { ...relinked[3]!, prevHash: relinked[1]!.hash }
    expect(verifyEvents(relinked)).toMatchObject({ ok: false, seq: 4, problem: 'prev-hash' })
    const gap = trail('a', 5).filter((e) => e.seq !== 2)
    expect(verifyEvents(gap)).toMatchObject({ ok: false, seq: 3, problem: 'seq' })
    const first = trail('a', 2)
    first[0] = { ...first[0]!, prevHash: 'f'.repeat(64) }
    expect(verifyEvents(first)).toMatchObject({ ok: false, seq: 1, problem: 'prev-hash' })
  })

  it('maps actions to OCSF activity and class', () => {
    expect([activityOf('documents.update'), activityOf('auth.token'), activityOf('documents.archive')]).toEqual(['update', 'logon', 'other'])
    expect([classOf('auth.token'), classOf('users.update'), classOf('accounts.update'), classOf('users.list'), classOf('documents.create')]).toEqual([3002, 3001, 3001, 6003, 6003])
  })

  it('escapes every control character and cuts long values', () => {
    expect(clean('a\r\nb\u0000\u001b\u007f\u0085\u2028\u2029c')).toBe('a\\u000d\\u000ab\\u0000\\u001b\\u007f\\u0085\\u2028\\u2029c')
    expect(clean('x'.repeat(600), 512)).toHaveLength(513)
    expect(clean(undefined)).toBe('')
  })
})
