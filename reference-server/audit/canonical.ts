import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'

// canonicalize is CommonJS whose typings claim an ES default export; load it as what it is.
const canonicalizeJson = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined

/** RFC 8785 (JCS) canonical JSON of a value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalizeJson(value)
  if (text === undefined) throw new Error('value has no canonical JSON form')
  return text
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** The hash of an event: SHA-256 over the canonical JSON of every field except `hash`. */
export function eventHash(event: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = event
  return sha256Hex(canonicalJson(rest))
}
