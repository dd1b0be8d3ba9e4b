import { Ajv2020 } from 'ajv/dist/2020.js'
import fc from 'fast-check'
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

describe('CheckContext.concurrently and .property', () => {
  /** A target that answers item i after a delay that shrinks with i (the last sent is answered first), 403 to odd paths. */
  function slowTarget(concurrency: number) {
    const sent: HttpRequest[] = []
    let inFlight = 0
    let most = 0
    const http = {
      sent: 0,
      concurrency,
      async send(req: HttpRequest): Promise<HttpResponse> {
        http.sent++
        sent.push(req)
        inFlight++
        most = Math.max(most, inFlight)
        const n = Number(req.path.split('/').at(-1))
        await new Promise((r) => setTimeout(r, Number.isFinite(n) ? (20 - (n % 20)) * 2 : 0))
        inFlight--
        const status = Number.isFinite(n) && n % 2 === 1 ? 403 : 200
        return { status, headers: {}, body: '{}', json: {}, evidence: { request: { method: req.method, url: req.path, headers: {} }, response: { status, headers: {} } } }
      },
    }
    const profile = parseProfile({ name: 'fake', baseUrl: 'http://127.0.0.1:1' })
    return { sent, most: () => most, ctx: new CheckContext('access/unit', topology, contract, profile, http as unknown as HttpAdapter, { seed: 7, numRuns: 40 }) }
  }
  const op = contract.annotated[0]!
  const at = { accountId: 'a', workspaceId: WS }
  /** One case of a walk: a send, a refusal noted on a 403, a deferred delete, a served control expected on a 200. */
  async function walkCase(ctx: CheckContext, i: number) {
    const res = await ctx.as(editor).get(`/x/${i}`)
    if (res.status === 403) ctx.noteRefused(editor, op, at)
    ctx.defer(`/cleanup/${i}`)
    return res.status
  }

  it('books every case in item order whatever order the answers came in: the same controls and clean-up as one case after another', async () => {
    const one = slowTarget(1)
    const seq: number[] = []
    for (let i = 0; i < 12; i++) seq.push(await walkCase(one.ctx, i))
    const many = slowTarget(6)
    const par = await many.ctx.concurrently(Array.from({ length: 12 }, (_, i) => i), (i) => walkCase(many.ctx, i))
    expect(par).toEqual(seq)
    expect(many.most()).toBeGreaterThan(1) // really concurrent
    expect(many.ctx.controls.open()).toEqual(one.ctx.controls.open())
    await one.ctx.cleanup()
    await many.ctx.cleanup()
    const deletes = (s: HttpRequest[]) => s.filter((r) => r.method === 'DELETE').map((r) => r.path)
    expect(deletes(many.sent)).toEqual(deletes(one.sent))
    expect(deletes(many.sent)[0]).toBe('/cleanup/11') // newest first
  })

  it('runs every case to its end, then throws the first failed case\'s error in item order', async () => {
    const { ctx, sent } = slowTarget(4)
    const err = await ctx.concurrently([1, 2, 3, 4, 5, 6], async (i) => {
      await ctx.as(editor).get(`/x/${i}`)
      if (i === 5) throw new Error('five')
      if (i === 3) throw new Error('three')
      return i
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe('three')
    expect(sent).toHaveLength(6)
  })

  it('finds, shrinks and replays exactly as fc.check one run after another, with the runs worked concurrently', async () => {
    const arb = fc.integer({ min: 0, max: 1000 })
    // Fails on multiples of 7 above 100: fast-check shrinks to 105 or 112..., whatever it is, both must agree.
    const passes = (status: number) => status !== 500
    const work = (ctx: CheckContext) => async (n: number) => (n > 100 && n % 7 === 0 ? 500 : (await ctx.as(editor).get(`/x/${n}`)).status)
    const one = slowTarget(1)
    const plain = await fc.check(fc.asyncProperty(arb, async (n) => passes(await work(one.ctx)(n))), { ...one.ctx.fc, numRuns: 40 })
    const many = slowTarget(8)
    const ahead = await many.ctx.property(arb, work(many.ctx), passes, { numRuns: 40 })
    expect(plain.failed).toBe(true)
    expect(ahead.failed).toBe(true)
    expect(ahead.counterexample).toEqual(plain.counterexample)
    expect(ahead.counterexamplePath).toEqual(plain.counterexamplePath)
    expect(ahead.numRuns).toBe(plain.numRuns)
    expect(many.most()).toBeGreaterThan(1)
    // Same seed twice: the same requests, in the same order of booking.
    const again = slowTarget(8)
    const twice = await again.ctx.property(arb, work(again.ctx), passes, { numRuns: 40 })
    expect(twice.counterexample).toEqual(ahead.counterexample)
    expect(again.sent.map((r) => r.path).sort()).toEqual(many.sent.map((r) => r.path).sort())
  })

  it('runs the examples first, and a run that throws fails the property with that error', async () => {
    const { ctx } = slowTarget(4)
    const seen: number[] = []
    const r = await ctx.property(fc.integer({ min: 0, max: 9 }), async (n) => {
      seen.push(n)
      if (n === 4242) throw new Error('boom')
      return n
    }, () => true, { examples: [4242], numRuns: 10 })
    expect(r.failed).toBe(true)
    expect((r.errorInstance as Error).message).toBe('boom')
    expect(seen[0]).toBe(4242)
  })

  it('works only what a replay path replays', async () => {
    const { ctx, sent } = slowTarget(8)
    const arb = fc.integer({ min: 0, max: 1000 })
    const first = await ctx.property(arb, async (n) => (n % 3 === 0 ? 500 : 200), (s) => s !== 500, { numRuns: 40 })
    const replay = slowTarget(8)
    Object.assign(replay.ctx.fc, { path: first.counterexamplePath })
    const seen: number[] = []
    const again = await replay.ctx.property(arb, async (n) => { seen.push(n); return n % 3 === 0 ? 500 : 200 }, (s) => s !== 500, { numRuns: 40 })
    expect(again.counterexample).toEqual(first.counterexample)
    expect(seen.length).toBeLessThan(5)
    expect(sent).toHaveLength(0)
  })
})
