/**
 * The reference server's contract: openapi.yaml, loaded once, every operation's `x-tenancy` validated.
 * The router mounts routes from `operations` and the authorization middleware reads their `tenancy`;
 * no other file knows which route needs which role (policy is data, DESIGN.md §2).
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { z } from 'zod'

/** Which API surface an operation belongs to. */
export type ApiContext = 'app' | 'dashboard' | 'portal' | 'auth' | 'public'
/** Which path parameters carry tenant ids: `{workspaceId}`, `{accountId}`, a Portal operation, or none. */
export type TenancyScope = 'workspace' | 'account' | 'platform' | 'none'

/** An operation's `x-tenancy` annotation. */
export interface Tenancy {
  context: ApiContext
  /** `<resource>.<verb>`, the audit action name. */
  action: string
  scope: TenancyScope
  /** Roles that may call it: workspace, account, principal roles, or `anonymous`. */
  allow: readonly string[]
  /** Only the object's author may act on it, admins included. */
  owner: boolean
}

/** One operation of the document, ready to mount. */
export interface Operation {
  operationId: string
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI template, `/app/v1/workspaces/{workspaceId}`. */
  path: string
  /** The same path for Express, `/app/v1/workspaces/:workspaceId`. */
  expressPath: string
  tenancy: Tenancy
  /** Template parameter names in path order, `['workspaceId', 'documentId']`. */
  pathParams: readonly string[]
}

/** The parsed document and its operations. */
export interface Contract {
  /** The whole document (deep-frozen), served as `/openapi.json`. */
  document: Record<string, unknown>
  operations: readonly Operation[]
  /** The operation with this id; throws on an unknown id. */
  operation(operationId: string): Operation
}

/** Mirrors tenancy/roles.json plus `anonymous`; contract.test.ts checks they agree. */
export const ROLE_NAMES = ['viewer', 'editor', 'admin', 'account_admin', 'platform_admin', 'support', 'anonymous'] as const

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
const TEMPLATE_PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

const tenancySchema = z.strictObject({
  context: z.enum(['app', 'dashboard', 'portal', 'auth', 'public']),
  action: z.string().regex(/^[a-z][A-Za-z0-9_-]*\.[a-z][A-Za-z0-9_-]*$/, 'must be <resource>.<verb>'),
  scope: z.enum(['workspace', 'account', 'platform', 'none']),
  allow: z.array(z.enum(ROLE_NAMES)).min(1),
  owner: z.boolean(),
})

const documentSchema = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/, 'must be OpenAPI 3.1.x'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
})

/** The rule that makes `scope` usable: the tenant ids it names must be in the path. */
function scopeError(t: Tenancy, pathParams: readonly string[]): string | undefined {
  if (t.scope === 'workspace' && !pathParams.includes('workspaceId')) return 'scope workspace needs {workspaceId} in the path'
  if (t.scope === 'account' && !pathParams.includes('accountId')) return 'scope account needs {accountId} in the path'
  if ((t.scope === 'platform') !== (t.context === 'portal')) return 'scope platform goes with context portal, and only with it'
  return undefined
}

/** Builds a contract from an already parsed document; throws an Error naming the first bad operation. */
export function buildContract(raw: unknown): Contract {
  const parsed = documentSchema.safeParse(raw)
  if (!parsed.success) throw new Error(`openapi.yaml is not an OpenAPI 3.1 document: ${z.prettifyError(parsed.error)}`)
  const operations: Operation[] = []
  const byId = new Map<string, Operation>()
  for (const [path, item] of Object.entries(parsed.data.paths)) {
    for (const [key, value] of Object.entries(item)) {
      if (key === 'head' || key === 'options' || key === 'trace') throw new Error(`${key.toUpperCase()} ${path}: method not supported`)
      const method = METHODS.find((m) => m === key)
      if (method === undefined) continue // path-level parameters, summary, …
      const op = z.looseObject({ operationId: z.string().min(1), 'x-tenancy': z.unknown().optional() }).safeParse(value)
      if (!op.success) throw new Error(`${method.toUpperCase()} ${path}: operation has no operationId`)
      const { operationId } = op.data
      const name = `operation ${operationId} (${method.toUpperCase()} ${path})`
      if (op.data['x-tenancy'] === undefined) throw new Error(`${name} has no x-tenancy (unaudited surface)`)
      const tenancy = tenancySchema.safeParse(op.data['x-tenancy'])
      if (!tenancy.success) throw new Error(`${name} has an invalid x-tenancy: ${z.prettifyError(tenancy.error)}`)
      const pathParams = [...path.matchAll(TEMPLATE_PARAM)].map((m) => m[1] ?? '')
      const inconsistent = scopeError(tenancy.data, pathParams)
      if (inconsistent !== undefined) throw new Error(`${name} has an invalid x-tenancy: ${inconsistent}`)
      if (byId.has(operationId)) throw new Error(`${name}: duplicate operationId`)
      const operation: Operation = {
        operationId,
        method,
        path,
        expressPath: path.replace(TEMPLATE_PARAM, ':$1'),
        tenancy: tenancy.data,
        pathParams,
      }
      operations.push(deepFreeze(operation))
      byId.set(operationId, operation)
    }
  }
  return {
    document: deepFreeze(parsed.data),
    operations: Object.freeze(operations),
    operation(operationId) {
      const found = byId.get(operationId)
      if (found === undefined) throw new Error(`unknown operationId: ${operationId}`)
      return found
    },
  }
}

let cached: Contract | undefined

/** The reference server's contract, read from openapi.yaml beside this file on first call, then cached. */
export function loadContract(): Contract {
  cached ??= buildContract(parse(readFileSync(new URL('./openapi.yaml', import.meta.url), 'utf8')))
  return cached
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
