/**
 * Repro lines. A curl command is the lingua franca of a security report: the
 * reader pastes it, sets `$TOKEN` to a token of the named actor, and sees the
 * defect. The real credential never appears; `$TOKEN` does, in double quotes so the shell expands it.
 */
import type { RecordedRequest } from './finding.js'
import { redactBody, redactHeaders, redactUrl } from './redact.js'

// Set by curl itself, or meaningless on replay.
const DROPPED = new Set(['host', 'content-length', 'connection', 'accept-encoding', 'transfer-encoding'])

/**
 * Quotes one shell word. Single quotes when possible; ANSI-C `$'…'` when the
 * value holds control characters, so the command stays on one line.
 */
export function shellQuote(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f]/.test(value)) return `'${value.replace(/'/g, `'\\''`)}'`
  const escaped = value.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\') return '\\\\'
    if (c === "'") return "\\'"
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    if (c === '\t') return '\\t'
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
  })
  return `$'${escaped}'`
}

function credentialHeader(name: string, value: string): string | undefined {
  const lower = name.toLowerCase()
  if (lower === 'authorization') {
    const scheme = /^\s*(\S+)/.exec(value)?.[1] ?? 'Bearer'
    // Non-bearer schemes (Basic, DPoP) get their own placeholder: $TOKEN would mislead.
    return scheme.toLowerCase() === 'bearer'
      ? '-H "Authorization: Bearer $TOKEN"'
      : `-H "Authorization: ${scheme.replace(/[^A-Za-z0-9-]/g, '')} $CREDENTIALS"`
  }
  if (lower === 'cookie') return '-H "Cookie: $COOKIE"'
  return undefined
}

/**
 * One-line, shell-quoted curl command reproducing a recorded request, with
 * credentials replaced by shell variables and headers, URL and body redacted again
 * (idempotent) in case the caller passes an unredacted request.
 */
export function toCurl(request: RecordedRequest): string {
  const method = request.method.toUpperCase()
  const url = redactUrl(request.url)
  const parts = ['curl', '-sS', '-i']
  if (method === 'HEAD') parts.push('--head')
  else if (method !== 'GET' || request.body !== undefined) parts.push('-X', method)
  // Path templates and pollution payloads contain [] and {}: stop curl globbing them.
  if (/[[\]{}]/.test(url)) parts.push('--globoff')
  parts.push(shellQuote(url))
  for (const [name, value] of Object.entries(redactHeaders(request.headers))) {
    if (DROPPED.has(name.toLowerCase())) continue
    parts.push(credentialHeader(name, value) ?? `-H ${shellQuote(`${name}: ${value}`)}`)
  }
  if (request.body !== undefined) parts.push('--data-raw', shellQuote(redactBody(request.body)))
  return parts.join(' ')
}
