import type { JsonSchema, TargetContract } from '../core/contract.js'

const FIELDS: Record<'role' | 'accountRole' | 'platformRole', RegExp> = {
  role: /^role$/i,
  accountRole: /^account_?role$/i,
  platformRole: /^platform_?role$/i,
}

/**
 * The enum of a request body's role field (`role`, `accountRole`, `platformRole`), so the
 * vocabulary can send the deployment's own spelling of a policy role (`Vocabulary.roleValue`).
 */
export function roleChoices(contract: TargetContract, schema: unknown, field: keyof typeof FIELDS): unknown[] | undefined {
  if (!schema) return undefined
  const s: JsonSchema = contract.resolve(schema)
  const variants = (s.oneOf ?? s.anyOf) as unknown[] | undefined
  const props = (variants?.length ? contract.resolve(variants[0]) : s).properties as Record<string, unknown> | undefined
  for (const [key, sub] of Object.entries(props ?? {})) {
    if (!FIELDS[field].test(key)) continue
    const values = contract.resolve(sub).enum
    return Array.isArray(values) ? values : undefined
  }
  return undefined
}
