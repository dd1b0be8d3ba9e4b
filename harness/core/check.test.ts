import { describe, expect, it } from 'vitest'
import { MAX_NOTE_LENGTH, MAX_NOTES, checkFilePath, defineCheck, normalizeNotes, resolveFindings, toCheckResult } from './check.js'
import type { CheckDefinition } from './check.js'
import { fingerprintOf, formatFindingId } from './finding.js'

const base: CheckDefinition = {
  id: 'access/cross-tenant-read',
  title: 'Cross-tenant read',
  severity: 'critical',
  cwe: 639,
  owasp: 'API1:2023',
  suite: 'access',
  run: async () => ({ findings: [] }),
}

describe('defineCheck', () => {
  it('returns a valid definition unchanged', () => {
    expect(defineCheck(base)).toBe(base)
  })

  it.each([
    ['Access/x', 'access'],
    ['access/Cross', 'access'],
    ['access', 'access'],
    ['access/a/b', 'access'],
    ['forgery/alg-none', 'access'],
  ] as const)('rejects id %s in suite %s with ERR_REGISTRY', (id, suite) => {
    expect(() => defineCheck({ ...base, id, suite })).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY' }))
  })
})

describe('findings of a check', () => {
  it('numbers findings, applies check defaults and keeps overrides', () => {
    const [a, b] = resolveFindings(base, [{ message: 'leak', dedupKey: 'k1' }, { message: 'meh', dedupKey: 'k2', severity: 'low', cwe: 204 }], 7)
    expect(a).toMatchObject({ id: 'F-0007', checkId: base.id, severity: 'critical', cwe: 639, title: base.title })
    expect(b).toMatchObject({ id: 'F-0008', severity: 'low', cwe: 204, owasp: 'API1:2023' })
    expect(a?.fingerprint).toBe(fingerprintOf(base.id, 'k1'))
    expect(a).not.toHaveProperty('actor')
  })

  it('fingerprints are SHA-256 hex, stable and separator-safe', () => {
    expect(fingerprintOf('a/b', 'k')).toMatch(/^[0-9a-f]{64}$/)
    expect(fingerprintOf('a/b', 'k')).toBe(fingerprintOf('a/b', 'k'))
    expect(fingerprintOf('a/b', 'c')).not.toBe(fingerprintOf('a/bc', ''))
    expect(formatFindingId(1)).toBe('F-0001')
    expect(formatFindingId(12345)).toBe('F-12345')
  })

  it('builds check results and source paths', () => {
    expect(toCheckResult(base, { status: 'passed', findings: 0, requests: 3, durationMs: 5 })).toEqual({
      id: base.id, suite: 'access', title: base.title, severity: 'critical', status: 'passed',
      findings: 0, requests: 3, durationMs: 5, cwe: 639, owasp: 'API1:2023',
    })
    expect(checkFilePath('forgery/alg-none')).toBe('suites/forgery/alg-none.check.ts')
  })
})

describe('check notes', () => {
  it('are trimmed to single non-empty lines, bounded in number and length', () => {
    expect(normalizeNotes(undefined)).toBeUndefined()
    expect(normalizeNotes(['  ', ''])).toBeUndefined()
    expect(normalizeNotes([' accepted 1 s;\n refused 30 s ', 7, 'second'])).toEqual(['accepted 1 s; refused 30 s', 'second'])
    const many = normalizeNotes(Array.from({ length: MAX_NOTES + 5 }, (_, i) => `n${i}`))
    expect(many).toHaveLength(MAX_NOTES)
    const long = normalizeNotes(['x'.repeat(MAX_NOTE_LENGTH + 50)])?.[0] ?? ''
    expect(long).toHaveLength(MAX_NOTE_LENGTH)
    expect(long.endsWith('…')).toBe(true)
  })

  it('travel to the check result only when there are any', () => {
    const run = { status: 'passed' as const, findings: 0, requests: 3, durationMs: 5 }
    expect(toCheckResult(base, { ...run, notes: ['accepted 1 s'] }).notes).toEqual(['accepted 1 s'])
    expect('notes' in toCheckResult(base, { ...run, notes: [] })).toBe(false)
  })
})
