/**
 * Redaction of credentials from recorded evidence. Tokens and passwords must
 * never reach a report or a log (DESIGN §6), so this runs when evidence is
 * recorded, and createSecretScrubber runs again on every report before writing.
 * Redaction markers keep the field visible (`"password":"<redacted>"`) so the
 * evidence still reads as the request that was sent.
 */

/** Header input as it comes from Node, undici or a plain object. */
export type HeaderInput =
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | Iterable<readonly [string, string]>

const REDACTED = '<redacted>'
/** A JWT (also alg=none, whose signature segment is empty). */
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g
// Field/param names that carry credentials: password, access_token, clientSecret, apiKey, …
const SENSITIVE_NAME = /(?:password|passwd|secret|token|api[_-]?key)$/i
const SENSITIVE_HEADER = /token|secret|password|api-key|apikey|cookie|authorization/i
// Headers whose value is a URL: a token may ride in its query.
const URL_HEADERS = new Set(['location', 'content-location', 'referer', 'link'])

/** True for a JSON field, form field or query parameter name that carries a credential. */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name)
}

/**
 * Replaces every JWT-looking substring (`eyJ….….…`).
 * @param replacement - default `<redacted-jwt>`; pass a markup-inert one for rendered output
 */
export function redactJwts(text: string, replacement = '<redacted-jwt>'): string {
  return text.replace(JWT, replacement)
}

function redactHeaderValue(name: string, value: string): string {
  const lower = name.toLowerCase()
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    // Keep the scheme: "Basic" vs "Bearer" is part of what the request tested.
    const scheme = /^\s*(\S+)\s+\S/.exec(value)?.[1]
    return scheme === undefined ? REDACTED : `${scheme} ${REDACTED}`
  }
  if (lower === 'cookie') {
    return value.split(';').map((pair) => pair.replace(/=.*$/s, `=${REDACTED}`)).join(';')
  }
  if (lower === 'set-cookie') {
    // Only the first pair is the cookie; the rest (Path, HttpOnly, SameSite) are evidence worth keeping.
    return value.replace(/^([^=;]*)=[^;]*/, `$1=${REDACTED}`)
  }
  if (SENSITIVE_HEADER.test(lower)) return REDACTED
  if (URL_HEADERS.has(lower)) return redactUrl(value)
  return redactText(value)
}

function headerEntries(headers: HeaderInput): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const isIterable = typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
  const entries = isIterable
    ? [...(headers as Iterable<readonly [string, string]>)]
    : Object.entries(headers as Record<string, string | readonly string[] | number | undefined>)
  for (const [name, value] of entries) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value as readonly string[]) out.push([name, String(v)])
    else out.push([name, String(value)])
  }
  return out
}

/**
 * Redacts credentials in headers: Authorization (scheme kept), Cookie and
 * Set-Cookie values (names kept), X-Api-Key and any header named like
 * token/secret/password/api-key; JWTs anywhere else. Repeated headers are joined with `, `.
 */
export function redactHeaders(headers: HeaderInput): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of headerEntries(headers)) {
    const redacted = redactHeaderValue(name, value)
    const prev = out[name]
    out[name] = prev === undefined ? redacted : `${prev}, ${redacted}`
  }
  return out
}

/**
 * Redacts free text: JWTs and `Bearer <credential>` pairs. Used for header
 * values and inside {@link redactBody}.
 */
export function redactText(text: string): string {
  // 8+ chars so `Bearer error="invalid_token"` (a WWW-Authenticate challenge) survives.
  return redactJwts(text).replace(/\bBearer\s+(?!error\b)[A-Za-z0-9._~+/-]{8,}=*/g, `Bearer ${REDACTED}`)
}

/**
 * Redacts a body whatever its format: JSON fields (also JSON escaped inside a
 * string, as in an error message echoing the request), form-urlencoded pairs,
 * JWTs and bearer credentials. Formatting is preserved: this is regex-based
 * on purpose, so truncated or invalid JSON is redacted too.
 */
export function redactBody(text: string): string {
  let out = redactText(text)
  // "name": "value" | number | true | false
  out = out.replace(
    /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false)/g,
    (whole, name: string, sep: string) => (isSensitiveName(name) ? `"${name}"${sep}"${REDACTED}"` : whole),
  )
  // \"name\":\"value\" — JSON serialised inside a JSON string.
  out = out.replace(/\\"([A-Za-z0-9_-]+)\\"(\s*:\s*)\\"((?:(?!\\").)*)\\"/g, (whole, name: string, sep: string) =>
    isSensitiveName(name) ? `\\"${name}\\"${sep}\\"${REDACTED}\\"` : whole,
  )
  return redactPairs(out)
}

// name=value pairs of form bodies and query strings, wherever they appear. The
// value stops at `"` (always %22 when encoded) so a URL inside a JSON string ends
// at its closing quote, but not at `'`, which encodeURIComponent leaves as is.
function redactPairs(text: string): string {
  return text.replace(/(^|[?&;\s])([^=&?#;\s"']+)=([^&#;\s"]*)/g, (whole, lead: string, rawName: string) => {
    let name = rawName
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '))
    } catch {
      // Malformed escapes: judge the raw name.
    }
    return isSensitiveName(name) ? `${lead}${rawName}=${REDACTED}` : whole
  })
}

/**
 * Redacts a URL (absolute, relative or a path template) without re-encoding it:
 * credential query parameters, userinfo passwords and JWTs in the path.
 */
export function redactUrl(url: string): string {
  const withoutUserinfo = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@?#]*):[^/@?#]*@/i, `$1:${REDACTED}@`)
  return redactPairs(redactJwts(withoutUserinfo))
}

/**
 * Last line of defence: a function that replaces every occurrence of the given
 * secret values (and their JSON-, doubly JSON-, URL- and HTML-escaped forms) in a string.
 * Secrets shorter than 4 characters are ignored: scrubbing `ab` would shred the report.
 * @param replacement - must be inert in JSON, XML, HTML and Markdown, hence no angle brackets
 */
export function createSecretScrubber(secrets: readonly string[], replacement = '[redacted]'): (text: string) => string {
  const json = (s: string): string => JSON.stringify(s).slice(1, -1)
  const forms = new Set<string>()
  for (const secret of secrets) {
    if (secret.length < 4) continue
    const encoded = [secret, json(secret), encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')]
    // JSON inside JSON (a response body inside findings.json or SARIF) escapes twice.
    for (const form of [...encoded, ...encoded.map(json)]) {
      forms.add(form)
      forms.add(escapeMarkup(form, '&#39;'))
      forms.add(escapeMarkup(form, '&apos;'))
    }
  }
  if (forms.size === 0) return (text) => text
  // Longest first, so a secret containing another is replaced whole.
  const alternation = [...forms]
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|')
  const pattern = new RegExp(alternation, 'g')
  return (text) => text.replace(pattern, replacement)
}

function escapeMarkup(text: string, apos: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, apos)
}
