import type { Express } from 'express'
import { z } from 'zod'
import type { ServerDeps, UserActor, Call } from '../types.js'
import type { Tx } from '../../store/db.js'
import { mount } from '../route.js'
import { notFound } from '../problem.js'
import { readPage, listPage } from '../pagination.js'
import { SQL_FIELDS, toAccount, toDocument, toNote, toUser, toWorkspace } from '../../store/rows.js'
import { rolesInOwnWorkspace } from '../../tenancy/policy.js'

const title = z.string().min(1).max(200)
const body = z.string().max(100_000)
// z.object strips unknown keys: accountId, workspaceId, createdBy in a body never reach SQL.
const createText = z.object({ title, body })
const patchText = z.object({ title: title.optional(), body: body.optional() })
const searchQuery = z.object({ q: z.string().max(200).optional() })

const user = (call: Call) => call.actor as UserActor // App is user-only (x-tenancy context + role table)
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c)

/** App API: one workspace's shared documents and each user's private notes. */
export function mountApp(app: Express, deps: ServerDeps): void {
  const { faults } = deps

  mount(app, deps, 'getMe', async ({ tx, actor, workspaceId }) => {
    const u = actor as UserActor
    const me = await tx.query(`SELECT ${SQL_FIELDS.users} FROM users WHERE id = $1`, [u.id])
    const account = await tx.query(`SELECT ${SQL_FIELDS.accounts} FROM accounts WHERE id = $1`, [u.accountId])
    const ws = await tx.query(`SELECT ${SQL_FIELDS.workspaces} FROM workspaces WHERE id = $1 AND account_id = $2`, [workspaceId, u.accountId])
    if (!me.rows[0] || !account.rows[0] || !ws.rows[0]) throw notFound()
    return { status: 200, body: { user: toUser(me.rows[0]), account: toAccount(account.rows[0]), workspace: toWorkspace(ws.rows[0]), roles: rolesInOwnWorkspace(u.role, u.accountRole) } }
  })

  mount(app, deps, 'listDocuments', async (call) => {
    const page = readPage(call.req)
    const { q } = searchQuery.parse({ q: call.req.query.q })
    let workspaceId = call.workspaceId
    if (faults.has('document-list-honours-workspace-param') && typeof call.req.query.workspaceId === 'string') {
      workspaceId = call.req.query.workspaceId
    }
    const params: unknown[] = [user(call).accountId]
    let where = 'account_id = $1'
    if (!(faults.has('search-spans-workspaces') && q)) {
      params.push(workspaceId)
      where += ` AND workspace_id = $${params.length}`
    }
    if (q) {
      params.push(`%${escapeLike(q)}%`)
      where += ` AND (title ILIKE $${params.length} OR body ILIKE $${params.length})`
    }
    return { status: 200, body: await listPage(call.tx, 'documents', SQL_FIELDS.documents, where, params, page, toDocument) }
  })

  mount(app, deps, 'createDocument', async (call) => {
    const input = createText.parse(call.req.body)
    const { rows } = await call.tx.query(
      `INSERT INTO documents (account_id, workspace_id, created_by, title, body) VALUES ($1, $2, $3, $4, $5) RETURNING ${SQL_FIELDS.documents}`,
      [user(call).accountId, call.workspaceId, call.actor.id, input.title, input.body])
    return { status: 201, body: toDocument(rows[0]!) }
  })

  mount(app, deps, 'getDocument', async ({ tx, params, workspaceId, actor }) => {
    const accountId = (actor as UserActor).accountId
    if (faults.has('document-read-bypasses-rls')) {
      // The bug: no tenant filter, on the maintenance role that bypasses RLS.
      await tx.query('SET LOCAL ROLE ta_maintenance')
      const { rows } = await tx.query(`SELECT ${SQL_FIELDS.documents} FROM documents WHERE id = $1`, [params.documentId])
      await tx.query('SET LOCAL ROLE ta_runtime')
      if (rows[0]) return { status: 200, body: toDocument(rows[0]) }
    }
    const { rows } = faults.has('document-read-ignores-workspace')
      ? await tx.query(`SELECT ${SQL_FIELDS.documents} FROM documents WHERE id = $1`, [params.documentId])
      : await tx.query(`SELECT ${SQL_FIELDS.documents} FROM documents WHERE id = $1 AND workspace_id = $2 AND account_id = $3`,
          [params.documentId, workspaceId, accountId])
    if (rows[0]) return { status: 200, body: toDocument(rows[0]) }
    if (faults.has('not-found-echoes-title')) {
      const other = await tx.query<{ title: string }>('SELECT title FROM documents WHERE id = $1', [params.documentId])
      if (other.rows[0]) throw notFound(`Document "${other.rows[0].title}" is not in this workspace.`)
    }
    throw notFound()
  })

  // The workspace filter of document writes; the seeded fault drops it (RLS still holds the account wall).
  const writeFilter = () => (faults.has('document-write-ignores-workspace') ? '' : ' AND workspace_id = $2')

  mount(app, deps, 'updateDocument', async (call) => {
    const input = patchText.parse(call.req.body)
    const raw = call.req.body as { workspaceId?: unknown }
    const moveTo = faults.has('document-patch-accepts-workspace') && typeof raw.workspaceId === 'string' ? raw.workspaceId : null
    const { rows } = await call.tx.query(
      `UPDATE documents SET title = COALESCE($4, title), body = COALESCE($5, body), workspace_id = COALESCE($6::uuid, workspace_id), updated_at = now()
        WHERE id = $1 AND account_id = $3 AND ($2::uuid IS NOT NULL${writeFilter()}) RETURNING ${SQL_FIELDS.documents}`,
      [call.params.documentId, call.workspaceId, user(call).accountId, input.title ?? null, input.body ?? null, moveTo])
    if (!rows[0]) throw notFound()
    return { status: 200, body: toDocument(rows[0]) }
  })

  mount(app, deps, 'deleteDocument', async (call) => {
    const res = await call.tx.query(`DELETE FROM documents WHERE id = $1 AND account_id = $3 AND ($2::uuid IS NOT NULL${writeFilter()})`,
      [call.params.documentId, call.workspaceId, user(call).accountId])
    if (res.rowCount === 0) throw notFound()
    return { status: 204 }
  })

  // Notes are private to their author, admins included (x-tenancy owner: true); RLS holds the same
  // wall (migration 007). The fault drops the author filter and reads on the maintenance role, past RLS.
  const authorFilter = () => (faults.has('notes-readable-by-peers') ? '' : ' AND author_id = $3')
  const pastRls = async <T>(tx: Tx, read: () => Promise<T>): Promise<T> => {
    if (!faults.has('notes-readable-by-peers')) return read()
    await tx.query('SET LOCAL ROLE ta_maintenance')
    try {
      return await read()
    } finally {
      await tx.query('SET LOCAL ROLE ta_runtime')
    }
  }

  mount(app, deps, 'listNotes', async (call) => {
    const page = readPage(call.req)
    const params = [user(call).accountId, call.workspaceId, call.actor.id]
    const where = `account_id = $1 AND workspace_id = $2 AND ($3::uuid IS NOT NULL${authorFilter()})`
    return { status: 200, body: await pastRls(call.tx, () => listPage(call.tx, 'notes', SQL_FIELDS.notes, where, params, page, toNote)) }
  })

  mount(app, deps, 'createNote', async (call) => {
    const input = createText.parse(call.req.body)
    const { rows } = await call.tx.query(
      `INSERT INTO notes (account_id, workspace_id, author_id, title, body) VALUES ($1, $2, $3, $4, $5) RETURNING ${SQL_FIELDS.notes}`,
      [user(call).accountId, call.workspaceId, call.actor.id, input.title, input.body])
    return { status: 201, body: toNote(rows[0]!) }
  })

  mount(app, deps, 'getNote', async (call) => {
    const { rows } = await pastRls(call.tx, () => call.tx.query(
      `SELECT ${SQL_FIELDS.notes} FROM notes WHERE id = $4 AND account_id = $1 AND workspace_id = $2 AND ($3::uuid IS NOT NULL${authorFilter()})`,
      [user(call).accountId, call.workspaceId, call.actor.id, call.params.noteId]))
    if (!rows[0]) throw notFound()
    return { status: 200, body: toNote(rows[0]) }
  })

  mount(app, deps, 'updateNote', async (call) => {
    const input = patchText.parse(call.req.body)
    const { rows } = await call.tx.query(
      `UPDATE notes SET title = COALESCE($5, title), body = COALESCE($6, body), updated_at = now()
        WHERE id = $4 AND account_id = $1 AND workspace_id = $2 AND author_id = $3 RETURNING ${SQL_FIELDS.notes}`,
      [user(call).accountId, call.workspaceId, call.actor.id, call.params.noteId, input.title ?? null, input.body ?? null])
    if (!rows[0]) throw notFound()
    return { status: 200, body: toNote(rows[0]) }
  })

  mount(app, deps, 'deleteNote', async (call) => {
    const res = await call.tx.query('DELETE FROM notes WHERE id = $4 AND account_id = $1 AND workspace_id = $2 AND author_id = $3',
      [user(call).accountId, call.workspaceId, call.actor.id, call.params.noteId])
    if (res.rowCount === 0) throw notFound()
    return { status: 204 }
  })
}
