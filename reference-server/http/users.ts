import { z } from 'zod'
import type { Tx } from '../store/db.js'
import type { FaultSet } from '../faults/index.js'
import { hashPassword, type ScryptCost } from '../auth/passwords.js'
import type { Call, HashedAhead } from './types.js'
import { HttpError } from './problem.js'
import { SQL_FIELDS, toUser } from '../store/rows.js'

export const email = z.string().trim().toLowerCase().pipe(z.email().max(254))
export const password = z.string().min(12).max(256)
export const workspaceRole = z.enum(['viewer', 'editor', 'admin'])
export const createUserBody = z.object({ email, password, role: workspaceRole, accountRole: z.literal('admin').nullish() })

const taken = () => new HttpError(409, 'conflict', 'A user with this email exists.')

/**
 * Creates a user in one workspace (Dashboard and Portal share this). E-mails are unique per account
 * (migration 006): another account's user with the same address is no clash, so the answer cannot
 * tell a tenant who is a user elsewhere. A platform principal's address is refused with the same 409
 * as a clash in the account, so the password grant never has to choose between the two (issue 13
 * defects 6 and 7; the answer does tell an account admin that some principal or user holds it).
 */
export async function insertUser(tx: Tx, accountId: string, workspaceId: string, input: z.infer<typeof createUserBody>, faults: FaultSet, hash: string) {
  if (faults.has('user-email-unique-across-accounts')) {
    // The bug: the address is looked up in every account (through the login's view of users), as the old
    // platform-wide UNIQUE (email) did, so a 409 says "a user of some tenant".
    await tx.query("SELECT set_config('app.login_email', $1, true)", [input.email])
    const anywhere = await tx.query('SELECT 1 FROM users WHERE email = $1', [input.email])
    await tx.query("SELECT set_config('app.login_email', '', true)")
    if (anywhere.rowCount > 0) throw taken()
  }
  const mine = await tx.query('SELECT 1 FROM users WHERE account_id = $1 AND email = $2', [accountId, input.email])
  if (mine.rowCount > 0) throw taken()
  if (!faults.has('user-takes-principal-email')) { // the bug: a tenant user may take a principal's address
    const principal = await tx.query<{ exists: boolean }>('SELECT principal_email_exists($1) AS exists', [input.email])
    if (principal.rows[0]?.exists) throw taken()
  }
  const { rows } = await tx.query(
    `INSERT INTO users (account_id, workspace_id, email, password_hash, role, account_role)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, email) DO NOTHING RETURNING ${SQL_FIELDS.users}`,
    [accountId, workspaceId, input.email, hash, input.role, input.accountRole ?? null])
  if (!rows[0]) throw taken()
  return toUser(rows[0])
}

/**
 * The body's password hashed before the request's transaction (route.ts `mount`'s `password` option), or
 * undefined when the body holds no password this operation would take (then nothing is hashed: the
 * handler answers the body's fault after authorization, as it would have).
 */
export async function hashAhead(body: unknown, cost: ScryptCost): Promise<HashedAhead | undefined> {
  const given = (body as { password?: unknown } | null | undefined)?.password
  if (typeof given !== 'string' || !password.safeParse(given).success) return undefined
  return { password: given, hash: await hashPassword(given, cost) }
}

/** The stored hash of `plain`: the one made before the transaction when it was made of this password, else made now. */
export function passwordHash(call: Pick<Call, 'hashedAhead' | 'deps'>, plain: string): Promise<string> {
  return call.hashedAhead?.password === plain ? Promise.resolve(call.hashedAhead.hash) : hashPassword(plain, call.deps.settings.passwordCost)
}
