import type { JsonSchema, TargetContract } from '../core/contract.js'

/** An operation's schema made self-contained: `root` to generate and validate with, `defs` to hang beside any part of it. */
export interface SchemaBundle {
  root: JsonSchema
  /** The document nodes `root` reaches through local `$ref`s, by their top-level member (`components`, …). */
  defs: JsonSchema
}

/**
 * A copy of one operation's JSON Schema plus every document node it reaches through local `$ref`s
 * (`#/components/schemas/X`, transitively), placed at the same JSON Pointer beside it. The `$ref`s
 * stay as written, so ajv and json-schema-faker resolve them (cycles included) exactly as they would
 * inside the contract document, and nothing else of the document is carried along.
 */
export function bundleSchema(contract: TargetContract, schema: unknown): SchemaBundle {
  const own = structuredClone(contract.resolve(schema)) as JsonSchema
  const defs: JsonSchema = {}
  const placed = new Set<string>()
  const queue: unknown[] = [own]
  while (queue.length > 0) {
    for (const ref of refsIn(queue.shift())) {
      if (placed.has(ref)) continue
      placed.add(ref)
      const node = structuredClone(contract.resolve({ $ref: ref }))
      place(defs, ref, node)
      queue.push(node)
    }
  }
  return { root: { ...own, ...defs }, defs }
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out)
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out.push(v)
      else refsIn(v, out)
    }
  }
  return out
}

function place(defs: JsonSchema, ref: string, node: unknown): void {
  const parts = ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  let at = defs as Record<string, unknown>
  for (const part of parts.slice(0, -1)) {
    const next = at[part]
    at = (next && typeof next === 'object' ? next : (at[part] = {})) as Record<string, unknown>
  }
  at[parts.at(-1)!] = node
}
