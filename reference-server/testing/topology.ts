import type { TestServer } from './server.js'

export type UserRole = 'viewer' | 'editor' | 'admin' | 'account_admin'
export const USER_ROLES: readonly UserRole[] = ['viewer', 'editor', 'admin', 'account_admin']
export const PASSWORD = 'a-long-test-password'

export interface SeededUser { id: string; email: string; role: UserRole; accountId: string; workspaceId: string; token: string }
export interface SeededWorkspace {
  id: string
  accountId: string
  users: Record<UserRole, SeededUser>
  /** One shared document and, per user, one private note, each carrying the workspace's canary. */
  documentId: string
  notes: Record<UserRole, string>
  canary: string
}
export interface SeededAccount { id: string; workspaces: [SeededWorkspace, SeededWorkspace] }
export interface Topology {
  accounts: [SeededAccount, SeededAccount]
  principals: { platform_admin: string; support: string }
}

async function ok<T>(p: Promise<{ status: number; body: unknown; text: string }>, want = 201): Promise<T> {
  const res = await p
  if (res.status !== want) throw new Error(`seed step failed: ${res.status} ${res.text}`)
  return res.body as T
}

/**
 * Two accounts × two workspaces, every user role in every workspace (account_admin logs in to its
 * workspace), a document and a note per user in each, and one principal of each kind. Enough for
 * own / sibling workspace / other account on every operation.
 */
export async function seedTopology(s: TestServer, tag = Math.random().toString(36).slice(2, 8)): Promise<Topology> {
  const root = await s.rootToken()
  const accounts: SeededAccount[] = []
  for (const a of [0, 1]) {
    const account = await ok<{ id: string }>(s.call('POST', '/portal/v1/accounts', root, { name: `acct-${a}-${tag}` }))
    const workspaces: SeededWorkspace[] = []
    for (const w of [0, 1]) {
      const ws = await ok<{ id: string }>(s.call('POST', `/portal/v1/accounts/${account.id}/workspaces`, root, { name: `ws-${a}${w}`, environment: 'staging' }))
      const canary = `CANARY-${tag}-${a}${w}`
      const users = {} as Record<UserRole, SeededUser>
      const notes = {} as Record<UserRole, string>
      for (const role of USER_ROLES) {
        const email = `${role}-${a}${w}-${tag}@tenant.test`
        const body = role === 'account_admin' ? { email, password: PASSWORD, role: 'admin', accountRole: 'admin' } : { email, password: PASSWORD, role }
        const u = await ok<{ id: string }>(s.call('POST', `/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, root, body))
        const token = (await s.login(email, PASSWORD)).access_token
        users[role] = { id: u.id, email, role, accountId: account.id, workspaceId: ws.id, token }
        notes[role] = (await ok<{ id: string }>(s.call('POST', `/app/v1/workspaces/${ws.id}/notes`, token, { title: `note ${canary}`, body: `private ${role} ${canary}` }))).id
      }
      const doc = await ok<{ id: string }>(s.call('POST', `/app/v1/workspaces/${ws.id}/documents`, users.editor.token, { title: `doc ${canary}`, body: `shared ${canary}` }))
      workspaces.push({ id: ws.id, accountId: account.id, users, documentId: doc.id, notes, canary })
    }
    accounts.push({ id: account.id, workspaces: workspaces as [SeededWorkspace, SeededWorkspace] })
  }
  const principals = { platform_admin: root, support: '' }
  const email = `support-${tag}@platform.test`
  await ok(s.call('POST', '/portal/v1/principals', root, { email, password: PASSWORD, platformRole: 'support' }))
  principals.support = (await s.login(email, PASSWORD)).access_token
  return { accounts: accounts as [SeededAccount, SeededAccount], principals }
}
