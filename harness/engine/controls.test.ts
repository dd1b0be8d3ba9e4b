import { describe, expect, it } from 'vitest'
import type { HttpAdapter, HttpRequest, HttpResponse } from '../adapters/http.js'
import { parseContract } from '../core/contract.js'
import { parseProfile } from '../core/profile.js'
import type { Actor, Topology } from '../core/topology.js'
import type { FindingInput } from '../core/finding.js'
import { CheckContext } from './context.js'
import { ControlLedger, operationMatcher } from './controls.js'
import type { Op } from './judge.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const WA = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'
const WB = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'
const DA = 'dddddddd-dddd-4ddd-8ddd-dddddddddd0a'
const DB = 'dddddddd-dddd-4ddd-8ddd-dddddddddd0b'

const tenancy = (action: string, allow: string[]) => ({ action, scope: 'workspace', context: 'app', allow })
const contract = parseContract({
  openapi: '3.1.0',
  paths: {
    '/w/{workspaceId}/docs': {
      get: { operationId: 'docs_list', 'x-tenancy': tenancy('documents.list', ['viewer', 'editor']) },
    },
    '/w/{workspaceId}/docs/{docId}': {
      get: { operationId: 'docs_read', 'x-tenancy': tenancy('documents.read', ['viewer', 'editor']) },
      delete: { operationId: 'docs_delete', 'x-tenancy': tenancy('documents.delete', ['editor']) },
    },
  },
})
const op = (id: string): Op => contract.annotated.find((o) => o.id === id)!

const editorA: Actor = { label: 'a0.w0.editor', kind: 'user', actorKind: 'editor', accountId: A, workspaceId: WA, role: 'editor', accountRole: null, token: 'tok-a' }
const editorB: Actor = { label: 'a1.w0.editor', kind: 'user', actorKind: 'editor', accountId: B, workspaceId: WB, role: 'editor', accountRole: null, token: 'tok-b' }
const topology: Topology = {
  seed: 1, tag: 't', created: [], params: { account: 'accountId', workspace: 'workspaceId' },
  accounts: [{ label: 'a0', id: A, workspaces: [{ label: 'a0.w0', id: WA, accountId: A }] }, { label: 'a1', id: B, workspaces: [{ label: 'a1.w0', id: WB, accountId: B }] }],
  actors: [editorA, editorB],
  objects: [
    { label: 'a0.w0.documents.0', resource: 'documents', id: DA, accountId: A, workspaceId: WA, ownerLabel: editorA.label, private: false, canary: 'CANARY-A' },
    { label: 'a1.w0.documents.0', resource: 'documents', id: DB, accountId: B, workspaceId: WB, ownerLabel: editorB.label, private: false, canary: 'CANARY-B' },
  ],
}

/**
 * A target that isolates tenants correctly (foreign ids: 404) until `dead()` says so, then answers
 * 401 to every token: the family-7 target in miniature.
 */
function fakeTarget(opts: { dead?: () => boolean; leak?: boolean } = {}) {
  const calls: HttpRequest[] = []
  const answer = (status: number, json: unknown): HttpResponse => ({
    status, headers: {}, body: JSON.stringify(json), json,
    evidence: { request: { method: 'GET', url: '', headers: {} }, response: { status, headers: {} } },
  })
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      calls.push(req)
      if (opts.dead?.()) return answer(401, { title: 'invalid_token' })
      const home = req.token === 'tok-a' ? WA : WB
      const ws = /^\/w\/([^/]+)/.exec(req.path)?.[1]
      if (ws !== home && !opts.leak) return answer(404, { title: 'not found' })
      return answer(200, req.path.endsWith('/docs') ? { items: [] } : { id: 'x', body: opts.leak ? 'CANARY-B' : 'ok' })
    },
  }
  const profile = parseProfile({ name: 'fake', baseUrl: 'http://127.0.0.1:1' })
  const ctx = new CheckContext('access/unit', topology, contract, profile, http as unknown as HttpAdapter, { seed: 1, numRuns: 1 })
  return { ctx, calls }
}

const foreignRead = { actor: editorA, op: op('docs_read'), target: { accountId: B, workspaceId: WB, object: topology.objects[1] }, params: { docId: DB } }
const refusalFinding: FindingInput = { message: 'wrongly denied', dedupKey: 'wd', restsOnRefusal: true }
const leakFinding: FindingInput = { message: 'leak', dedupKey: 'leak' }

describe('ControlLedger', () => {
  const call = { actor: editorA, op: op('docs_read'), target: { accountId: A, workspaceId: WA }, params: {} }

  it('a refusal with no success after it stays open; a success of the pair after it closes it', () => {
    const l = new ControlLedger()
    l.refusal(call, 'x', l.tick())
    expect(l.open()).toHaveLength(1)
    l.success(editorA, 'docs_read', l.tick())
    expect(l.open()).toEqual([])
  })

  it('a pair success before the refusal counts only when the token was served after it', () => {
    const l = new ControlLedger()
    l.success(editorA, 'docs_read', l.tick())
    l.refusal(call, 'x', l.tick())
    expect(l.open()).toHaveLength(1)
    l.success(editorA, 'docs_list', l.tick()) // another operation: the token is still served
    expect(l.open()).toEqual([])
  })

  it('counts refusals per pair, and reports the first failure with how many more', () => {
    const l = new ControlLedger()
    l.refusal(call, 'x', l.tick())
    l.refusal(call, 'x', l.tick())
    expect(l.open()[0]?.refusals).toBe(2)
    expect(l.inconclusive).toBeUndefined()
    l.fail('one')
    l.fail('two')
    expect(l.inconclusive).toBe('one (and 1 more failed control)')
  })

  it('ignores successes of calls without a token (anonymous proves nothing about tokens)', () => {
    const l = new ControlLedger()
    l.refusal(call, 'x', l.tick())
    l.success({ label: editorA.label }, 'docs_read', l.tick())
    expect(l.open()).toHaveLength(1)
  })
})

