import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HttpRequest, HttpResponse, HttpAdapter } from '../../harness/adapters/http.js'
import { parseContract } from '../../harness/core/contract.js'
import { parseProfile } from '../../harness/core/profile.js'
import type { Topology } from '../../harness/core/topology.js'
import { CheckContext } from '../../harness/engine/context.js'
import { answer } from './scripted-endpoint.test-helper.js'
import { costToOthers } from './cost-to-others.check.js'

const READ = '/accounts/{accountId}/workspaces/{workspaceId}/documents'
const contract = parseContract({
  openapi: '3.1.0',
  paths: {
    [READ]: { get: { operationId: 'documents_list', 'x-tenancy': { action: 'documents.list', scope: 'workspace', context: 'app', allow: ['viewer', 'editor', 'admin'] } } },
    '/.well-known/jwks.json': { get: { operationId: 'jwks', 'x-tenancy': { action: 'jwks.read', scope: 'none', context: 'public', allow: ['anonymous'] } } },
  },
})
const user = (a: number) => ({ label: `a${a}.w0.viewer`, kind: 'user' as const, actorKind: 'viewer' as const, accountId: `acc${a}`, workspaceId: `ws${a}`, role: 'viewer' as const, accountRole: null, username: `u${a}@example.test`, token: `token-${a}` })
const topology: Topology = {
  seed: 1, tag: 'abc123', objects: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' },
  accounts: [0, 1].map((a) => ({ label: `a${a}`, id: `acc${a}`, workspaces: [{ label: `a${a}.w0`, id: `ws${a}`, accountId: `acc${a}` }] })),
  actors: [user(0), user(1)],
}

/**
 * A target that serves every read at once, refuses every forged or unknown request, and answers failed
 * logins 400, except the very first login: a 429 (Retry-After 0) left by the checks before this one.
 */
function target() {
  let logins = 0
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      if (req.method === 'POST') return answer(logins++ === 0 ? 429 : 400)
      if (req.method === 'GET' && req.path === '/.well-known/jwks.json') return answer(200)
      if (req.method === 'GET' && req.path.endsWith('/documents') && /^token-[01]$/.test(String(req.token))) return answer(200)
      return answer(req.method === 'GET' ? 401 : 405)
    },
  }
  const ctx = new CheckContext(costToOthers.id, topology, contract, parseProfile({ name: 'fake', baseUrl: 'http://127.0.0.1:1' }), http as unknown as HttpAdapter, { seed: 1, numRuns: 1 })
  return { ctx, logins: () => logins }
}

describe('ratelimit/cost-to-others', () => {
  afterEach(() => vi.restoreAllMocks())

  it('a login lockout left by earlier traffic is waited out before the first timed login, not a skip', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const { ctx, logins } = target()
    const out = await costToOthers.run(ctx)
    expect(out.skipped).toBeUndefined()
    expect(out.findings).toEqual([])
    // The leftover's Retry-After (0 s) and the margin, then the timed login again, then 8 floods of 10.
    expect(spy.mock.calls.map((c) => Number(c[1]))).toContain(250)
    expect(logins()).toBe(2 + 8 * 10)
    expect(out.notes?.[0]).toMatch(/^8 floods of 10 failed logins at once \(80 judged in all; answers 80×400\)/)
  })
})
