import { z } from 'zod'
import { HarnessError } from './errors.js'
import type { VocabularySpec } from './profile.js'
import { buildVocabulary, canonicalVerb, type RawOperation, type Role, type Vocabulary } from './vocabulary.js'

/**
 * A target's contract as the harness reads it: any OpenAPI 3.x document whose operations carry
 * `x-tenancy` (DESIGN §2). Nothing here knows the reference server's routes or resource names.
 */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete'
export type ApiContext = 'app' | 'dashboard' | 'portal' | 'auth' | 'public'
export type TenancyScope = 'workspace' | 'account' | 'platform' | 'none'

export const tenancySchema = z.object({
  context: z.enum(['app', 'dashboard', 'portal', 'auth', 'public']),
  action: z.string().regex(/^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]*$/, 'action must be <resource>.<verb>'),
  scope: z.enum(['workspace', 'account', 'platform', 'none']),
  allow: z.array(z.string().min(1)),
  owner: z.boolean().default(false),
})
export type Tenancy = z.infer<typeof tenancySchema>

export type JsonSchema = Record<string, unknown>

export interface ContractOperation {
  /** `operationId`, or `METHOD path` when the document has none. */
  id: string
  method: HttpMethod
  /** OpenAPI path template. */
  path: string
  pathParams: string[]
  /**
   * Undefined: the operation has no x-tenancy (itself a finding: unaudited surface). `allow` holds
   * the canonical policy roles (the vocabulary applied); `action` stays the deployment's own.
   */
  tenancy?: Tenancy
  /** The deployment's resource of the action ('' when unannotated). */
  resource: string
  /** The canonical verb (create read update delete list search, or the deployment's other verb). */
  verb: string
  /** The role this operation's resource or action plays for the harness, if any. */
  role?: Role | undefined
  /** The deployment's own spellings, for display. */
  written?: { action: string; allow: string[] } | undefined
  requestSchema?: JsonSchema
  queryParams: string[]
  /** The schema of each documented query parameter (`{}` when the document gives none). */
  querySchemas?: Record<string, JsonSchema>
}

export interface TargetContract {
  operations: ContractOperation[]
  annotated: (ContractOperation & { tenancy: Tenancy })[]
  unannotated: ContractOperation[]
  /** The annotated operations with this deployment action (optionally in one context). */
  byAction(action: string, context?: ApiContext): (ContractOperation & { tenancy: Tenancy })[]
  /** The annotated operations playing a role, optionally with one canonical verb and in one context. */
  byRole(role: Role, verb?: string, context?: ApiContext): (ContractOperation & { tenancy: Tenancy })[]
  /** The annotated operations of a deployment resource with one canonical verb. */
  byResource(resource: string, verb: string, context?: ApiContext): (ContractOperation & { tenancy: Tenancy })[]
  /**
   * Owner-only resource: its reads or writes of one object are `owner: true`, even when its create
   * is not (anyone may create a private object; only reading and changing it is the author's).
   */
  ownerOnly(resource: string): boolean
  /** The deployment's names mapped to the harness's roles. */
  vocabulary: Vocabulary
  /** The JSON Schema behind a `$ref` ('#/components/schemas/X'), resolved one level at a time. */
  resolve(schema: unknown): JsonSchema
}

const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete']
const PARAM = /\{([^}]+)\}/g

function deref(doc: Record<string, unknown>, value: unknown, depth = 0): JsonSchema {
  if (!value || typeof value !== 'object') return {}
  const ref = (value as { $ref?: unknown }).$ref
  if (typeof ref !== 'string') return value as JsonSchema
  if (depth > 20 || !ref.startsWith('#/')) throw new HarnessError('ERR_CONTRACT_INVALID', `unresolvable $ref ${ref}`)
  let node: unknown = doc
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  if (node === undefined) throw new HarnessError('ERR_CONTRACT_INVALID', `$ref ${ref} points nowhere`)
  return deref(doc, node, depth + 1)
}

