/**
 * Escaping for the markup formats. Every value interpolated into XML, HTML or
 * Markdown goes through one of these: report content is target-controlled
 * (response bodies, error messages) and must never become markup.
 */

// Characters XML 1.0 forbids outright, plus lone surrogates. They are shown as
// `\uXXXX` text rather than dropped, because a control byte in a response is evidence.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Replaces characters that are illegal in XML 1.0 (and unwelcome in HTML) with `\uXXXX` text. */
export function stripInvalidChars(text: string): string {
  return text.replace(INVALID_XML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Escapes text for an XML element body or attribute value. */
export function escapeXml(text: string): string {
  return stripInvalidChars(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/**
 * Escapes text for an XML attribute: as {@link escapeXml}, plus whitespace as
 * character references, since attribute-value normalisation would turn a raw
 * newline into a space.
 */
export function escapeXmlAttr(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')
}

/** Escapes text for HTML element bodies and quoted attribute values. */
export function escapeHtml(text: string): string {
  return stripInvalidChars(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/**
 * Escapes text for a GitHub-flavoured Markdown table cell: markdown punctuation,
 * HTML (GitHub renders inline tags, so `<redacted>` would vanish), the `|` cell
 * separator, and newlines (a cell is one line).
 */
export function escapeMarkdownCell(text: string): string {
  return stripInvalidChars(text)
    .replace(/[\\`*_[\]~#|]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n|\r/g, '<br>')
}

/**
 * JSON for humans (repro counterexamples): never throws on BigInt or cycles,
 * since the counterexample is arbitrary data from fast-check. Only true cycles
 * become `[Circular]`; an object shared by two fields (an actor that is also an
 * owner) is printed twice, as a reader expects.
 */
export function safeJson(value: unknown): string {
  const ancestors: unknown[] = []
  function replacer(this: unknown, _key: string, v: unknown): unknown {
    if (typeof v === 'bigint') return `${v.toString()}n`
    if (typeof v !== 'object' || v === null) return v
    // `this` is the holder: drop ancestors that are not on the path to it.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
    if (ancestors.includes(v)) return '[Circular]'
    ancestors.push(v)
    return v
  }
  try {
    return JSON.stringify(value, replacer, 2) ?? String(value)
  } catch {
    return String(value)
  }
}
