import { z } from 'zod'
import type { Tx } from '../store/db.js'
import { hashPassword, type ScryptCost } from '../auth/passwords.js'
import { HttpError } from './problem.js'
import { SQL_FIELDS, toUser } from '../store/rows.js'

export const email = z.string().trim().toLowerCase().pipe(z.email().max(254))
export const password = z.string().min(12).max(256)
export const workspaceRole = z.enum(['viewer', 'editor', 'admin'])
export const createUserBody = z.object({ email, password, role: workspaceRole, accountRole: z.literal('admin').nullish() })

/** Creates a user in one workspace (Dashboard and Portal share this); a taken email is 409. */
export async function insertUser(tx: Tx, accountId: string, workspaceId: string, input: z.infer<typeof createUserBody>, cost: ScryptCost) {
  const hash = await hashPassword(input.password, cost)
  const taken = await tx.query('SELECT 1 FROM users WHERE email = $1', [input.email])
  if (taken.rowCount > 0) throw new HttpError(409, 'conflict', 'A user with this email exists.')
  const { rows } = await tx.query(
    `INSERT INTO users (account_id, workspace_id, email, password_hash, role, account_role)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING ${SQL_FIELDS.users}`,
    [accountId, workspaceId, input.email, hash, input.role, input.accountRole ?? null])
  if (!rows[0]) throw new HttpError(409, 'conflict', 'A user with this email exists.')
  return toUser(rows[0])
}
