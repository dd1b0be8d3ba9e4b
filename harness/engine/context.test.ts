import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import type { HttpAdapter, HttpRequest, HttpResponse } from '../adapters/http.js'
import { parseContract } from '../core/contract.js'
import { parseProfile } from '../core/profile.js'
import { isProbeSkipped } from '../core/skip.js'
import type { Actor, Topology } from '../core/topology.js'
import { CheckContext } from './context.js'

const WS = '22222222-2222-4222-8222-222222222222'
const DOC = '33333333-3333-4333-8333-333333333333'

const update = {
  type: 'object', minProperties: 1, additionalProperties: false,
  properties: { title: { type: 'string', minLength: 1, maxLength: 120 }, pinned: { type: 'boolean' } },
}
const op = (operationId: string, schema: unknown) => ({
  patch: {
    operationId,
    'x-tenancy': { context: 'app', action: 'records.update', scope: 'workspace', allow: ['editor'] },
    requestBody: { content: { 'application/json': { schema } } },
  },
})
const contract = parseContract({
  openapi: '3.1.0',
  paths: {
    '/spaces/{spaceId}/records/{recordId}': op('updateRecord', { $ref: '#/components/schemas/RecordPatch' }),
    '/spaces/{spaceId}/broken/{recordId}': op('updateBroken', { type: 'object', properties: { code: { type: 'string', minLength: 5, maxLength: 2 } }, required: ['code'] }),
  },
  components: { schemas: { RecordPatch: update } },
})

const editor: Actor = { label: 'a0.w0.editor', kind: 'user', actorKind: 'editor', id: 'u1', accountId: 'a', workspaceId: WS, role: 'editor', accountRole: null, token: 'tok' }
const topology: Topology = {
  seed: 1, tag: 'abc123', accounts: [{ label: 'a0', id: 'a', workspaces: [{ label: 'a0.w0', id: WS, accountId: 'a' }] }], created: [],
  params: { account: 'accountId', workspace: 'spaceId' },
  actors: [editor],
  objects: [{ label: 'a0.w0.records.0', resource: 'records', id: DOC, accountId: 'a', workspaceId: WS, ownerLabel: editor.label, private: false, canary: 'zqabc123x0q' }],
}

function target() {
  const sent: HttpRequest[] = []
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      sent.push(req)
      return { status: 200, headers: {}, body: '{}', json: {}, evidence: { request: { method: req.method, url: req.path, headers: {} }, response: { status: 200, headers: {} } } }
    },
  }
  const profile = parseProfile({ name: 'fake', baseUrl: 'http://127.0.0.1:1' })
  return { sent, ctx: new CheckContext('access/unit', topology, contract, profile, http as unknown as HttpAdapter, { seed: 1, numRuns: 1 }) }
}

describe('CheckContext.probe', () => {
  const object = topology.objects[0]!
  it('sends an update whose schema has minProperties 1 a non-empty body the schema accepts', async () => {
    const { ctx, sent } = target()
    await ctx.probe({ actor: editor, op: contract.annotated[0]!, target: { accountId: 'a', workspaceId: WS, object } })
    expect(sent).toHaveLength(1)
    const body = sent[0]!.body as Record<string, unknown>
    expect(Object.keys(body).length).toBeGreaterThanOrEqual(1)
    expect(new Ajv2020({ strict: false }).validate(update, body)).toBe(true)
    expect(sent[0]!.path).toBe(`/spaces/${WS}/records/${DOC}`)
  })

  it('sends nothing when no valid body can be built, and says why in a ProbeSkipped', async () => {
    const { ctx, sent } = target()
    const err = await ctx.probe({ actor: editor, op: contract.annotated[1]!, target: { accountId: 'a', workspaceId: WS, object } }).catch((e: unknown) => e)
    expect(isProbeSkipped(err)).toBe(true)
    expect((err as Error).message).toMatch(/^updateBroken needs a body the harness cannot build: .*code must NOT have/)
    expect(sent).toHaveLength(0)
  })

  it('keeps a body the check gives, deliberate or not', async () => {
    const { ctx, sent } = target()
    await ctx.probe({ actor: editor, op: contract.annotated[1]!, target: { accountId: 'a', workspaceId: WS, object }, body: { junk: true } })
    expect(sent[0]!.body).toEqual({ junk: true })
  })
})
