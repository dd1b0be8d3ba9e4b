import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The vocabulary module is the one place that may spell the reference's names. */
const ALLOWED = new Set(['harness/core/vocabulary.ts', 'harness/core/vocabulary.test.ts', 'harness/core/vocabulary-literals.test.ts'])

// STYLE rule 13: a check asks the vocabulary for a role, never filters the contract by a name.
const FORBIDDEN: [RegExp, string][] = [
  [/['"`](accounts|workspaces|users|principals|audit|auth|jwks|tokens|sessions|members|tenants)\.(create|read|update|delete|list|search|revoke)['"`]/, 'an action literal'],
  [/\bresource\s*[!=]==?\s*['"`]/, 'a resource compared with a literal'],
  [/['"`]\s*[!=]==?\s*[\w.]*\bresource\b/, 'a literal compared with a resource'],
  [/\bby(Action|Resource)\(\s*['"`]/, 'a contract lookup by a literal name'],
]

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    // Tests write contracts in the reference's words on purpose; the rule is for the code that reads them.
    return /\.ts$/.test(name) && !/\.test(-helper)?\.ts$/.test(name) ? [path] : []
  })
}

describe('checks speak roles, not the reference words', () => {
  it('no literal resource or action name outside the vocabulary module', () => {
    const hits: string[] = []
    for (const file of [...sources(join(ROOT, 'harness')), ...sources(join(ROOT, 'suites'))]) {
      const rel = relative(ROOT, file)
      if (ALLOWED.has(rel)) continue
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) return // comments may name the reference's words as examples
        for (const [re, what] of FORBIDDEN) if (re.test(line)) hits.push(`${rel}:${i + 1}: ${what}: ${line.trim()}`)
      })
    }
    expect(hits).toEqual([])
  })

  it('the patterns catch what they are for', () => {
    const lines = ["contract.byAction('users.create', 'portal')", "if (op.resource === 'accounts') x()", "'workspaces' === op.resource", 'byResource(`documents`, "read")']
    for (const line of lines) expect(FORBIDDEN.some(([re]) => re.test(line)), line).toBe(true)
  })
})
