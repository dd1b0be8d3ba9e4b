/**
 * Comparing two answers for what they reveal: two calls that differ only in an id (an existing
 * object and an unknown one) must be answered alike once what differs between any two answers —
 * the request's id, the problem's own URL, clocks, and the ids the caller itself sent — is set aside.
 */
// Keys whose values differ between any two answers, whatever they are about.
const VOLATILE = new Set(['requestId', 'request_id', 'traceId', 'instance', 'timestamp', 'time', 'date'])
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?/g

/** An answer with volatile fields and the ids of the path normalised away: what is left must not depend on existence. */
export function normalise(body: string, ids: string[]): string {
  let text = body.replace(TIME, '<time>')
  for (const id of ids) text = text.split(id).join('<id>')
  const strip = (v: unknown): unknown => Array.isArray(v) ? v.map(strip)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, strip(x)])) : v
  try { return JSON.stringify(strip(JSON.parse(text))) } catch { return text }
}

const cut = (s: string) => (s.length > 240 ? `${s.slice(0, 240)}…` : s)

/** The two answers side by side: only the fields that differ when both are JSON objects. */
export function difference(a: string, b: string): [string, string] {
  const parse = (s: string) => { try { return JSON.parse(s) as unknown } catch { return undefined } }
  const [x, y] = [parse(a), parse(b)]
  if (!x || !y || typeof x !== 'object' || typeof y !== 'object') return [cut(a), cut(b)]
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => JSON.stringify((x as never)[k]) !== JSON.stringify((y as never)[k]))
  const show = (o: object) => cut(keys.map((k) => `${k}: ${JSON.stringify((o as never)[k])}`).join(', '))
  return [show(x), show(y)]
}
