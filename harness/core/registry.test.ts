import { describe, expect, it } from 'vitest'
import { defineCheck } from './check.js'
import type { CheckDefinition, Suite } from './check.js'
import { createRegistry, globToRegExp } from './registry.js'

const check = (id: string): CheckDefinition =>
  defineCheck({
    id, title: id, severity: 'high', cwe: 639, owasp: 'API1:2023',
    suite: id.split('/')[0] as Suite, run: async () => ({ findings: [] }),
  })

const ids = ['access/cross-tenant-read', 'access/private-notes', 'forgery/alg-none', 'access/cross-tenant-write', 'audit/hash-chain']
const registry = createRegistry(ids.map(check))

describe('check registry', () => {
  it('rejects a duplicate id with ERR_REGISTRY', () => {
    expect(() => createRegistry([check('access/a'), check('forgery/b'), check('access/a')])).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY', message: expect.stringContaining('access/a') }),
    )
  })

  it('selects everything in registration order by default', () => {
    expect(registry.select().map((c) => c.id)).toEqual(ids)
    expect(registry.get('forgery/alg-none')?.id).toBe('forgery/alg-none')
  })

  it('selects by glob, keeping order', () => {
    expect(registry.select({ checks: 'access/*' }).map((c) => c.id)).toEqual([
      'access/cross-tenant-read', 'access/private-notes', 'access/cross-tenant-write',
    ])
    expect(registry.select({ checks: 'access/cross-*' }).map((c) => c.id)).toEqual(['access/cross-tenant-read', 'access/cross-tenant-write'])
    expect(registry.select({ checks: 'audit/hash-chain,forgery/*' }).map((c) => c.id)).toEqual(['forgery/alg-none', 'audit/hash-chain'])
  })

  it('intersects suites and globs', () => {
    expect(registry.select({ suites: ['forgery', 'audit'] }).map((c) => c.id)).toEqual(['forgery/alg-none', 'audit/hash-chain'])
    expect(registry.select({ suites: ['forgery'], checks: ['**'] }).map((c) => c.id)).toEqual(['forgery/alg-none'])
  })

  it('turns typos into usage errors', () => {
    expect(() => registry.select({ suites: ['acess'] })).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }))
    expect(() => registry.select({ checks: 'access/cross-tennant-*' })).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }))
  })

  it('compiles globs with * inside a segment only and literal dots', () => {
    expect(globToRegExp('access/*').test('access/a-b')).toBe(true)
    expect(globToRegExp('*').test('access/a')).toBe(false)
    expect(globToRegExp('**').test('access/a')).toBe(true)
    expect(globToRegExp('a.c/?').test('abc/x')).toBe(false)
    expect(globToRegExp('a.c/?').test('a.c/x')).toBe(true)
  })
})
