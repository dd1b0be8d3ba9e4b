import { z } from 'zod'
import { HarnessError } from './errors.js'

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
  /** Undefined: the operation has no x-tenancy (itself a finding: unaudited surface). */
  tenancy?: Tenancy
  /** `resource` and `verb` of the action ('' when unannotated). */
  resource: string
  verb: string
  requestSchema?: JsonSchema
  queryParams: string[]
}

export interface TargetContract {
  operations: ContractOperation[]
  annotated: (ContractOperation & { tenancy: Tenancy })[]
  unannotated: ContractOperation[]
  /** The annotated operations with this action (optionally in one context). */
  byAction(action: string, context?: ApiContext): (ContractOperation & { tenancy: Tenancy })[]
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

/** Parses and checks a contract document; structural problems throw ERR_CONTRACT_INVALID (exit 2). */
export function parseContract(document: unknown): TargetContract {
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
        tenancy, resource, verb,
        requestSchema: jsonBody ? deref(doc, jsonBody) : undefined,
        queryParams: params.filter((p) => p.in === 'query').map((p) => String(p.name)),
      })
    }
  }
  if (operations.length === 0) throw new HarnessError('ERR_CONTRACT_INVALID', 'the contract has no operations')
  const annotated = operations.filter((o): o is ContractOperation & { tenancy: Tenancy } => o.tenancy !== undefined)
  return {
    operations,
    annotated,
    unannotated: operations.filter((o) => !o.tenancy),
    byAction: (action, context) => annotated.filter((o) => o.tenancy.action === action && (!context || o.tenancy.context === context)),
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
