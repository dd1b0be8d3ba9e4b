import { createRequire } from 'node:module'
import { compile as compileJmesPath, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath'

// jsonpointer is CommonJS (`export =`); load it as what it is.
const jsonpointer = createRequire(import.meta.url)('jsonpointer') as {
  compile(pointer: string): { get(object: object): unknown }
}

/**
 * Where a field is in a deployment's JSON (a profile's audit-event mapping): a JSON Pointer
 * (RFC 6901, anything starting with `/`, evaluated by `jsonpointer`) or otherwise a JMESPath
 * expression (evaluated by `@jmespath-community/jmespath`). Compiled once per expression.
 */
export interface FieldPath {
  readonly expression: string
  readonly kind: 'pointer' | 'jmespath'
  /** The value there; undefined when absent (JMESPath cannot tell absent from null: both read null). */
  get(value: unknown): unknown
}

const compiled = new Map<string, FieldPath>()
const ESCAPE = /~(?![01])/

function pointer(expression: string): FieldPath {
  // jsonpointer throws on a bad `~` escape only when evaluated: refuse it now.
  if (ESCAPE.test(expression)) throw new Error(`invalid JSON Pointer ${JSON.stringify(expression)}: "~" must be followed by 0 or 1`)
  const p = jsonpointer.compile(expression)
  const segments = expression.split('/').slice(1)
  return {
    expression, kind: 'pointer',
    get(value) {
      if (typeof value !== 'object' || value === null) return segments.length === 0 ? value : undefined
      const v = p.get(value)
      // Only JSON values count: `/constructor` must not find Object's prototype.
      return typeof v === 'function' ? undefined : v
    },
  }
}

function jmes(expression: string): FieldPath {
  let ast: ReturnType<typeof compileJmesPath>
  try {
    ast = compileJmesPath(expression)
  } catch (err) {
    throw new Error(`invalid JMESPath ${JSON.stringify(expression)}: ${(err as Error).message}`)
  }
  return {
    expression, kind: 'jmespath',
    get(value) {
      try {
        return TreeInterpreter.search(ast, value as JSONValue) ?? undefined
      } catch {
        // A function applied to a value of the wrong type (e.g. `to_number` of an object): nothing there.
        return undefined
      }
    },
  }
}

/** Compiles (once) a JSON Pointer or JMESPath expression; throws an Error naming the syntax problem. */
export function compileFieldPath(expression: string): FieldPath {
  const known = compiled.get(expression)
  if (known) return known
  const path = expression.startsWith('/') ? pointer(expression) : jmes(expression)
  compiled.set(expression, path)
  return path
}
