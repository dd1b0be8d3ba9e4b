import { describe, expect, it } from 'vitest'
import type { HttpAdapter, HttpRequest, HttpResponse } from '../../harness/adapters/http.js'
import type { SessionData } from '../../harness/adapters/sessions.js'
import { sealChain } from '../../harness/audit/chain.js'
import type { HandledSecret } from '../../harness/audit/secrets.js'
import { parseContract } from '../../harness/core/contract.js'
import { parseProfile } from '../../harness/core/profile.js'
import type { Topology } from '../../harness/core/topology.js'
import { CheckContext } from '../../harness/engine/context.js'
import { noSecrets } from './no-secrets.check.js'

const ACC = '11111111-1111-4111-8111-111111111111'
const contract = parseContract({
  openapi: '3.1.0',
  paths: {
    '/p/audit': { get: { operationId: 'auditPortal', 'x-tenancy': { action: 'audit.list', scope: 'platform', context: 'portal', allow: ['platform_admin'] }, parameters: [{ in: 'query', name: 'requestId' }] } },
  },
})

/** A member's session as the worker's adapter holds it after the member logged in and renewed once. */
const member: SessionData = {
  username: 'ta-t-fab12@tenant-audit.test', password: 'Ta-member-password-0001', accessToken: 'eyJhbGciOi.current', previousTokens: ['eyJhbGciOi.previous'],
  refreshToken: 'rt-member-refresh-0001', obtainedAt: 0, partition: 'account:a0',
}

/**
 * A target whose Portal audit route serves `extra` (each sealed into one chain) after one clean event;
 * the adapter's session store holds `member`, and the setup handed over `provided`.
 */
async function run(tag: string, extra: Record<string, unknown>[], provided: HandledSecret[] = []) {
  const topology: Topology = {
    seed: 1, tag, accounts: [{ label: 'a0', id: ACC, workspaces: [] }], objects: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' },
    actors: [{ label: 'p.platform_admin', kind: 'principal', actorKind: 'platform_admin', platformRole: 'platform_admin', token: 'tok-platform-admin' }],
  }
  const base = { time: new Date().toISOString(), action: 'documents.update', outcome: 'success', actor: { kind: 'user' } }
  const events = sealChain([{ ...base, id: 'e0', metadata: { correlationUid: 'r0' } }, ...extra.map((x, i) => ({ ...base, id: `e${i + 1}`, ...x }))], ACC)
  const answer = (status: number, json: unknown): HttpResponse => ({
    status, headers: {}, body: JSON.stringify(json), json,
    evidence: { request: { method: 'GET', url: '', headers: {} }, response: { status, headers: {} } },
  })
  const http = {
    sent: 0,
    sessions: { export: () => [member], bind: () => undefined, retire: () => undefined },
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      return req.path === '/p/audit' ? answer(200, { items: events, nextCursor: null }) : answer(404, {})
    },
  }
  const profile = parseProfile({ name: `fake-${tag}`, baseUrl: 'http://127.0.0.1:1', audit: { eventsWithinMs: 500 } })
  const ctx = new CheckContext('audit/no-secrets', topology, contract, profile, http as unknown as HttpAdapter, { seed: 1, numRuns: 1, secrets: provided })
  return noSecrets.run(ctx)
}

describe('audit/no-secrets', () => {
  it('finds a password from the session store planted in an event, naming its kind and owner, never the value', async () => {
    const out = await run('pw', [{ metadata: { correlationUid: 'r1', form: `grant_type=password&password=${member.password}` } }])
    expect(out.findings).toHaveLength(1)
    const [f] = out.findings
    expect(f!.message).toContain('carries the password of a member created during the run (ta-t-fab12@tenant-audit.test) in `metadata.form`')
    expect(f!.dedupKey).toBe('password|metadata.form')
    expect(JSON.stringify(out)).not.toContain(member.password)
  })

  it('finds a refresh token and a renewed-away access token, and a secret the setup handed over', async () => {
    const provided: HandledSecret[] = [{ kind: 'ID token', whose: 'a0.w0.viewer', value: 'opaque-id-token-0001' }]
    const out = await run('rt', [
      { metadata: { correlationUid: 'r1', body: { refresh_token: member.refreshToken } } },
      { metadata: { correlationUid: 'r2', old: member.previousTokens![0] } },
      { metadata: { correlationUid: 'r3', id: 'opaque-id-token-0001' } },
    ], provided)
    const messages = out.findings.map((f) => f.message)
    expect(messages).toEqual([
      expect.stringContaining('carries the refresh token of a member created during the run (ta-t-fab12@tenant-audit.test) in `metadata.body.refresh_token`'),
      expect.stringContaining('carries the access token of a member created during the run (ta-t-fab12@tenant-audit.test) in `metadata.old`'),
      expect.stringContaining('carries the ID token of a0.w0.viewer in `metadata.id`'),
    ])
    for (const secret of [member.refreshToken!, member.previousTokens![0]!, 'opaque-id-token-0001']) expect(JSON.stringify(out)).not.toContain(secret)
  })

  it('names a field once: a known token is not also reported as a Bearer shape; an unknown credential still is', async () => {
    const out = await run('shape', [
      { metadata: { correlationUid: 'r1', auth: `Bearer ${member.accessToken}` } },
      { metadata: { correlationUid: 'r2', other: 'Bearer\tforeign-credential-xyz' } },
    ])
    expect(out.findings.map((f) => f.dedupKey)).toEqual(['access token|metadata.auth', 'Bearer credential|metadata.other'])
  })

  it('passes a clean trail with a note saying what it searched for', async () => {
    const out = await run('clean', [{ metadata: { correlationUid: 'r1', note: 'nothing secret' } }])
    expect(out.findings).toEqual([])
    expect(out.notes).toEqual(['searched 2 audit events for 6 secrets the run handled (passwords of 2 identities, access tokens of 2 identities, refresh tokens of 1 identity) and for JWT and Bearer shapes'])
  })
})
