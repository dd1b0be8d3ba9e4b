import { readFileSync } from 'node:fs'
import { describe, it, expect } from 'vitest'
import { parse } from 'yaml'
import { buildContract, loadContract, ROLE_NAMES } from './contract.js'
import type { Operation } from './contract.js'

type Json = Record<string, unknown>

const contract = loadContract()
const doc = contract.document
const paths = doc['paths'] as Record<string, Json>
const rawOperations = Object.entries(paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([key]) => ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'].includes(key))
    .map(([method, op]) => ({ path, method, op: op as Json, item })),
)

/** Follows local `$ref`s (`#/components/...`) until a plain object remains. */
function resolve(value: unknown): Json {
  let node = value as Json
  for (let hops = 0; typeof node['$ref'] === 'string'; hops++) {
    if (hops > 10) throw new Error('ref cycle')
    const ref = node['$ref']
    expect(ref.startsWith('#/'), `non-local $ref ${ref}`).toBe(true)
    node = ref.slice(2).split('/').reduce<unknown>((at, key) => (at as Json | undefined)?.[key], doc) as Json
    expect(node, `dangling $ref ${ref}`).toBeTypeOf('object')
  }
  return node
}

const w = ['viewer', 'editor', 'admin']
const dash = ['admin', 'account_admin']
const pa = ['platform_admin']
const ps = ['platform_admin', 'support']
const anon = ['anonymous']
const ws = '/app/v1/workspaces/{workspaceId}'
const dws = '/dashboard/v1/workspaces/{workspaceId}'
const pacc = '/portal/v1/accounts/{accountId}'

