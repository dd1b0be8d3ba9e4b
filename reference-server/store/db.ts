/**
 * The one storage interface both drivers implement. Every SQL statement a request runs goes through
 * `withTenant`: one transaction that sets the tenant context locally (`set_config(..., true)`) and
 * switches to the runtime role with `SET LOCAL ROLE`, so nothing survives the transaction and Postgres
 * row-level security is the second wall behind the application's checks. There is no session-level SET
 * anywhere.
 */
export type PlatformRole = 'platform_admin' | 'support'

/** What the policies in migrations/001_init.sql read through `current_setting(..., true)`. */
export interface TenantContext {
  /** Verified account (tenant) id, from token claims only. */
  accountId?: string | null
  /** Workspace the request acts in, after the application has checked the caller may act there. */
  workspaceId?: string | null
  /** Verified user id (notes are private to their author, also under RLS: policy notes_author, migration 007). */
  userId?: string | null
  /** Verified platform role of a principal (Portal only). */
  platformRole?: PlatformRole | null
  /** Narrow, pre-authentication lookups: a login by email, a refresh token by hash. */
  loginEmail?: string | null
  refreshHash?: string | null
  refreshFamily?: string | null
}

export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

export interface Tx {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
}

export type DriverKind = 'pglite' | 'pg'

export interface Database {
  readonly kind: DriverKind
  /** Runs `fn` in one transaction under the runtime role with `ctx` set locally. Rolls back if `fn` throws. */
  withTenant<T>(ctx: TenantContext, fn: (tx: Tx) => Promise<T>): Promise<T>
  /**
   * Runs `fn` in one transaction as the schema owner, with RLS forced on it too. Only migrations,
   * start-up checks and tests use this; request handlers never do.
   */
  withOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** The settings `withTenant` writes, in a fixed order, with their values ('' for unset). */
export function tenantSettings(ctx: TenantContext): [string, string][] {
  return [
    ['app.account_id', ctx.accountId ?? ''],
    ['app.workspace_id', ctx.workspaceId ?? ''],
    ['app.user_id', ctx.userId ?? ''],
    ['app.platform_role', ctx.platformRole ?? ''],
    ['app.login_email', ctx.loginEmail ?? ''],
    ['app.refresh_hash', ctx.refreshHash ?? ''],
    ['app.refresh_family', ctx.refreshFamily ?? ''],
  ]
}

/** One statement that sets every tenant setting transaction-locally; parameters, never string concatenation. */
export const SET_CONTEXT_SQL =
  'SELECT ' +
  tenantSettings({})
    .map(([name], i) => `set_config('${name}', $${i + 1}, true)`)
    .join(', ')

export const RUNTIME_ROLE = 'ta_runtime'
export const OWNER_ROLE = 'ta_owner'
