import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { JsonSchema } from '../core/contract.js'

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the plugin.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020

/**
 * Draft 2020-12, every format ajv-formats knows; `strict: false` because deployments' schemas carry
 * OpenAPI keywords (`example`, `x-…`, `discriminator`) and formats nobody validates (`password`).
 */
const ajv = new Ajv2020({ strict: false, allErrors: false, logger: false })
addFormats(ajv)

const compiled = new Map<string, ValidateFunction | string>()

function validatorFor(schema: JsonSchema): ValidateFunction | string {
  const key = JSON.stringify(schema)
  let v = compiled.get(key)
  if (v === undefined) {
    try {
      // Compiled without registering: two schemas with the same `$id` must not collide.
      v = ajv.compile({ ...schema, $id: undefined })
    } catch (err) {
      v = `the schema does not compile: ${(err as Error).message}`
    }
    compiled.set(key, v)
  }
  return v
}

/** Why `value` does not satisfy `schema` (ajv's words), or undefined when it does. */
export function schemaProblem(schema: JsonSchema, value: unknown): string | undefined {
  const validate = validatorFor(schema)
  if (typeof validate === 'string') return validate
  if (validate(value)) return undefined
  return ajv.errorsText(validate.errors, { dataVar: 'body' })
}