// The brief's table, row for row: operationId, method, path, context, action, scope, allow, owner.
const expected: [string, Operation['method'], string, string, string, string, string[], boolean][] = [
  ['issueToken', 'post', '/auth/token', 'auth', 'auth.token', 'none', anon, false],
  ['revokeToken', 'post', '/auth/revoke', 'auth', 'auth.revoke', 'none', anon, false],
  ['openidConfiguration', 'get', '/.well-known/openid-configuration', 'public', 'discovery.read', 'none', anon, false],
  ['jwks', 'get', '/.well-known/jwks.json', 'public', 'jwks.read', 'none', anon, false],
  ['openapiDocument', 'get', '/openapi.json', 'public', 'contract.read', 'none', anon, false],
  ['health', 'get', '/healthz', 'public', 'health.read', 'none', anon, false],
  ['getMe', 'get', `${ws}/me`, 'app', 'me.read', 'workspace', w, false],
  ['listDocuments', 'get', `${ws}/documents`, 'app', 'documents.list', 'workspace', w, false],
  ['createDocument', 'post', `${ws}/documents`, 'app', 'documents.create', 'workspace', ['editor', 'admin'], false],
  ['getDocument', 'get', `${ws}/documents/{documentId}`, 'app', 'documents.read', 'workspace', w, false],
  ['updateDocument', 'patch', `${ws}/documents/{documentId}`, 'app', 'documents.update', 'workspace', ['editor', 'admin'], false],
  ['deleteDocument', 'delete', `${ws}/documents/{documentId}`, 'app', 'documents.delete', 'workspace', ['editor', 'admin'], false],
  ['listNotes', 'get', `${ws}/notes`, 'app', 'notes.list', 'workspace', w, true],
  ['createNote', 'post', `${ws}/notes`, 'app', 'notes.create', 'workspace', w, true],
  ['getNote', 'get', `${ws}/notes/{noteId}`, 'app', 'notes.read', 'workspace', w, true],
  ['updateNote', 'patch', `${ws}/notes/{noteId}`, 'app', 'notes.update', 'workspace', w, true],
  ['deleteNote', 'delete', `${ws}/notes/{noteId}`, 'app', 'notes.delete', 'workspace', w, true],
  ['getWorkspace', 'get', dws, 'dashboard', 'workspaces.read', 'workspace', dash, false],
  ['updateWorkspace', 'patch', dws, 'dashboard', 'workspaces.update', 'workspace', dash, false],
  ['listWorkspaceUsers', 'get', `${dws}/users`, 'dashboard', 'users.list', 'workspace', dash, false],
  ['createWorkspaceUser', 'post', `${dws}/users`, 'dashboard', 'users.create', 'workspace', dash, false],
  ['getWorkspaceUser', 'get', `${dws}/users/{userId}`, 'dashboard', 'users.read', 'workspace', dash, false],
  ['updateWorkspaceUser', 'patch', `${dws}/users/{userId}`, 'dashboard', 'users.update', 'workspace', dash, false],
  ['deleteWorkspaceUser', 'delete', `${dws}/users/{userId}`, 'dashboard', 'users.delete', 'workspace', dash, false],
  ['listWorkspaceAuditEvents', 'get', `${dws}/audit-events`, 'dashboard', 'audit.list', 'workspace', dash, false],
  ['getAccountDashboard', 'get', '/dashboard/v1/accounts/{accountId}', 'dashboard', 'accounts.read', 'account', ['account_admin'], false],
  ['listAccountWorkspaces', 'get', '/dashboard/v1/accounts/{accountId}/workspaces', 'dashboard', 'workspaces.list', 'account', ['account_admin'], false],
  ['createAccountWorkspace', 'post', '/dashboard/v1/accounts/{accountId}/workspaces', 'dashboard', 'workspaces.create', 'account', ['account_admin'], false],
  ['listAccountAuditEvents', 'get', '/dashboard/v1/accounts/{accountId}/audit-events', 'dashboard', 'audit.list', 'account', ['account_admin'], false],
  ['getAccountAuditCheckpoint', 'get', '/dashboard/v1/accounts/{accountId}/audit-checkpoint', 'dashboard', 'audit-checkpoint.read', 'account', ['account_admin'], false],
  ['listAccounts', 'get', '/portal/v1/accounts', 'portal', 'accounts.list', 'platform', ps, false],
  ['createAccount', 'post', '/portal/v1/accounts', 'portal', 'accounts.create', 'platform', pa, false],
  ['getAccount', 'get', pacc, 'portal', 'accounts.read', 'platform', ps, false],
  ['updateAccount', 'patch', pacc, 'portal', 'accounts.update', 'platform', pa, false],
  ['deleteAccount', 'delete', pacc, 'portal', 'accounts.delete', 'platform', pa, false],
  ['listPortalWorkspaces', 'get', `${pacc}/workspaces`, 'portal', 'workspaces.list', 'platform', ps, false],
  ['createPortalWorkspace', 'post', `${pacc}/workspaces`, 'portal', 'workspaces.create', 'platform', pa, false],
  ['getPortalWorkspace', 'get', `${pacc}/workspaces/{workspaceId}`, 'portal', 'workspaces.read', 'platform', ps, false],
  ['deletePortalWorkspace', 'delete', `${pacc}/workspaces/{workspaceId}`, 'portal', 'workspaces.delete', 'platform', pa, false],
  ['listPortalUsers', 'get', `${pacc}/workspaces/{workspaceId}/users`, 'portal', 'users.list', 'platform', ps, false],
  ['createPortalUser', 'post', `${pacc}/workspaces/{workspaceId}/users`, 'portal', 'users.create', 'platform', pa, false],
  ['listPrincipals', 'get', '/portal/v1/principals', 'portal', 'principals.list', 'platform', ps, false],
  ['createPrincipal', 'post', '/portal/v1/principals', 'portal', 'principals.create', 'platform', pa, false],
  ['deletePrincipal', 'delete', '/portal/v1/principals/{principalId}', 'portal', 'principals.delete', 'platform', pa, false],
  ['listPortalAuditEvents', 'get', '/portal/v1/audit-events', 'portal', 'audit.list', 'platform', ps, false],
  ['getPortalAuditCheckpoint', 'get', `${pacc}/audit-checkpoint`, 'portal', 'audit-checkpoint.read', 'platform', ps, false],
]

const isPublic = (op: Operation) => op.tenancy.context === 'public' || op.tenancy.context === 'auth'