describe('operationMatcher', () => {
  it('maps a sent path to its operation, ignoring the query', () => {
    const match = operationMatcher(contract.annotated)
    expect(match('GET', `/w/${WA}/docs?limit=2`)?.id).toBe('docs_list')
    expect(match('GET', `/w/${WA}/docs/${DA}`)?.id).toBe('docs_read')
    expect(match('DELETE', `/w/${WA}/docs/${DA}`)?.id).toBe('docs_delete')
    expect(match('POST', `/w/${WA}/docs/${DA}`)).toBeUndefined()
  })
})

describe('CheckContext positive controls', () => {
  it('a foreign read refused while the actor is served at home counts: no control call is needed', async () => {
    const { ctx, calls } = fakeTarget()
    await ctx.probe({ ...foreignRead })
    await ctx.as(editorA).get(`/w/${WA}/docs/${DA}`) // the check's own later home read
    const out = await ctx.controlled({ findings: [] })
    expect(out.inconclusive).toBeUndefined()
    expect(calls).toHaveLength(2)
  })

  it('sends one control when nothing stood behind the refusal, and a served control counts', async () => {
    const { ctx, calls } = fakeTarget()
    await ctx.probe({ ...foreignRead })
    await ctx.probe({ ...foreignRead })
    const out = await ctx.controlled({ findings: [] })
    expect(out.inconclusive).toBeUndefined()
    expect(calls).toHaveLength(3)
    // The control: the same actor, the same operation, at home (its own object).
    expect(calls[2]).toMatchObject({ method: 'get', path: `/w/${WA}/docs/${DA}`, token: 'tok-a' })
  })

  it('a destructive operation is controlled by a read of the same resource, never by itself', async () => {
    const { ctx, calls } = fakeTarget()
    await ctx.probe({ actor: editorA, op: op('docs_delete'), target: foreignRead.target, params: { docId: DB } })
    await ctx.controlled({ findings: [] })
    expect(calls.at(-1)?.method).toBe('get')
  })

  it('a failed control makes the check inconclusive with the reason, and drops refusal-only findings', async () => {
    let dead = false
    const { ctx } = fakeTarget({ dead: () => dead })
    await ctx.as(editorA).get(`/w/${WA}/docs/${DA}`)
    dead = true
    await ctx.probe({ ...foreignRead })
    const out = await ctx.controlled({ findings: [refusalFinding, leakFinding] })
    expect(out.inconclusive).toMatch(/positive control failed: a0\.w0\.editor GET \/w\/\{workspaceId\}\/docs\/\{docId\} answered 401/)
    expect(out.inconclusive).toMatch(/a refusal of a0\.w0\.editor GET/)
    expect(out.findings.map((f) => f.dedupKey)).toEqual(['leak'])
  })

  it('leaks and wrongly-allowed answers stand when the control fails', async () => {
    let dead = false
    const { ctx } = fakeTarget({ leak: true, dead: () => dead })
    const r = await ctx.probe({ ...foreignRead })
    expect(r.judgement.problems).toContain('wrongly-allowed')
    dead = true
    await ctx.probe({ actor: editorB, op: op('docs_read'), target: { accountId: A, workspaceId: WA, object: topology.objects[0] }, params: { docId: DA } })
    const wronglyAllowed: FindingInput = { message: 'a0.w0.editor read a1.w0.documents.0', dedupKey: 'wa', restsOnRefusal: false }
    const out = await ctx.controlled({ findings: [wronglyAllowed, leakFinding, refusalFinding] })
    expect(out.inconclusive).toMatch(/a1\.w0\.editor .* answered 401/)
    expect(out.findings.map((f) => f.dedupKey)).toEqual(['wa', 'leak'])
  })

  it('a read-back that is not served makes the check inconclusive', async () => {
    const { ctx } = fakeTarget({ dead: () => true })
    const res = await ctx.as(editorA).get(`/w/${WA}/docs/${DA}`)
    expect(ctx.expectServed(res, "the owner's read-back")).toBe(false)
    const out = await ctx.controlled({ findings: [] })
    expect(out.inconclusive).toBe("the owner's read-back answered 401")
  })

  it('a skipped outcome is left alone, controls or not', async () => {
    const { ctx, calls } = fakeTarget({ dead: () => true })
    await ctx.probe({ ...foreignRead })
    expect(await ctx.controlled({ findings: [], skipped: 'no reason to run' })).toEqual({ findings: [], skipped: 'no reason to run' })
    expect(calls).toHaveLength(1)
  })
})
