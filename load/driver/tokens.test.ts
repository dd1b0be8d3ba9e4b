import { describe, expect, it } from 'vitest'
import { TokenKeeper } from './tokens.js'
import type { PreparedLoad } from './prepared.js'

const prepared = (expiresAt: number): PreparedLoad => ({
  baseUrl: 'http://127.0.0.1:1',
  tenants: [{ name: 'a', accountId: 'x', workspaceId: 'y', token: 'at-1', sessions: [{ token: 'at-1', refreshToken: 'rt-1', expiresAt }], paths: {} }],
})

describe('token keeper (Node engine)', () => {
  it('refreshes once before expiry, keeps the rotated refresh token, and serves the old token meanwhile', async () => {
    let now = 0
    const spent: string[] = []
    const keeper = new TokenKeeper(prepared(100_000), async (rt) => {
      spent.push(rt)
      return { token: `at-${spent.length + 1}`, refreshToken: `rt-${spent.length + 1}`, expiresAt: now + 100_000 }
    }, 60_000, () => now)
    expect(keeper.token('a')).toBe('at-1')
    expect(spent).toEqual([])
    now = 40_000
    // Within the margin: one refresh starts; this request and the next go out with the current token.
    expect(keeper.token('a')).toBe('at-1')
    expect(keeper.token('a')).toBe('at-1')
    await keeper.settled()
    expect(spent).toEqual(['rt-1'])
    expect(keeper.token('a')).toBe('at-2')
    now = 100_000
    keeper.token('a')
    await keeper.settled()
    expect(spent).toEqual(['rt-1', 'rt-2'])
    expect(keeper.token('a')).toBe('at-3')
  })

  it('never presents a refresh token twice, even when the refresh fails', async () => {
    let calls = 0
    const keeper = new TokenKeeper(prepared(0), async () => {
      calls++
      throw new Error('the token endpoint answered 400')
    }, 60_000, () => 1)
    keeper.token('a')
    await keeper.settled()
    expect(keeper.token('a')).toBe('at-1')
    await keeper.settled()
    expect(calls).toBe(1)
    expect(keeper.failures).toEqual(['tenant a: token refresh failed (the token endpoint answered 400)'])
  })

  it('does nothing without a refresh grant or a refresh token', () => {
    const keeper = new TokenKeeper({ baseUrl: 'http://127.0.0.1:1', tenants: [{ name: 'b', accountId: 'x', workspaceId: 'y', token: 'only', paths: {} }] })
    expect(keeper.token('b')).toBe('only')
    expect(() => keeper.token('c')).toThrow(/no session for tenant c/)
  })
})
