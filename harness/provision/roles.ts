import type { JsonSchema, TargetContract } from '../core/contract.js'
import { hintKeyFor } from './body-hints.js'

/**
 * The enum of a request body's role field (`role`, `accountRole`, `platformRole`), so the
 * vocabulary can send the deployment's own spelling of a policy role (`Vocabulary.roleValue`).
 */
export function roleChoices(contract: TargetContract, schema: unknown, field: 'role' | 'accountRole' | 'platformRole'): unknown[] | undefined {
  if (!schema) return undefined
  const s: JsonSchema = contract.resolve(schema)
  const variants = (s.oneOf ?? s.anyOf) as unknown[] | undefined
  const props = (variants?.length ? contract.resolve(variants[0]) : s).properties as Record<string, unknown> | undefined
  for (const [key, sub] of Object.entries(props ?? {})) {
    if (hintKeyFor(key) !== field) continue
    const def = contract.resolve(sub)
    // A `const` is an enum of one (the reference's `accountRole: {const: admin}`).
    const values = def.enum ?? (def.const !== undefined ? [def.const] : undefined)
    return Array.isArray(values) ? values : undefined
  }
  return undefined
}