/**
 * Parses and checks a contract document and applies the vocabulary (the profile's `vocabulary`
 * section, else inference); structural problems throw ERR_CONTRACT_INVALID (exit 2).
 */
export function parseContract(document: unknown, spec: VocabularySpec = {}): TargetContract {
  if (!document || typeof document !== 'object' || typeof (document as { openapi?: unknown }).openapi !== 'string') {
    throw new HarnessError('ERR_CONTRACT_INVALID', 'the contract is not an OpenAPI document (no "openapi" field)')
  }
  const doc = document as Record<string, unknown>
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>
  const operations: ContractOperation[] = []
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const raw = item?.[method] as Record<string, unknown> | undefined
      if (!raw) continue
      const id = typeof raw.operationId === 'string' ? raw.operationId : `${method.toUpperCase()} ${path}`
      let tenancy: Tenancy | undefined
      if (raw['x-tenancy'] !== undefined) {
        const parsed = tenancySchema.safeParse(raw['x-tenancy'])
        if (!parsed.success) {
          throw new HarnessError('ERR_CONTRACT_INVALID', `${id}: invalid x-tenancy: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`)
        }
        tenancy = parsed.data
      }
      const [resource = '', verb = ''] = tenancy ? tenancy.action.split('.') : []
      const content = (deref(doc, raw.requestBody).content ?? {}) as Record<string, { schema?: unknown }>
      const jsonBody = content['application/json']?.schema
      const params = [...((item.parameters as unknown[]) ?? []), ...((raw.parameters as unknown[]) ?? [])].map((p) => deref(doc, p))
      operations.push({
        id, method, path,
        pathParams: [...path.matchAll(PARAM)].map((m) => m[1]!),
        tenancy, resource, verb: canonicalVerb(verb),
        requestSchema: jsonBody ? deref(doc, jsonBody) : undefined,
        queryParams: params.filter((p) => p.in === 'query').map((p) => String(p.name)),
        querySchemas: Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [String(p.name), deref(doc, p.schema)])),
      })
    }
  }
  if (operations.length === 0) throw new HarnessError('ERR_CONTRACT_INVALID', 'the contract has no operations')
  const annotated = operations.filter((o): o is ContractOperation & { tenancy: Tenancy } => o.tenancy !== undefined)
  const raw: RawOperation[] = annotated.map((o) => ({ method: o.method, path: o.path, pathParams: o.pathParams, requestSchema: o.requestSchema, ...o.tenancy }))
  const vocabulary = buildVocabulary(raw, spec)
  for (const o of annotated) {
    o.written = { action: o.tenancy.action, allow: o.tenancy.allow }
    o.role = vocabulary.roleOfAction(o.tenancy.action) ?? vocabulary.roleOfResource(o.resource)
    o.tenancy = { ...o.tenancy, allow: o.tenancy.allow.map((r) => vocabulary.policyRole(r)) }
  }
  const inContext = (o: { tenancy: Tenancy }, context?: ApiContext) => !context || o.tenancy.context === context
  return {
    operations,
    annotated,
    unannotated: operations.filter((o) => !o.tenancy),
    byAction: (action, context) => annotated.filter((o) => o.tenancy.action === action && inContext(o, context)),
    byRole: (role, verb, context) => annotated.filter((o) => o.role === role && (!verb || o.verb === verb) && inContext(o, context)),
    byResource: (resource, verb, context) => annotated.filter((o) => o.resource === resource && o.verb === verb && inContext(o, context)),
    ownerOnly: (resource) => annotated.some((o) => o.resource === resource && o.tenancy.owner && !['list', 'search'].includes(o.verb)),
    vocabulary,
    resolve: (schema) => deref(doc, schema),
  }
}

/** Fills `{name}` params of a path template. */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(PARAM, (_, name: string) => {
    const v = values[name]
    if (v === undefined) throw new HarnessError('ERR_INTERNAL', `no value for path parameter {${name}} in ${template}`)
    return encodeURIComponent(v)
  })
}
