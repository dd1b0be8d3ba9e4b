/**
 * Strict reading of a JWS header or payload segment (RFC 8725 §3.7, RFC 7515 §4, RFC 7519 §4): UTF-8
 * only (no BOM, no invalid sequences), a JSON object, and no member name twice at any depth. jose
 * decodes with a lenient TextDecoder (a BOM is dropped) and JSON.parse (the last duplicate wins), so
 * two readers of one token — a gateway and this server, or an audit log — could see different claims.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The segment's JSON object, or undefined when it is not strict UTF-8 JSON with unique member names. */
export function strictSegment(segment: string): Record<string, unknown> | undefined {
  let text: string
  try {
    text = UTF8.decode(Buffer.from(segment, 'base64url'))
  } catch {
    return undefined
  }
  // ignoreBOM keeps a BOM in the text, so it fails here instead of vanishing.
  if (!text.startsWith('{')) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  return hasDuplicateMembers(text) ? undefined : (value as Record<string, unknown>)
}

/**
 * Whether any object in (already valid) JSON text names a member twice, comparing names after
 * unescaping (`"a"` and `"\u0061"` are the same name).
 */
export function hasDuplicateMembers(text: string): boolean {
  const stack: (Set<string> | null)[] = [] // null: an array
  let expectName = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      const top = stack.at(-1)
      if (expectName && top) {
        const name = JSON.parse(text.slice(i, j + 1)) as string
        if (top.has(name)) return true
        top.add(name)
        expectName = false
      }
      i = j
    } else if (c === '{') {
      stack.push(new Set())
      expectName = true
    } else if (c === '[') {
      stack.push(null)
      expectName = false
    } else if (c === '}' || c === ']') {
      stack.pop()
      expectName = false
    } else if (c === ',') {
      expectName = stack.at(-1) instanceof Set
    }
  }
  return false
}

/**
 * The first occurrence of each top-level string or array member, as a naive regex-based reader would
 * see it. Used only by the `duplicate-claims-first-wins` fault.
 */
export function firstMembers(text: string, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of names) {
    const m = new RegExp(`"${name}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|\\[[^\\]]*\\])`).exec(text)
    if (m) out[name] = JSON.parse(m[1]!)
  }
  return out
}
