import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { parseContract } from './contract.js'
import { parseProfile } from './profile.js'
import { HarnessError } from './errors.js'
import { RENAMED_ROLES, renamedContract } from '../../fixtures/targets/renamed.js'

const yaml = (rel: string) => parseYaml(readFileSync(new URL(`../../${rel}`, import.meta.url), 'utf8')) as unknown
const reference = () => yaml('reference-server/openapi.yaml')

describe('the vocabulary layer', () => {
  it('maps the reference contract by its own names', () => {
    const c = parseContract(reference())
    expect(c.vocabulary.resources).toEqual({ account: 'accounts', workspace: 'workspaces', user: 'users', principal: 'principals', audit: 'audit' })
    expect(c.vocabulary.actions).toEqual({ 'token-revocation': 'auth.revoke', 'key-set': 'jwks.read' })
    expect(c.byRole('user', 'create', 'portal').map((o) => o.path)).toEqual(['/portal/v1/accounts/{accountId}/workspaces/{workspaceId}/users'])
    expect(c.byRole('audit', 'list')).toHaveLength(3)
    expect(c.vocabulary.mappings.every((m) => m.source === 'same name')).toBe(true)
    expect(c.ownerOnly('notes')).toBe(true)
    expect(c.ownerOnly('documents')).toBe(false)
  })

  it("maps the alt target's contract with its profile", () => {
    const profile = parseProfile(yaml('fixtures/targets/alt.yaml'))
    const c = parseContract(yaml('fixtures/targets/alt-server/openapi.yaml'), profile.vocabulary)
    expect(c.vocabulary.resources.account).toBe('accounts')
    expect(c.vocabulary.actions['key-set']).toBe('jwks.read')
    expect(c.byRole('user', 'list').map((o) => o.tenancy.context).sort()).toEqual(['dashboard', 'portal'])
    expect(c.ownerOnly('memos')).toBe(true)
  })

  it('infers renamed resources and actions by synonym, and keeps the deployment names for display', () => {
    const c = parseContract(renamedContract(), { roles: RENAMED_ROLES })
    expect(c.vocabulary.resources).toEqual({ account: 'tenants', workspace: 'spaces', user: 'members', principal: 'operators', audit: 'events' })
    expect(c.vocabulary.actions['token-revocation']).toBe('tokens.revoke')
    const create = c.byRole('user', 'create', 'portal')[0]!
    expect(create.tenancy.action).toBe('members.create')
    expect(create.tenancy.allow).toEqual(['platform_admin'])
    expect(create.written?.allow).toEqual(['ops-root'])
    expect(c.byRole('account', 'read', 'portal')[0]?.pathParams).toEqual(['tenantId'])
    expect(c.vocabulary.roleValue('viewer', ['viewer', 'editor', 'admin'])).toBe('viewer')
    expect(c.vocabulary.roleValue('viewer')).toBe('ws-reader')
  })

  it('infers resources from structure when no synonym fits', () => {
    const doc = renamedContract()
    const rename: Record<string, string> = { tenants: 'clients', spaces: 'realms', members: 'seats' }
    for (const item of Object.values(doc.paths as Record<string, Record<string, { 'x-tenancy'?: { action: string } }>>)) {
      for (const op of Object.values(item)) {
        const t = op['x-tenancy']
        if (!t) continue
        const [r = '', v = ''] = t.action.split('.')
        t.action = `${rename[r] ?? r}.${v}`
      }
    }
    const c = parseContract(doc, { roles: RENAMED_ROLES })
    expect(c.vocabulary.resources).toMatchObject({ account: 'clients', workspace: 'realms', user: 'seats' })
    expect(c.vocabulary.mappings.find((m) => m.role === 'user')?.source).toBe('structure')
  })

  it('infers role spellings by synonym and by where they appear', () => {
    const doc = reference() as { paths: Record<string, Record<string, { 'x-tenancy'?: { allow: string[] } }>> }
    const spell: Record<string, string> = { viewer: 'reader', editor: 'contributor', admin: 'ws-boss' }
    for (const item of Object.values(doc.paths)) for (const op of Object.values(item)) {
      const t = op['x-tenancy']
      if (t) t.allow = t.allow.map((r) => spell[r] ?? r)
    }
    const c = parseContract(doc)
    expect(c.vocabulary.roles).toMatchObject({ viewer: 'reader', editor: 'contributor', admin: 'ws-boss' })
    expect(c.vocabulary.mappings.find((m) => m.name === 'ws-boss')?.source).toBe('structure')
    expect(c.byAction('documents.read')[0]?.tenancy.allow).toEqual(['viewer', 'editor', 'admin'])
  })

  it('prefers what the profile states, and an ambiguity is one exit-2 line naming the profile key', () => {
    const doc = reference() as { paths: Record<string, Record<string, { 'x-tenancy'?: { action: string } }>> }
    doc.paths['/tenants'] = { get: { 'x-tenancy': { action: 'tenants.list', context: 'portal', scope: 'platform', allow: ['support'] } as never } }
    let err: unknown
    try {
      parseContract(doc)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(HarnessError)
    expect((err as Error).message).toMatch(/accounts, tenants.*vocabulary\.resources\.account/)
    expect(parseContract(doc, { resources: { account: 'accounts' } }).vocabulary.resources.account).toBe('accounts')
  })
})
