import { faker } from '@faker-js/faker'
import type { JsonSchema, TargetContract } from '../core/contract.js'

/** Values the harness means to send, by the field names a contract is likely to use. */
export interface BodyHints {
  email?: string
  password?: string
  role?: string
  accountRole?: string
  platformRole?: string
  environment?: string
  /** Put into every free-text string field, so any echo of it is recognisable. */
  canary?: string
  /** A readable prefix for names and titles. */
  label?: string
}

const HINTS: [RegExp, keyof BodyHints][] = [
  [/^e-?mail$|^username$/i, 'email'],
  [/^password$/i, 'password'],
  [/^account_?role$/i, 'accountRole'],
  [/^platform_?role$/i, 'platformRole'],
  [/^role$/i, 'role'],
  [/^environment$/i, 'environment'],
]

function hintFor(name: string, hints: BodyHints): string | undefined {
  for (const [re, key] of HINTS) if (re.test(name)) return hints[key]
  return undefined
}

function text(schema: JsonSchema, hints: BodyHints, name: string): string {
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : 200
  const min = typeof schema.minLength === 'number' ? schema.minLength : 1
  // Realistic content (faker, seeded by the run) around the canary, so a leak looks like real data.
  const words = name === 'name' || name === 'title' ? faker.commerce.productName() : faker.lorem.sentence({ min: 4, max: 10 })
  let s = [hints.label ?? 'tenant-audit', words, hints.canary].filter(Boolean).join(' ')
  if (s.length > max) s = (hints.canary ?? s).slice(0, max)
  while (s.length < min) s += 'x'
  return s
}

/** Seeds the generated content: the same run seed gives the same bodies. */
export function seedBodies(seed: number): void {
  faker.seed(seed)
}

/**
 * Builds a request body from an operation's JSON Schema: every required property, plus the optional
 * ones the harness has a value for (role, accountRole, …). Enums take the hinted value when it is a
 * member, else their first member; free text carries the canary. No field the harness does not
 * understand is invented.
 */
export function bodyFromSchema(contract: TargetContract, schema: unknown, hints: BodyHints, name = 'value'): unknown {
  const s = contract.resolve(schema)
  const variants = (s.oneOf ?? s.anyOf) as unknown[] | undefined
  if (variants?.length) return bodyFromSchema(contract, variants[0], hints, name)
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type
  const hinted = hintFor(name, hints)
  if (Array.isArray(s.enum)) return hinted !== undefined && s.enum.includes(hinted) ? hinted : s.enum.find((v) => v !== null)
  if (s.const !== undefined) return s.const
  if (type === 'object' || s.properties) {
    const props = (s.properties ?? {}) as Record<string, unknown>
    const required = new Set((s.required as string[] | undefined) ?? [])
    const out: Record<string, unknown> = {}
    for (const [key, sub] of Object.entries(props)) {
      if (required.has(key) || hintFor(key, hints) !== undefined) {
        const v = bodyFromSchema(contract, sub, hints, key)
        if (v !== undefined) out[key] = v
      }
    }
    return out
  }
  if (type === 'string') {
    if (hinted !== undefined) return hinted
    if (s.format === 'email') return hints.email ?? `${hints.canary ?? 'x'}@tenant-audit.test`
    return text(s, hints, name)
  }
  if (type === 'integer' || type === 'number') return typeof s.minimum === 'number' ? s.minimum : 1
  if (type === 'boolean') return false
  if (type === 'array') return []
  return hinted
}
