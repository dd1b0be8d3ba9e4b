import { protocol } from '@electric-sql/pglite'

/**
 * The request path's own wire format for PGlite (issue 11): Bind messages written straight into one
 * buffer, and the answer read straight from PGlite's raw output. PGlite's `execProtocol` runs every
 * byte of the answer through its general protocol parser into message objects (and copies it twice)
 * before `parseResults` turns them into rows: ~13 % of the embedded server's CPU in an audit. This
 * reads only what a request needs: the rows and command tag of the batch's last statement, and the
 * first error, raised as PGlite's own `DatabaseError` with the same fields.
 */

const ENC = new TextEncoder()

/** Protocol messages (or answer pieces) as one buffer. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Describe (portal, unnamed), Execute (unnamed portal, all rows) and Sync: the same bytes every time. */
export const DESCRIBE_PORTAL = Uint8Array.of(0x44, 0, 0, 0, 6, 0x50, 0)
export const EXECUTE = Uint8Array.of(0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0)
export const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4)

/**
 * Bind of the unnamed portal to statement `name` ('' for the unnamed one), every parameter in text
 * format (null as SQL NULL), every result column in text format: byte for byte what PGlite's
 * serializer writes (a format code per parameter).
 */
export function bind(name: string, values: readonly (string | null)[]): Uint8Array {
  const nameBytes = ENC.encode(name)
  const encoded = values.map((v) => (v === null ? null : ENC.encode(v)))
  // 'B', length, portal "" (1), name + NUL, format count and one text format (0) per value, value count, values, 0 result formats.
  const length = 4 + 1 + nameBytes.length + 1 + 2 + 2 * encoded.length + 2 + encoded.reduce((n, v) => n + 4 + (v ? v.length : 0), 0) + 2
  const out = new Uint8Array(1 + length)
  const view = new DataView(out.buffer)
  out[0] = 0x42
  view.setInt32(1, length)
  let at = 6 // portal name: the empty string, its NUL already 0
  out.set(nameBytes, at)
  at += nameBytes.length + 1
  view.setInt16(at, encoded.length)
  at += 2 + 2 * encoded.length // the format codes: text (0), already 0
  view.setInt16(at, encoded.length)
  at += 2
  for (const v of encoded) {
    view.setInt32(at, v ? v.length : -1)
    at += 4
    if (v) {
      out.set(v, at)
      at += v.length
    }
  }
  view.setInt16(at, 0)
  return out
}

/** What a statement gave back: its rows (columns parsed by type, as PGlite's parsers do) and its row count. */
export interface WireResult<R> {
  rows: R[]
  rowCount: number
}

type Parsers = Record<number, ((value: string, typeId: number) => unknown) | undefined>

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'])

/**
 * Reads a batch's answer (backend messages, as PGlite wrote them): the result of its last statement
 * that completed, or the first ErrorResponse thrown as PGlite's `DatabaseError`. Row counts as the
 * request path always took them: the command tag's count for a write, else the rows returned.
 */
export function lastResult<R>(bytes: Uint8Array, parsers: Parsers): WireResult<R> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let fields: { name: string; type: number }[] = []
  let rows: Record<string, unknown>[] = []
  let last: WireResult<R> = { rows: [], rowCount: 0 }
  let at = 0
  while (at + 5 <= buf.length) {
    const type = buf[at]!
    const end = at + 1 + buf.readInt32BE(at + 1)
    let p = at + 5
    switch (type) {
      case 0x54: { // RowDescription
        const n = buf.readInt16BE(p)
        p += 2
        fields = []
        for (let i = 0; i < n; i++) {
          const nul = buf.indexOf(0, p)
          const name = buf.toString('utf8', p, nul)
          p = nul + 1
          fields.push({ name, type: buf.readInt32BE(p + 6) })
          p += 18
        }
        rows = []
        break
      }
      case 0x44: { // DataRow
        const n = buf.readInt16BE(p)
        p += 2
        const row: Record<string, unknown> = {}
        for (let i = 0; i < n; i++) {
          const len = buf.readInt32BE(p)
          p += 4
          const field = fields[i]!
          if (len < 0) row[field.name] = null
          else {
            const text = buf.toString('utf8', p, p + len)
            p += len
            const parse = parsers[field.type]
            row[field.name] = parse ? parse(text, field.type) : text
          }
        }
        rows.push(row)
        break
      }
      case 0x43: { // CommandComplete
        const tag = buf.toString('utf8', p, buf.indexOf(0, p)).split(' ')
        const count = Number.parseInt(tag[tag.length - 1]!, 10)
        const affected = COUNTED.has(tag[0]!) && !Number.isNaN(count) ? count : 0
        last = { rows: rows as R[], rowCount: Math.max(affected, rows.length) }
        fields = []
        rows = []
        break
      }
      case 0x45: // ErrorResponse: the first one is the batch's error (the server skipped the rest up to Sync)
        throw databaseError(buf, p, end, end - at - 1)
      default: // ParseComplete, BindComplete, CloseComplete, NoData, ReadyForQuery, notices: nothing to keep
        break
    }
    at = end
  }
  return last
}

/** PGlite's own error class and fields (its protocol parser sets the same ones). */
function databaseError(buf: Buffer, at: number, end: number, length: number): Error {
  const f: Record<string, string> = {}
  while (at < end && buf[at] !== 0) {
    const code = String.fromCharCode(buf[at]!)
    const nul = buf.indexOf(0, at + 1)
    f[code] = buf.toString('utf8', at + 1, nul)
    at = nul + 1
  }
  const err = new protocol.messages.DatabaseError(f.M ?? 'unknown database error', length, 'error') as InstanceType<typeof protocol.messages.DatabaseError>
  Object.assign(err, {
    severity: f.S, code: f.C, detail: f.D, hint: f.H, position: f.P, internalPosition: f.p, internalQuery: f.q, where: f.W,
    schema: f.s, table: f.t, column: f.c, dataType: f.d, constraint: f.n, file: f.F, line: f.L, routine: f.R,
  })
  return err
}
