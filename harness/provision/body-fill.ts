// The English locale's entry alone (the same `new Faker({ locale: [en, base] })`): the package root loads every
// locale, ~130 ms of each process that loads the harness (every audit's Vitest worker).
import { faker } from '@faker-js/faker/locale/en'
import type { JsonSchema } from '../core/contract.js'
import { schemaProblem } from './body-validator.js'
import { hintKeyFor, type BodyHints } from './body-hints.js'
import type { SchemaBundle } from './schema-bundle.js'

/** How one generation attempt uses the hints. */
export interface Fill {
  /** Make the optional properties a hint names required (only where the schema accepts the hinted value). */
  force: boolean
  /** Put hints and canaries into the generated values. */
  substitute: boolean
}

/** Hints tried by enum membership on a field whose name means none (a `level` enum of role names). */
const BY_ENUM: (keyof BodyHints)[] = ['role', 'platformRole', 'environment']

/** Whether `value` satisfies one part of the bundled schema (its `$ref`s resolved through the bundle). */
function accepts(bundle: SchemaBundle, schema: unknown, value: unknown): boolean {
  if (typeof schema === 'boolean') return schema
  const own = schema as JsonSchema
  // The definitions only when the part refers to them: they would make every cache key the whole bundle.
  return schemaProblem(JSON.stringify(own).includes('"$ref"') ? { ...own, ...bundle.defs } : own, value) === undefined
}

/** A part of the bundle with its `$ref` (through the bundle's definitions) followed. */
function deref(bundle: SchemaBundle, schema: unknown, depth = 0): JsonSchema {
  const ref = (schema as JsonSchema | undefined)?.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#/') || depth > 20) return (schema && typeof schema === 'object' ? schema : {}) as JsonSchema
  let node: unknown = bundle.defs
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  return deref(bundle, node, depth + 1)
}

function isFreeText(s: JsonSchema): boolean {
  const type = Array.isArray(s.type) ? s.type : [s.type]
  return type.includes('string') && s.format === undefined && s.pattern === undefined && s.enum === undefined && s.const === undefined
}

/** Longest free text the generator writes where it is substituted (text() stays far below it). */
const GENERATED_TEXT_MAX = 1000

/**
 * The schema handed to the generator: a copy of the bundle in which every object schema requires,
 * beyond its own `required`, the properties a hint names (when `force`) and, up to its
 * `minProperties`, further declared ones (free text first, so the canary has somewhere to go),
 * instead of letting the generator invent property names, and free text at most
 * GENERATED_TEXT_MAX long (it is substituted). The body is validated against the original schema, never this one.
 */
export function prepare(bundle: SchemaBundle, hints: BodyHints, fill: Fill): JsonSchema {
  const root = structuredClone(bundle.root)
  if (!fill.substitute) return root
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (!node || typeof node !== 'object') return
    const n = node as JsonSchema
    // Free text is replaced by label, words and canary (substitute): the generator need not first
    // spend up to a second writing a 100,000-character string nobody sends.
    if (isFreeText(n) && typeof n.maxLength === 'number' && n.maxLength > GENERATED_TEXT_MAX) {
      n.maxLength = Math.max(GENERATED_TEXT_MAX, typeof n.minLength === 'number' ? n.minLength : 0)
    }
    const props = n.properties as Record<string, unknown> | undefined
    if (props && typeof props === 'object' && !Array.isArray(props)) {
      const required = new Set(Array.isArray(n.required) ? (n.required as string[]) : [])
      for (const [key, sub] of Object.entries(props)) {
        const hint = hintKeyFor(key)
        const value = hint ? hints[hint] : undefined
        if (fill.force && value !== undefined && accepts(bundle, sub, value)) required.add(key)
      }
      const min = typeof n.minProperties === 'number' ? n.minProperties : 0
      if (required.size < min) {
        const optional = Object.keys(props).filter((k) => !required.has(k) && deref(bundle, props[k]).readOnly !== true)
        const ordered = [...optional.filter((k) => isFreeText(deref(bundle, props[k]))), ...optional.filter((k) => !isFreeText(deref(bundle, props[k])))]
        for (const k of ordered.slice(0, min - required.size)) required.add(k)
      }
      if (required.size > 0) n.required = [...required]
    }
    Object.values(n).forEach(visit)
  }
  visit(root)
  return root
}

/**
 * One generated value as the harness sends it (json-schema-faker's `outputTransform`, called for
 * every value with its resolved schema and output pointer): a field named after a hint takes that
 * hint and only that one; an enum takes a role or environment hint it contains, else a fixed member;
 * email and password formats take theirs; free text carries label, readable words and canary. Each
 * replacement must satisfy the field's schema, else the generated value stays.
 */
export function substitute(bundle: SchemaBundle, hints: BodyHints, name: string, value: unknown, s: JsonSchema, path: string): unknown {
  const segment = path.split('/').at(-1) ?? ''
  const key = path === '' || path === '/' ? name : segment.replace(/~1/g, '/').replace(/~0/g, '~')
  // Array items keep the generator's values: identical canaries would break uniqueItems.
  if (path !== '' && /^\d+$/.test(key)) return value
  const ok = (v: unknown) => v !== undefined && accepts(bundle, s, v)
  const pick = (v: string | undefined) => (ok(v) ? v : value)
  // Whatever the generator chose, null included: a nullable `accountRole` must still carry its hint.
  const named = hintKeyFor(key)
  if (named && ok(hints[named])) return hints[named]
  if (Array.isArray(s.enum)) {
    // Enums never take a random member: bodies built with different hints must differ only where the
    // hints do (members.ts finds the role field that way). A field named after a hint the caller did
    // not give is null when it may be (no account role), else the first member; any other enum takes
    // a role or environment hint it contains, else its first member.
    const members = s.enum as unknown[]
    const hinted = named ? undefined : BY_ENUM.map((k) => hints[k]).find((h) => h !== undefined && members.includes(h))
    // (null is taken on the enum's word: the generator hands over the schema narrowed to the type it chose.)
    if (hinted === undefined && named && members.includes(null)) return null
    return [hinted, ...members.filter((m) => m !== null)].find(ok) ?? value
  }
  if (named || typeof value !== 'string') return value
  if (s.format === 'email') return pick(hints.email)
  if (s.format === 'password' || s.writeOnly === true) return pick(hints.password)
  if (!isFreeText(s)) return value
  return pick(text(s, hints, key))
}

/** Seeds the readable words of one generation attempt (once: seeding faker costs more than a body's words). */
export function seedWords(seed: number): void {
  faker.seed(seed)
}

/** Readable text around the canary, within the field's length bounds; the canary is what survives truncation. */
function text(s: JsonSchema, hints: BodyHints, key: string): string {
  const max = typeof s.maxLength === 'number' ? s.maxLength : 200
  const min = typeof s.minLength === 'number' ? s.minLength : 0
  const words = /name|title|label|subject/i.test(key) ? faker.commerce.productName() : faker.lorem.sentence({ min: 4, max: 10 })
  const label = hints.label ?? 'tenant-audit'
  const candidates = [[label, words, hints.canary], [label, hints.canary], [hints.canary ?? label]].map((parts) => parts.filter(Boolean).join(' '))
  let out = candidates.find((c) => c.length <= max) ?? candidates.at(-1)!.slice(0, max)
  while (out.length < min) out += 'x'
  return out
}
