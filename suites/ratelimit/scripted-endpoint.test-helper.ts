import type { HttpAdapter, HttpResponse } from '../../harness/adapters/http.js'
import type { CheckDefinition } from '../../harness/core/check.js'
import { parseContract, type TargetContract } from '../../harness/core/contract.js'
import { parseProfile } from '../../harness/core/profile.js'
import type { Topology } from '../../harness/core/topology.js'
import { CheckContext } from '../../harness/engine/context.js'

/** Test-only: what the rate-limit checks' unit tests share to script an endpoint. */

/** A token endpoint's answer of `status`; a 429 says Retry-After: 0, so the check's wait for it is short. */
export function answer(status: number): HttpResponse {
  return {
    status, headers: status === 429 ? { 'retry-after': '0' } : {}, body: '{}', json: {},
    evidence: { request: { method: 'POST', url: '', headers: {} }, response: { status, headers: {} } },
  }
}

const topology: Topology = { seed: 1, tag: 'abc123', accounts: [], objects: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' }, actors: [] }
const contract = parseContract({
  openapi: '3.1.0',
  paths: { '/p/accounts': { get: { operationId: 'accounts_list', 'x-tenancy': { action: 'accounts.list', scope: 'platform', context: 'portal', allow: ['platform_admin'] } } } },
})

/** A contract of one workspace read every role may call (`GET /w/{workspaceId}/documents`): what the quota checks spend. */
export const workspaceReadContract = parseContract({
  openapi: '3.1.0',
  paths: {
    '/w/{workspaceId}/documents': {
      parameters: [{ name: 'workspaceId', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'documents_list', 'x-tenancy': { action: 'documents.list', scope: 'workspace', context: 'app', allow: ['viewer', 'editor', 'admin'] } },
    },
  },
})

/**
 * A context for `check` whose requests go to `http` (only its `send` is used), under a default profile
 * (or `given.profile`, read as a profile file would be), an empty topology and a one-operation contract
 * unless `given` holds its own.
 */
export function scriptedContext(check: CheckDefinition<CheckContext>, http: Pick<HttpAdapter, 'send'>,
  given: { topology?: Topology; contract?: TargetContract; profile?: Record<string, unknown> } = {}): CheckContext {
  const profile = parseProfile({ name: 'fake', baseUrl: 'http://127.0.0.1:1', ...given.profile })
  return new CheckContext(check.id, given.topology ?? topology, given.contract ?? contract, profile, http as unknown as HttpAdapter, { seed: 1, numRuns: 1 })
}
