/** Row → API shape (camelCase), one mapper per table; the API never returns a password hash. */
type Row = Record<string, unknown>

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v))

export const SQL_FIELDS = {
  accounts: 'id, name, status, rate_limit, created_at',
  workspaces: 'id, account_id, name, environment, created_at',
  users: 'id, account_id, workspace_id, email, role, account_role, created_at',
  principals: 'id, email, platform_role, created_at',
  documents: 'id, account_id, workspace_id, created_by, title, body, created_at, updated_at',
  notes: 'id, account_id, workspace_id, author_id, title, body, created_at, updated_at',
} as const

export const toAccount = (r: Row) => ({
  id: r.id, name: r.name, status: r.status,
  rateLimit: (r.rate_limit as { requestsPerSecond: number; burst: number } | null) ?? null,
  createdAt: iso(r.created_at),
})
export const toWorkspace = (r: Row) => ({ id: r.id, accountId: r.account_id, name: r.name, environment: r.environment, createdAt: iso(r.created_at) })
export const toUser = (r: Row) => ({
  id: r.id, accountId: r.account_id, workspaceId: r.workspace_id, email: r.email, role: r.role,
  accountRole: r.account_role ?? null, createdAt: iso(r.created_at),
})
export const toPrincipal = (r: Row) => ({ id: r.id, email: r.email, platformRole: r.platform_role, createdAt: iso(r.created_at) })
export const toDocument = (r: Row) => ({
  id: r.id, accountId: r.account_id, workspaceId: r.workspace_id, title: r.title, body: r.body,
  createdBy: r.created_by, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
})
export const toNote = (r: Row) => ({
  id: r.id, accountId: r.account_id, workspaceId: r.workspace_id, authorId: r.author_id, title: r.title, body: r.body,
  createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
})
