import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { HttpResponse } from '../../harness/adapters/http.js'
import { parseContract } from '../../harness/core/contract.js'
import { parseProfile } from '../../harness/core/profile.js'
import type { Actor, Topology } from '../../harness/core/topology.js'
import { admissible, rateField, remaining, retryAfter, spendsProvisionedQuota } from './quota.js'

const res = (headers: Record<string, string>): HttpResponse => ({ status: 200, headers, body: '', json: undefined, evidence: undefined as never })

describe('rate-limit check helpers', () => {
  it('admissible: the quota plus what can refill while the flood runs', () => {
    const q = { requests: 5, windowSeconds: 5, own: true }
    expect(admissible(q, 0)).toBe(5)
    expect(admissible(q, 400)).toBe(6)
    expect(admissible(q, 5_000)).toBe(10)
  })

  it('retryAfter: delay-seconds or an HTTP-date; undefined when absent or invalid', () => {
    expect(retryAfter(res({ 'retry-after': '3' }))).toBe(3)
    expect(retryAfter(res({}))).toBeUndefined()
    expect(retryAfter(res({ 'retry-after': 'soon' }))).toBeUndefined()
    expect(retryAfter(res({ 'retry-after': new Date(Date.now() + 60_000).toUTCString() }))).toBeGreaterThan(50)
  })

  it('rateField: parses draft-11 lists, reports malformed ones, reads r', () => {
    const ok = res({ 'ratelimit-policy': '"account";q=5;w=5;pk=:AAEC:', ratelimit: '"account";r=4;t=5;pk=:AAEC:' })
    const policy = rateField(ok, 'ratelimit-policy')
    expect(Array.isArray(policy) && policy[0]!.name).toBe('account')
    expect(Array.isArray(policy) && policy[0]!.params.get('pk')).toBeInstanceOf(ArrayBuffer)
    expect(remaining(ok)).toBe(4)
    expect(rateField(res({ ratelimit: 'limit=5, remaining=4' }), 'ratelimit')).toBeInstanceOf(Error)
    expect(rateField(res({}), 'ratelimit')).toBeUndefined()
  })
})

describe('spendsProvisionedQuota: whether the quota checks must run alone', () => {
  const contract = parseContract(parseYaml(readFileSync(new URL('../../reference-server/openapi.yaml', import.meta.url), 'utf8')))
  const admin: Actor = { label: 'root', kind: 'principal', actorKind: 'platform_admin', platformRole: 'platform_admin', token: 't' }
  const topology = (actors: Actor[]): Topology => ({ seed: 1, tag: 'abc123', accounts: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' }, actors, objects: [] })
  const profile = (rateLimit: Record<string, unknown> = {}) => parseProfile({ name: 't', baseUrl: 'http://127.0.0.1:1', rateLimit })

  it('no: the Portal takes a quota and a platform admin can set it on accounts of the checks\' own', () => {
    expect(spendsProvisionedQuota({ contract, profile: profile(), topology: topology([admin]) })).toBe(false)
  })

  it('yes: no platform admin to create accounts with, or the Portal takes no quota under the profile\'s field name', () => {
    expect(spendsProvisionedQuota({ contract, profile: profile(), topology: topology([]) })).toBe(true)
    expect(spendsProvisionedQuota({ contract, profile: profile({ quotaField: 'throttle' }), topology: topology([admin]) })).toBe(true)
  })
})
