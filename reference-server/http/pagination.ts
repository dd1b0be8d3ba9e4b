import { z } from 'zod'
import type { Request } from 'express'
import type { Tx } from '../store/db.js'

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not a UUID')

/** `?limit=&cursor=`: keyset pagination on id; the cursor is the last id of the previous page. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: uuid.optional(),
})

export type PageQuery = z.infer<typeof pageQuery>

export function readPage(req: Request): PageQuery {
  return pageQuery.parse({ limit: req.query.limit, cursor: req.query.cursor })
}

/**
 * Runs `SELECT <fields> FROM <table> WHERE <where> [AND id > cursor] ORDER BY id LIMIT n+1` and
 * returns `{ items, nextCursor }`. `where` uses $1..$k for `params`; table and fields are constants.
 */
export async function listPage<T>(
  tx: Tx, table: string, fields: string, where: string, params: unknown[], page: PageQuery, map: (r: Record<string, unknown>) => T,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const args = [...params]
  let sql = `SELECT ${fields} FROM ${table} WHERE (${where})`
  if (page.cursor) {
    args.push(page.cursor)
    sql += ` AND id > $${args.length}`
  }
  args.push(page.limit + 1)
  sql += ` ORDER BY id LIMIT $${args.length}`
  const { rows } = await tx.query(sql, args)
  const more = rows.length > page.limit
  const items = rows.slice(0, page.limit)
  return { items: items.map(map), nextCursor: more ? String(items[items.length - 1]?.id) : null }
}
