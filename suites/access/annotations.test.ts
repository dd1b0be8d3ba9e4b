import { describe, expect, it } from 'vitest'
import { parseContract } from '../../harness/core/contract.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { annotations } from './annotations.check.js'

const op = (action: string, context: string, scope: string, allow: string[]) => ({ get: { 'x-tenancy': { action, context, scope, allow, owner: false }, responses: {} } })
const run = (paths: Record<string, unknown>) => annotations.run({
  contract: parseContract({ openapi: '3.1.0', paths }),
  topology: { params: { account: 'accountId', workspace: 'workspaceId' } },
} as unknown as CheckContext)

const EVERY = ['viewer', 'editor', 'admin', 'account_admin', 'platform_admin', 'support']

describe('access/annotations', () => {
  it('does not flag public and auth operations whose allow lists every role ("anyone")', async () => {
    const { findings } = await run({ '/.well-known/jwks.json': op('jwks.read', 'public', 'none', ['anonymous', ...EVERY]), '/auth/me': op('auth.me', 'auth', 'none', EVERY) })
    expect(findings).toEqual([])
  })

  it('does not flag an operation whose allow lists every role of its context', async () => {
    const { findings } = await run({ '/w/{workspaceId}/docs': op('documents.list', 'app', 'workspace', EVERY) })
    expect(findings).toEqual([])
  })

  it('still flags an unannotated operation and a role that can never act', async () => {
    const { findings } = await run({ '/x': { get: { responses: {} } }, '/w/{workspaceId}/docs': op('documents.list', 'app', 'workspace', ['viewer', 'support']) })
    expect(findings.map((f) => f.dedupKey).sort()).toEqual(['unannotated|get|/x', 'unsound|get|/w/{workspaceId}/docs|role "support" can never act on a app/workspace operation'])
  })
})
