import { PGlite, parse, protocol } from '@electric-sql/pglite'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bind, concat, DESCRIBE_PORTAL, EXECUTE, lastResult, SYNC } from './pglite-wire.js'

const { serialize } = protocol

/** One unnamed statement as the request path sends it: Parse, Bind (text values), Describe portal, Execute. */
const statement = (sql: string, values: (string | null)[] = []) => [serialize.parse({ text: sql }), bind('', values), DESCRIBE_PORTAL, EXECUTE]

describe('the request path\'s wire format (PGlite)', () => {
  let db: PGlite
  beforeAll(async () => {
    db = await PGlite.create()
    await db.exec(`CREATE TABLE t (id int PRIMARY KEY, name text, doc jsonb, at timestamptz, ok boolean, big bigint, tags text[], CONSTRAINT name_not_x CHECK (name <> 'x'))`)
  }, 120_000)
  afterAll(async () => db?.close())

  /** PGlite's own reading of the same answer: the last result of parseResults over its messages, and its raw bytes. */
  async function both(parts: Uint8Array[]) {
    const { messages, data } = await db.execProtocol(concat([...parts, SYNC]), { throwOnError: false })
    const theirs = parse.parseResults(messages, db.parsers)
    const last = theirs[theirs.length - 1]!
    return { data, theirs: { rows: last.rows, rowCount: Math.max(last.affectedRows ?? 0, last.rows.length) }, messages }
  }

  it('writes the same Bind bytes as PGlite\'s serializer, for any text values and nulls', () => {
    fc.assert(fc.property(fc.string({ maxLength: 8 }), fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null }), { maxLength: 6 }), (name, values) => {
      expect(bind(name, values)).toEqual(serialize.bind({ statement: name, values }))
    }))
    expect(DESCRIBE_PORTAL).toEqual(serialize.describe({ type: 'P' }))
    expect(EXECUTE).toEqual(serialize.execute({}))
    expect(SYNC).toEqual(serialize.sync())
  })

  it('reads rows, types, nulls and row counts as PGlite does', async () => {
    const cases: [string, (string | null)[]][] = [
      ['INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *', ['1', 'ünï "code" ✓', '{"a":[1,2],"b":null}', '2026-12-07T10:00:00Z', 'true', '9007199254740993', '{x,y}']],
      ['INSERT INTO t (id, name) VALUES ($1, $2), ($3, $4)', ['2', 'two', '3', null]],
      ['SELECT * FROM t ORDER BY id', []],
      ['SELECT id, name AS "Ä b" FROM t WHERE id = $1', ['3']],
      ['UPDATE t SET ok = false WHERE id > $1', ['0']],
      ['SELECT count(*) AS n, sum(id)::numeric AS s FROM t', []],
      ['DELETE FROM t WHERE id = $1 RETURNING id', ['2']],
      ['SELECT * FROM t WHERE id = $1', ['42']],
    ]
    for (const [sql, values] of cases) {
      const { data, theirs } = await both(statement(sql, values))
      expect(lastResult(data, db.parsers), sql).toEqual(theirs)
    }
  })

  it('reads the last statement of a batch whose earlier statements return rows too', async () => {
    const { data, theirs } = await both([...statement("SELECT set_config('app.x', $1, false)", ['v']), ...statement('SELECT id FROM t ORDER BY id', [])])
    expect(lastResult(data, db.parsers)).toEqual(theirs)
    expect(lastResult<{ id: number }>(data, db.parsers).rows.map((r) => r.id)).toEqual([1, 3])
  })

  it('throws the first error as PGlite\'s DatabaseError, with its fields', async () => {
    for (const parts of [
      statement('INSERT INTO t (id, name) VALUES ($1, $2)', ['1', 'dup']),
      statement('INSERT INTO t (id, name) VALUES ($1, $2)', ['9', 'x']),
      statement('SELECT $1::uuid', ['not-a-uuid']),
      [...statement('SELECT nope FROM t'), ...statement('SELECT 1 AS one')],
    ]) {
      const { data, messages } = await both(parts)
      const theirs = messages.find((m) => m instanceof protocol.messages.DatabaseError)!
      expect(theirs).toBeDefined()
      let mine: unknown
      try {
        lastResult(data, db.parsers)
      } catch (err) {
        mine = err
      }
      expect(mine).toBeInstanceOf(protocol.messages.DatabaseError)
      expect({ ...(mine as object), message: (mine as Error).message }).toEqual({ ...theirs, message: theirs.message })
    }
  })
})
