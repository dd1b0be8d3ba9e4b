/**
 * Turning a raw HTTP exchange into {@link Evidence}: redact first, then truncate,
 * in that order, so a credential cut in half by truncation cannot escape the
 * patterns that recognise it.
 */
import type { Evidence } from './finding.js'
import { redactBody, redactHeaders, redactUrl } from './redact.js'
import type { HeaderInput } from './redact.js'

/** Evidence bodies are capped at 4 KiB of UTF-8: enough to show a leak, small enough for a PR. */
export const MAX_EVIDENCE_BODY_BYTES = 4096

/** A raw exchange as an adapter saw it, before redaction. */
export interface RawExchange {
  request: { method: string; url: string; headers: HeaderInput; body?: string | undefined }
  response: { status: number; headers: HeaderInput; body?: string | undefined }
}

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 (never splitting a character) and
 * says how much was dropped, so a reader knows the evidence is partial.
 */
export function truncateBody(text: string, maxBytes = MAX_EVIDENCE_BODY_BYTES): string {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= maxBytes) return text
  let end = maxBytes
  // Back off over UTF-8 continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  const kept = bytes.subarray(0, end).toString('utf8')
  return `${kept}…[truncated ${bytes.length - end} bytes]`
}

function cleanBody(body: string | undefined): string | undefined {
  return body === undefined ? undefined : truncateBody(redactBody(body))
}

/** Redacts and truncates an exchange into evidence safe to put in a report. */
export function recordEvidence(raw: RawExchange): Evidence {
  return {
    request: {
      method: raw.request.method.toUpperCase(),
      url: redactUrl(raw.request.url),
      headers: redactHeaders(raw.request.headers),
      body: cleanBody(raw.request.body),
    },
    response: {
      status: raw.response.status,
      headers: redactHeaders(raw.response.headers),
      body: cleanBody(raw.response.body),
    },
  }
}
