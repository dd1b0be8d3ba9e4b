/**
 * The ordered check registry. Order is the order checks run and appear in every
 * report, so selection filters but never reorders.
 */
import { HarnessError } from './errors.js'
import { SUITES } from './check.js'
import type { CheckDefinition, Suite } from './check.js'

/** What `--suites` and `--checks` ask for; both filters apply (intersection). */
export interface Selection {
  suites?: readonly string[] | undefined
  /** Globs over check ids (`access/*`, `access/cross-*`); a comma-separated string is also accepted. */
  checks?: string | readonly string[] | undefined
}

/** An immutable, ordered set of checks with unique ids. */
export interface CheckRegistry<Ctx = unknown> {
  /** All checks, in registration order. */
  readonly all: readonly CheckDefinition<Ctx>[]
  get(id: string): CheckDefinition<Ctx> | undefined
  /**
   * Checks matching the selection, in registration order.
   * @throws HarnessError `ERR_USAGE` for an unknown suite or a glob that matches no check at all
   */
  select(selection?: Selection): CheckDefinition<Ctx>[]
}

/**
 * Compiles a check-id glob: `*` matches within one segment, `**` across `/`,
 * `?` one character. Everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*'
      i++
    } else if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

function splitGlobs(checks: string | readonly string[]): string[] {
  const list = typeof checks === 'string' ? [checks] : [...checks]
  return list.flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g.length > 0)
}

/**
 * Creates the registry.
 * @throws HarnessError `ERR_REGISTRY` on a duplicate id
 */
export function createRegistry<Ctx>(checks: readonly CheckDefinition<Ctx>[]): CheckRegistry<Ctx> {
  const byId = new Map<string, CheckDefinition<Ctx>>()
  for (const check of checks) {
    if (byId.has(check.id)) {
      throw new HarnessError('ERR_REGISTRY', `duplicate check id "${check.id}": each id must be registered once`)
    }
    byId.set(check.id, check)
  }
  const all = Object.freeze([...checks])

  return {
    all,
    get: (id) => byId.get(id),
    select(selection = {}) {
      let picked = [...all]
      if (selection.suites !== undefined) {
        const unknown = selection.suites.filter((s) => !(SUITES as readonly string[]).includes(s))
        if (unknown.length > 0) {
          throw new HarnessError('ERR_USAGE', `unknown suite(s) ${unknown.join(', ')}; expected ${SUITES.join(', ')}`)
        }
        const wanted = new Set(selection.suites as readonly Suite[])
        picked = picked.filter((c) => wanted.has(c.suite))
      }
      if (selection.checks !== undefined) {
        const globs = splitGlobs(selection.checks)
        const patterns = globs.map(globToRegExp)
        // A glob matching nothing anywhere is almost always a typo; failing beats a silent green run.
        patterns.forEach((re, i) => {
          if (!all.some((c) => re.test(c.id))) {
            throw new HarnessError('ERR_USAGE', `--checks "${globs[i] ?? ''}" matches no registered check`)
          }
        })
        picked = picked.filter((c) => patterns.some((re) => re.test(c.id)))
      }
      return picked
    },
  }
}