describe('reference-server contract (openapi.yaml)', () => {
  it('is structurally an OpenAPI 3.1 document', () => {
    expect(doc['openapi']).toMatch(/^3\.1\.\d+$/)
    const info = doc['info'] as Json
    expect(info['title']).toBeTypeOf('string')
    expect(info['version']).toBeTypeOf('string')
    expect(info['description']).toContain('x-tenancy')
    for (const path of Object.keys(paths)) expect(path).toMatch(/^\//)
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]*"/g) ?? []
    for (const ref of refs) resolve(JSON.parse(`{${ref}}`)) // every $ref resolves
  })

  it('has exactly the operations of the reference routes, annotated as specified', () => {
    const actual = contract.operations.map((o) => [
      o.operationId, o.method, o.path, o.tenancy.context, o.tenancy.action, o.tenancy.scope, [...o.tenancy.allow], o.tenancy.owner,
    ])
    expect(actual).toEqual(expected)
    expect(rawOperations).toHaveLength(expected.length) // nothing skipped (head/options/trace)
  })

  it('gives every operation a unique camelCase operationId and a summary', () => {
    const ids = rawOperations.map(({ op }) => op['operationId'])
    expect(new Set(ids).size).toBe(ids.length)
    for (const { op } of rawOperations) {
      expect(op['operationId']).toMatch(/^[a-z][A-Za-z0-9]*$/)
      expect(op['summary']).toBeTypeOf('string')
    }
  })

  it('annotates every operation with x-tenancy whose action is <resource>.<verb>', () => {
    for (const { op } of rawOperations) {
      const t = op['x-tenancy'] as Json
      expect(Object.keys(t).sort(), String(op['operationId'])).toEqual(['action', 'allow', 'context', 'owner', 'scope'])
      expect(t['action']).toMatch(/^[a-z][A-Za-z0-9_-]*\.[a-z][A-Za-z0-9_-]*$/)
    }
  })

  it('keeps scope, path, context and owner consistent', () => {
    for (const op of contract.operations) {
      const { scope, context, owner, allow } = op.tenancy
      const at = op.operationId
      if (scope === 'workspace') expect(op.path, at).toContain('{workspaceId}')
      if (scope === 'account') expect(op.path, at).toContain('{accountId}')
      expect(context === 'portal', at).toBe(scope === 'platform')
      expect(op.path.startsWith(`/${context}/`), at).toBe(['app', 'dashboard', 'portal', 'auth'].includes(context))
      if (isPublic(op)) expect([scope, allow], at).toEqual(['none', ['anonymous']])
      if (context === 'portal') for (const r of allow) expect(['platform_admin', 'support'], at).toContain(r)
      if (context === 'app' || context === 'dashboard') for (const r of allow) expect(['viewer', 'editor', 'admin', 'account_admin'], at).toContain(r)
      expect(owner, at).toBe(op.tenancy.action.startsWith('notes.'))
      if (owner) expect(op.path, at).toMatch(/\/notes(\/\{noteId\})?$/)
    }
  })

  it('requires the bearer scheme on every non-public operation and none on public ones', () => {
    const scheme = resolve((doc['components'] as Json)['securitySchemes'] as Json)['bearer'] as Json
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    for (const { op } of rawOperations) {
      const op2 = contract.operation(String(op['operationId']))
      expect(op['security'], op2.operationId).toEqual(isPublic(op2) ? [] : [{ bearer: [] }])
    }
  })

  it('declares every path parameter as a required uuid string', () => {
    for (const { op, item } of rawOperations) {
      const operation = contract.operation(String(op['operationId']))
      const declared = [...((item['parameters'] as unknown[] | undefined) ?? []), ...((op['parameters'] as unknown[] | undefined) ?? [])]
        .map(resolve)
        .filter((p) => p['in'] === 'path')
      expect(declared.map((p) => p['name']).sort(), operation.operationId).toEqual([...operation.pathParams].sort())
      for (const p of declared) {
        expect(p['required']).toBe(true)
        expect(resolve(p['schema'])).toEqual({ type: 'string', format: 'uuid' })
      }
    }
  })

  it('answers errors as problem+json (OAuth error JSON on the token endpoints)', () => {
    for (const op of contract.operations) {
      const responses = (paths[op.path]?.[op.method] as Json)['responses'] as Json
      const codes = Object.keys(responses)
      expect(codes.some((c) => ['200', '201', '204'].includes(c)), op.operationId).toBe(true)
      if (!isPublic(op)) for (const c of ['400', '401', '403', '429']) expect(codes, op.operationId).toContain(c)
      if (op.pathParams.length > 0) expect(codes, op.operationId).toContain('404')
      if ((paths[op.path]?.[op.method] as Json)['requestBody']) for (const c of ['413', '415']) expect(codes, op.operationId).toContain(c)
      for (const code of codes.filter((c) => c >= '400')) {
        const content = resolve(responses[code])['content'] as Json
        if (op.tenancy.context === 'auth' && code === '400') {
          expect(resolve((content['application/json'] as Json)['schema'])['required']).toEqual(['error'])
        } else {
          expect((content['application/problem+json'] as Json)['schema'], `${op.operationId} ${code}`).toEqual({ $ref: '#/components/schemas/Problem' })
        }
      }
    }
    const problem = resolve({ $ref: '#/components/schemas/Problem' })
    expect(Object.keys(problem['properties'] as Json)).toEqual(['type', 'title', 'status', 'detail', 'instance', 'requestId'])
  })

  it('converts OpenAPI templates to Express paths', () => {
    expect(contract.operation('getDocument')).toMatchObject({
      path: '/app/v1/workspaces/{workspaceId}/documents/{documentId}',
      expressPath: '/app/v1/workspaces/:workspaceId/documents/:documentId',
      pathParams: ['workspaceId', 'documentId'],
    })
    expect(contract.operation('getWorkspace').expressPath).toBe('/dashboard/v1/workspaces/:workspaceId')
    expect(contract.operation('jwks')).toMatchObject({ expressPath: '/.well-known/jwks.json', pathParams: [] })
    for (const op of contract.operations) expect(op.expressPath).not.toMatch(/[{}]/)
  })

  it('uses the role names of tenancy/roles.json', () => {
    const roles = JSON.parse(readFileSync(new URL('./tenancy/roles.json', import.meta.url), 'utf8')) as Record<string, string[]>
    const known = [...(roles['workspaceRoles'] ?? []), ...(roles['accountRoles'] ?? []), ...(roles['principalRoles'] ?? []), 'anonymous']
    expect([...ROLE_NAMES].sort()).toEqual(known.sort())
  })

  it('loads once and refuses unknown operation ids', () => {
    expect(loadContract()).toBe(contract)
    expect(Object.isFrozen(contract.operation('getMe').tenancy.allow)).toBe(true)
    expect(() => contract.operation('nope')).toThrow(/unknown operationId: nope/)
  })
})

