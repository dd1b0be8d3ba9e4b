import { describe, expect, it } from 'vitest'
import { eventHash, sealChain, verifyChain } from './chain.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

const content = (n: number) => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  time: `2026-11-28T09:00:0${n % 10}.000Z`,
  action: 'documents.update',
  actor: { kind: 'user', uid: A, accountId: A, workspaceId: null, roles: ['workspace:editor'] },
  target: { type: 'documents', uid: null, accountId: A, workspaceId: null },
  outcome: n % 2 ? 'success' : 'failure',
  count: 1,
})

const trailA = () => sealChain([1, 2, 3, 4, 5].map(content), A)
const trailB = () => sealChain([6, 7, 8].map(content), B)
const platform = () => sealChain([9, 10].map(content), null)

describe('verifyChain', () => {
  it('a good chain verifies, several trails in any order', () => {
    const all = [...trailA(), ...trailB(), ...platform()].reverse()
    const report = verifyChain(all)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.trails).toBe(3)
    expect(report.heads.get(A)?.seq).toBe(5)
    expect(report.heads.get(null)?.seq).toBe(2)
  })

  it('the hash is over RFC 8785 canonical JSON: key order does not matter', () => {
    const [e] = trailA()
    const reordered = Object.fromEntries(Object.entries(e!).reverse())
    expect(eventHash(reordered)).toBe(e!.hash)
  })

  it('a changed field fails at that row, and only there', () => {
    const events = trailA()
    ;(events[2]!.target as Record<string, unknown>).accountId = B
    const report = verifyChain(events)
    expect(report.ok).toBe(false)
    expect(report.problems).toHaveLength(1)
    expect(report.problems[0]).toMatchObject({ kind: 'hash', trail: A, seq: 3, eventId: events[2]!.id })
  })

  it('a changed and re-hashed row breaks the link to the next row', () => {
    const events = trailA()
    events[1]!.outcome = 'success'
    events[1]!.hash = eventHash(events[1]!)
    const report = verifyChain(events)
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'prev-hash', seq: 3 })])
  })

  it('a gap in seq (a deleted row) is found', () => {
    const events = trailA()
    events.splice(2, 1)
    const report = verifyChain(events)
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([['gap', 4]])
  })

  it('a missing first row is found in a complete export, not in a filtered one', () => {
    const events = trailA().slice(1)
    expect(verifyChain(events).problems.map((p) => p.kind)).toEqual(['start'])
    expect(verifyChain(events, { complete: false }).ok).toBe(true)
  })

  it('a filtered export links only consecutive rows but checks every hash', () => {
    const events = trailA().filter((e) => e.seq !== 3)
    expect(verifyChain(events, { complete: false }).ok).toBe(true)
    events[0]!.action = 'documents.delete'
    expect(verifyChain(events, { complete: false }).problems).toEqual([expect.objectContaining({ kind: 'hash', seq: 1 })])
  })

  it('a wrong prevHash is found at that row', () => {
    const events = trailA()
    events[3]!.prevHash = 'f'.repeat(64)
    events[3]!.hash = eventHash(events[3]!)
    const report = verifyChain(events)
    // Row 4 no longer links to row 3; and row 5 (which linked to the old row 4) no longer links either.
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([['prev-hash', 4], ['prev-hash', 5]])
  })

  it('seq 1 must have prevHash null, later rows must not', () => {
    const events = trailA()
    events[0]!.prevHash = 'a'.repeat(64)
    events[0]!.hash = eventHash(events[0]!)
    const kinds = verifyChain(events).problems.map((p) => [p.kind, p.seq])
    expect(kinds).toContainEqual(['prev-hash', 1])
  })

  it('two rows with one seq are a forked chain', () => {
    const events = trailA()
    const fork: Record<string, unknown> = { ...events[2]!, id: 'fork', outcome: 'failure' }
    fork.hash = eventHash(fork)
    const report = verifyChain([...events, fork])
    expect(report.problems.map((p) => p.kind)).toContain('duplicate')
  })

  it('one event read twice (offset pages shifted by appends) is one event, not a fork', () => {
    const events = trailA()
    const report = verifyChain([...events, { ...events[2]! }, { ...events[4]! }])
    expect(report.problems).toEqual([])
    expect(report.heads.get(A)?.seq).toBe(5)
  })

  it('the same id with another hash at one seq is still a fork', () => {
    const events = trailA()
    const copy: Record<string, unknown> = { ...events[2]!, outcome: 'failure' }
    copy.hash = eventHash(copy)
    expect(verifyChain([...events, copy]).problems.map((p) => p.kind)).toContain('duplicate')
  })

  it('a hash computed over other content (e.g. without `target`) fails on every row', () => {
    const events = trailA().map((e) => {
      const { target: _t, ...rest } = e
      return { ...e, hash: eventHash(rest) }
    })
    const report = verifyChain(events)
    expect(report.problems.filter((p) => p.kind === 'hash')).toHaveLength(5)
  })

  it('malformed rows are reported, not thrown', () => {
    const report = verifyChain([{ id: 'x', accountId: A, seq: '1', hash: 'nope', prevHash: null }])
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'malformed', eventId: 'x' })])
  })
})
