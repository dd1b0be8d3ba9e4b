import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isHarnessError } from '../core/errors.js'
import { UnknownFaultError } from '../../reference-server/faults/index.js'
import { run, type RunOptions } from './run.js'

/**
 * Test-only: several `tenant-audit run`s, one after another, in one process — what the fault
 * self-audits (test/self-audit.shared.ts) use instead of one CLI process per fault. Each run is the
 * whole `run` command (its own freshly started embedded server from the migrated template, with only
 * its faults on; its own provisioning, Vitest run, reports and exit code); what is shared is the
 * process start and the module loading (tsx, the harness, the reference server, Vitest's Node API).
 *
 * `node --import tsx harness/cli/run-each.ts SPEC.json`: SPEC is `[{ name, args }]`, each `args` a
 * `run` command line (`['--faults', 'x', '--checks', '…', …]`). Prints one JSON line per run as it
 * ends: `{"runEach":{name, code, stderr, command}}`, `command` being the CLI line that reproduces it.
 */
export interface EachSpec { name: string; args: string[] }
export interface EachResult { name: string; code: number; stderr: string; command: string }

const OPTIONS: Record<string, keyof RunOptions> = {
  '--target': 'target', '--faults': 'faults', '--suites': 'suites', '--checks': 'checks', '--seed': 'seed', '--runs': 'runs',
  '--out': 'out', '--fail-on': 'failOn', '--topology': 'topology', '--concurrency': 'concurrency',
}

/** `run`'s options from its command line (only the valued options `run` takes; anything else is a usage error). */
export function runOptions(args: readonly string[]): RunOptions {
  const opts: Record<string, string> = {}
  for (let i = 0; i < args.length; i += 2) {
    const key = OPTIONS[args[i]!]
    if (!key || args[i + 1] === undefined) throw new Error(`run-each: cannot read ${args.slice(i).join(' ')}`)
    opts[key] = args[i + 1]!
  }
  return opts as RunOptions
}

export function commandLine(args: readonly string[]): string {
  return ['node', 'bin/tenant-audit.js', 'run', ...args].map((a) => (/^[\w./,:=@*-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/** Runs each spec as `tenant-audit run` would (same exit codes: a harness error is 2 with its line), in order. */
export async function runEach(specs: readonly EachSpec[], onResult: (r: EachResult) => void): Promise<void> {
  for (const spec of specs) {
    let stderr = ''
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stderr.write
    let code: number
    try {
      code = await run(runOptions(spec.args))
    } catch (err) {
      // As main() does: one line, exit 2.
      process.stderr.write(`tenant-audit: ${err instanceof Error ? err.message : String(err)}\n`)
      if (!isHarnessError(err) && !(err instanceof UnknownFaultError)) process.stderr.write(`${(err as Error)?.stack}\n`)
      code = 2
    } finally {
      process.stderr.write = write
    }
    onResult({ name: spec.name, code, stderr, command: commandLine(spec.args) })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const specs = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as EachSpec[]
  await runEach(specs, (r) => void process.stdout.write(`${JSON.stringify({ runEach: r })}\n`))
  // Vitest's Node API may leave handles (its workers are closed; timers, sockets of closed servers): the runs are over.
  process.exit(0)
}
