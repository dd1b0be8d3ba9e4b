/**
 * The tenants an audit works with: provisioned through the Portal or read from a fixtures file.
 * Everything here is plain data (it crosses from the vitest global setup to the suites), and
 * labels are stable for a seed, so a counterexample names `a0.w1.editor`, not a random id.
 */
export type WorkspaceRole = 'viewer' | 'editor' | 'admin'
export type ActorKind = 'anonymous' | 'viewer' | 'editor' | 'admin' | 'account_admin' | 'platform_admin' | 'support'

export interface Actor {
  /** `a0.w1.editor`, `p.support`, `anonymous`. */
  label: string
  kind: 'user' | 'principal' | 'anonymous'
  /** For matrices: the role an actor is reported under. */
  actorKind: ActorKind
  id?: string
  username?: string
  accountId?: string
  workspaceId?: string
  role?: WorkspaceRole
  accountRole?: 'admin' | null
  platformRole?: string
  /** Access token. A secret: redacted from every record and report. */
  token?: string
}

export interface WorkspaceNode { label: string; id: string; accountId: string }
export interface AccountNode { label: string; id: string; workspaces: WorkspaceNode[] }

/** An object the harness created (or a user it provisioned), with the canary it carries. */
export interface SeededObject {
  /** `a0.w1.documents.0`. */
  label: string
  /** The contract resource (`documents`, `records`, `users`, …). */
  resource: string
  id: string
  accountId: string
  workspaceId: string
  /** The actor that created it (for users: the user itself). */
  ownerLabel: string
  /** From an `owner: true` create operation: only its author may see it. */
  private: boolean
  /** Unique marker string inside the object's text fields. */
  canary: string
}

export interface Topology {
  seed: number
  /** Short random tag of this run, in every name and email the harness creates. */
  tag: string
  accounts: AccountNode[]
  actors: Actor[]
  objects: SeededObject[]
  /** Path parameter names that carry the account and workspace ids on this target. */
  params: { account: string; workspace: string }
  /** Who the harness created (and must remove), in creation order. */
  created: { resource: string; path: string; /** Deleted with this token rather than the bootstrap principal's. */ token?: string }[]
}

export const ANONYMOUS: Actor = { label: 'anonymous', kind: 'anonymous', actorKind: 'anonymous' }

export function actorByLabel(t: Topology, label: string): Actor | undefined {
  return label === 'anonymous' ? ANONYMOUS : t.actors.find((a) => a.label === label)
}

export function users(t: Topology): Actor[] {
  return t.actors.filter((a) => a.kind === 'user')
}

export function principals(t: Topology): Actor[] {
  return t.actors.filter((a) => a.kind === 'principal')
}

/** Whether a topology has two accounts, each with two workspaces: what most cross-tenant checks need. */
export function capabilities(t: Topology): Set<string> {
  const caps = new Set<string>()
  if (t.accounts.length >= 2) caps.add('two-accounts')
  if (t.accounts.some((a) => a.workspaces.length >= 2)) caps.add('two-workspaces')
  if (t.actors.some((a) => a.kind === 'principal')) caps.add('principals')
  if (t.objects.some((o) => o.private)) caps.add('private-objects')
  return caps
}