describe('buildContract', () => {
  const source = parse(readFileSync(new URL('./openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, Json>> }
  const base = () => structuredClone(source)
  const getDocument = (d: ReturnType<typeof base>) => d.paths['/app/v1/workspaces/{workspaceId}/documents/{documentId}']!['get']!

  it('throws naming the operation when x-tenancy is missing', () => {
    const d = base()
    delete getDocument(d)['x-tenancy']
    expect(() => buildContract(d)).toThrow(/getDocument.*no x-tenancy/)
  })

  it('throws naming the operation when x-tenancy is invalid', () => {
    for (const bad of [{ action: 'documents' }, { scope: 'tenant' }, { allow: ['owner'] }, { allow: [] }, { extra: 1 }, { scope: 'account' }]) {
      const d = base()
      Object.assign(getDocument(d)['x-tenancy'] as Json, bad)
      expect(() => buildContract(d), JSON.stringify(bad)).toThrow(/operation getDocument .*invalid x-tenancy/)
    }
  })

  it('refuses duplicate operationIds and documents that are not OpenAPI 3.1', () => {
    const d = base()
    d.paths['/app/v1/workspaces/{workspaceId}/notes/{noteId}']!['get']!['operationId'] = 'getDocument'
    expect(() => buildContract(d)).toThrow(/getDocument.*duplicate/)
    expect(() => buildContract({ ...base(), openapi: '3.0.3' })).toThrow(/OpenAPI 3\.1/)
  })
})
