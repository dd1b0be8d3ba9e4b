import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { afterEach, describe, expect, it } from 'vitest'
import { parseContract } from '../core/contract.js'
import { isProbeSkipped } from '../core/skip.js'
import { isHarnessError } from '../core/errors.js'
import { bodyFromSchema, markedBodies, seedBodies, validBody, type BodyHints } from './bodies.js'
import { provisioningBody } from './portal.js'
import { prepare } from './body-fill.js'
import { bundleSchema } from './schema-bundle.js'

const schemas: Record<string, Record<string, unknown>> = {
  Code: { type: 'string', pattern: '^[a-z]{3}-[0-9]{4}$' },
  Named: { type: 'object', properties: { name: { type: 'string', maxLength: 60 }, code: { $ref: '#/components/schemas/Code' } }, required: ['name', 'code'] },
  Outer: { type: 'object', properties: { inner: { $ref: '#/components/schemas/Middle' } }, required: ['inner'], additionalProperties: false },
  Middle: { type: 'object', properties: { leaf: { $ref: '#/components/schemas/Leaf' } }, required: ['leaf'] },
  Leaf: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, note: { type: 'string', maxLength: 40 } }, required: ['id', 'note'] },
  Tree: { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Tree' } } }, required: ['label'] },
}

/** A contract whose document carries `schemas` under components, as a deployment's would. */
const contract = parseContract({
  openapi: '3.1.0',
  paths: { '/x': { post: { operationId: 'x', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Named' } } } } } } },
  components: { schemas },
})

// An ajv of the test's own, so the module is not checked only by itself.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (a: Ajv2020) => Ajv2020
const ajv = addFormats(new Ajv2020({ strict: false }))
const validates = (schema: Record<string, unknown>, body: unknown) => ajv.validate({ ...schema, components: { schemas } }, body)

const CANARY = 'zqabc123x7q'
const hints: BodyHints = { label: 'ta-test', canary: CANARY }

function build(schema: Record<string, unknown>, h: BodyHints = hints): Record<string, unknown> {
  const r = validBody(contract, schema, h)
  if (!r.ok) throw new Error(r.reason)
  expect(validates(schema, r.body)).toBe(true)
  return r.body as Record<string, unknown>
}

afterEach(() => seedBodies(0))

describe('validBody', () => {
  it('fills an update whose schema has minProperties 1 and no required field, free text first', () => {
    const schema = { type: 'object', properties: { priority: { type: 'integer', minimum: 1, maximum: 5 }, title: { type: 'string', maxLength: 80 } }, minProperties: 1, additionalProperties: false }
    const body = build(schema)
    expect(Object.keys(body)).toEqual(['title'])
    expect(body.title).toContain(CANARY)
  })

  it('builds one of two shapes that exactly one branch accepts', () => {
    const schema = {
      oneOf: [
        { type: 'object', properties: { kind: { const: 'link' }, url: { type: 'string', format: 'uri' } }, required: ['kind', 'url'], additionalProperties: false },
        { type: 'object', properties: { kind: { const: 'text' }, text: { type: 'string', minLength: 3 } }, required: ['kind', 'text'], additionalProperties: false },
      ],
    }
    const body = build(schema)
    expect(['link', 'text']).toContain(body.kind)
  })

  it('puts label and canary in free text whose maxLength is huge, and the generator writes at most 1,000 characters of it', () => {
    const schema = { type: 'object', properties: { body: { type: 'string', minLength: 2, maxLength: 100_000 } }, required: ['body'] }
    const body = build(schema)
    expect(body.body).toContain(CANARY)
    const gen = prepare(bundleSchema(contract, schema), hints, { force: true, substitute: true }) as { properties: { body: { maxLength: number; minLength: number } } }
    expect(gen.properties.body).toMatchObject({ maxLength: 1000, minLength: 2 })
    // The schema the body is checked against is the original one.
    expect(schema.properties.body.maxLength).toBe(100_000)
  })

  it('honours patterns, enum and const', () => {
    const body = build({ type: 'object', properties: { sku: { type: 'string', pattern: '^[a-z]{3}-[0-9]{4}$' }, tier: { enum: ['gold', 'silver'] }, v: { const: 2 } }, required: ['sku', 'tier', 'v'] })
    expect(body.sku).toMatch(/^[a-z]{3}-[0-9]{4}$/)
    expect(['gold', 'silver']).toContain(body.tier)
    expect(body.v).toBe(2)
  })

  it('honours formats', () => {
    const body = build({
      type: 'object', required: ['a', 'b', 'c', 'd', 'e'],
      properties: { a: { type: 'string', format: 'email' }, b: { type: 'string', format: 'uuid' }, c: { type: 'string', format: 'date-time' }, d: { type: 'string', format: 'uri' }, e: { type: 'string', format: 'date' } },
    })
    expect(body.b).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
    expect(Number.isNaN(Date.parse(String(body.c)))).toBe(false)
  })

  it('honours number, string and array bounds', () => {
    const body = build({
      type: 'object', required: ['n', 'x', 's', 'list'],
      properties: {
        n: { type: 'integer', minimum: 10, maximum: 12 },
        x: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        s: { type: 'string', minLength: 30, maxLength: 40 },
        list: { type: 'array', items: { type: 'string', maxLength: 5 }, minItems: 2, maxItems: 3 },
      },
    })
    expect(body.n).toBeGreaterThanOrEqual(10)
    expect(body.n).toBeLessThanOrEqual(12)
    expect(String(body.s).length).toBeGreaterThanOrEqual(30)
    expect((body.list as unknown[]).length).toBeGreaterThanOrEqual(2)
  })

  it('sends no property additionalProperties: false forbids, and no optional one without a reason', () => {
    const body = build({ type: 'object', properties: { name: { type: 'string' }, color: { type: 'string' }, size: { type: 'integer' } }, required: ['name'], additionalProperties: false })
    expect(Object.keys(body)).toEqual(['name'])
  })

  it('merges allOf with a $ref', () => {
    const body = build({ allOf: [{ $ref: '#/components/schemas/Named' }, { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] }] })
    expect(body.code).toMatch(/^[a-z]{3}-[0-9]{4}$/)
    expect(body.name).toContain(CANARY)
    expect(typeof body.n).toBe('number')
  })

  it('follows nested $refs through components.schemas, recursive ones included', () => {
    const body = build({ $ref: '#/components/schemas/Outer' })
    const leaf = (body.inner as { leaf: { id: string; note: string } }).leaf
    expect(leaf.note).toContain(CANARY)
    expect(leaf.note.length).toBeLessThanOrEqual(40)
    expect(build({ $ref: '#/components/schemas/Tree' }).label).toContain(CANARY)
  })

  it('lands hints on the fields they mean: by name, by format, by enum membership', () => {
    const schema = {
      type: 'object', required: ['contact', 'secret', 'level', 'username'],
      properties: {
        contact: { type: 'string', format: 'email' },
        secret: { type: 'string', writeOnly: true, minLength: 8 },
        username: { type: 'string' },
        level: { enum: ['reader', 'writer', 'owner'] },
        password: { type: 'string', format: 'password' },
        role: { enum: ['reader', 'writer', 'owner'] },
        accountRole: { enum: ['owner'] },
        platformRole: { enum: ['operator'] },
      },
    }
    const h = { email: 'u1@tenant-audit.test', password: 'Secret-pw-123456', role: 'writer', platformRole: 'auditor', label: 'x' }
    const body = build(schema, h)
    expect(body).toMatchObject({ contact: h.email, username: h.email, secret: h.password, password: h.password, level: 'writer', role: 'writer' })
    // No accountRole hint: the optional field stays out; a hint the enum refuses is not forced in.
    expect(body).not.toHaveProperty('accountRole')
    expect(body).not.toHaveProperty('platformRole')
    // A role hint the schema refuses never lands; the required field gets a valid value instead.
    const refused = build({ type: 'object', properties: { role: { enum: ['reader'] } }, required: ['role'] }, { role: 'admin' })
    expect(refused.role).toBe('reader')
  })

  it('puts a hint into a nullable enum the generator would have set to null, whatever the seed', () => {
    const schema = { type: 'object', required: ['role'], properties: { role: { enum: ['viewer', 'admin'] }, accountRole: { type: ['string', 'null'], enum: ['admin', null] } } }
    for (let seed = 0; seed < 30; seed++) {
      seedBodies(seed)
      expect(build(schema, { role: 'admin', accountRole: 'admin' })).toEqual({ role: 'admin', accountRole: 'admin' })
    }
  })

  it('lets bodies built with different hints differ only where the hints do (enums take no random member)', () => {
    const schema = { type: 'object', required: ['email', 'role', 'tier'], properties: { email: { type: 'string', format: 'email' }, role: { enum: ['viewer', 'editor', 'admin'] }, tier: { enum: ['gold', 'silver'] }, accountRole: { type: ['string', 'null'], enum: ['admin', null] } } }
    for (let seed = 0; seed < 10; seed++) {
      seedBodies(seed)
      expect(build(schema, { accountRole: 'admin' })).toMatchObject({ role: 'viewer', tier: 'gold', accountRole: 'admin' })
      expect(build(schema, {})).toMatchObject({ role: 'viewer', tier: 'gold' })
      expect(build({ ...schema, required: ['email', 'role', 'accountRole'] }, {})).toMatchObject({ accountRole: null })
    }
  })

  it('puts the canary into free text within maxLength, keeping names readable', () => {
    const body = build({ type: 'object', required: ['title', 'short', 'code'], properties: { title: { type: 'string', maxLength: 100 }, short: { type: 'string', maxLength: 12 }, code: { type: 'string', pattern: '^[A-Z]+$' } } })
    expect(body.title).toMatch(new RegExp(`^ta-test \\w.* ${CANARY}$`))
    expect(body.short).toBe(CANARY)
    expect(body.code).toMatch(/^[A-Z]+$/)
  })

  it('gives the same body for the same seed', () => {
    const schema = { type: 'object', required: ['id', 'body', 'n'], properties: { id: { type: 'string', format: 'uuid' }, body: { type: 'string' }, n: { type: 'integer' } } }
    seedBodies(7)
    const a = build(schema)
    const b = build(schema)
    seedBodies(8)
    const c = build(schema)
    seedBodies(7)
    expect(build(schema)).toEqual(a)
    expect(b).toEqual(a)
    expect(c.id).not.toEqual(a.id)
  })

  it('validates every body it returns, over many seeds and shapes', () => {
    const shapes = [{ $ref: '#/components/schemas/Outer' }, { $ref: '#/components/schemas/Tree' }, { $ref: '#/components/schemas/Named' },
      { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' }, minItems: 2, uniqueItems: true } }, required: ['tags'] },
      { anyOf: [{ type: 'object', properties: { a: { type: 'string', format: 'email' } }, required: ['a'] }, { type: 'object', properties: { b: { type: 'integer' } }, required: ['b'] }] }]
    for (let seed = 0; seed < 20; seed++) {
      seedBodies(seed)
      for (const s of shapes) build(s)
    }
  })

  it('reports an unsatisfiable schema as a value, and the sending variant throws ProbeSkipped', () => {
    const r = validBody(contract, { type: 'object', properties: { code: { type: 'string', minLength: 5, maxLength: 2 } }, required: ['code'] }, hints)
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/code must NOT have (more|fewer) than \d characters/) })
    const impossible = { type: 'object', properties: { a: { type: 'string' } }, minProperties: 2, additionalProperties: false }
    expect(validBody(contract, impossible, hints).ok).toBe(false)
    let thrown: unknown
    try { bodyFromSchema(contract, impossible, hints) } catch (err) { thrown = err }
    expect(isProbeSkipped(thrown)).toBe(true)
  })

  it('returns no body for an empty schema, as the old generator did', () => {
    expect(validBody(contract, {}, hints)).toEqual({ ok: true, body: undefined })
  })

  it('makes provisioning that cannot build a body one exit-2 error naming the operation and the problem', () => {
    const op = { ...contract.operations[0]!, id: 'createTenant', tenancy: { context: 'portal' as const, action: 'tenants.create', scope: 'platform' as const, allow: ['platform_admin'], owner: false } }
    expect(provisioningBody(contract, op, hints)).toMatchObject({ code: expect.stringMatching(/^[a-z]{3}-[0-9]{4}$/) })
    let thrown: unknown
    try { provisioningBody(contract, { ...op, requestSchema: { type: 'string', minLength: 5, maxLength: 2 } }, hints) } catch (err) { thrown = err }
    expect(isHarnessError(thrown) && thrown.code).toBe('ERR_PROVISION_FAILED')
    expect((thrown as Error).message).toMatch(/^createTenant \(tenants\.create\) needs a body the harness cannot build from its schema: body must NOT have more than 2 characters$/)
  })
})

describe('markedBodies: one body per marker, each in the same free-text field', () => {
  const markers = ['ta-m0', 'ta-m1', 'ta-m2']

  it('skips a field that cannot carry text (enum, pattern) and sets the first one that can, even when optional', () => {
    const schema = { type: 'object', properties: { status: { enum: ['draft', 'final'] }, code: { $ref: '#/components/schemas/Code' }, title: { type: 'string', maxLength: 80 } }, additionalProperties: false }
    const got = markedBodies(contract, schema, markers)
    expect(got?.field).toBe('title')
    expect(got!.bodies).toHaveLength(3)
    got!.bodies.forEach((b, i) => {
      expect(String(b.title)).toContain(markers[i])
      expect(validates(schema, b)).toBe(true)
    })
  })

  it('is undefined where no field takes free text', () => {
    expect(markedBodies(contract, { type: 'object', properties: { status: { enum: ['draft', 'final'] }, id: { type: 'string', format: 'uuid' } } }, markers)).toBeUndefined()
  })
})
