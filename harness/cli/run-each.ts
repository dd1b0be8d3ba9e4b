import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { isHarnessError } from '../core/errors.js'
import { UnknownFaultError } from '../../reference-server/faults/index.js'
import { run, type RunOptions } from './run.js'

/**
 * Test-only: several `tenant-audit run`s, one after another, in one process — what the fault
 * self-audits (test/self-audit.shared.ts) and the blind target's defect audits (test/blind.shared.ts)
 * use instead of one CLI process per audit. Each run is the whole `run` command (for the embedded
 * server: its own freshly started server from the migrated template, with only its faults on; its
 * own provisioning, Vitest run, reports and exit code); what is shared is the process start and the
 * module loading (tsx, the harness, the reference server, Vitest's Node API).
 *
 * `node --import tsx harness/cli/run-each.ts` reads one JSON spec a line on stdin,
 * `{ name, args, env? }` (`args` a `run` command line: `['--faults', 'x', '--checks', '…', …]`;
 * `env` set for that run only), runs them in order, and prints one line per run as it ends:
 * `{"runEach":{name, code, stderr, command}}`, `command` being the CLI line that reproduces it.
 * It exits when stdin ends and the last run is over. On SIGUSR2 it writes the run it is making and
 * what the process has open (timers, sockets, child processes) to stderr: what a caller that gave up
 * on a run reads before it kills it.
 */
export interface EachSpec { name: string; args: string[]; env?: Record<string, string> }
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

const quote = (a: string) => (/^[\w./,:=@*-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)

/** The shell line that runs one spec alone (its environment names only, never their values: they may be secrets). */
export function commandLine(spec: Pick<EachSpec, 'args' | 'env'>): string {
  const env = Object.keys(spec.env ?? {}).map((k) => `${k}=…`)
  return [...env, 'node', 'bin/tenant-audit.js', 'run', ...spec.args.map(quote)].join(' ')
}

/** Runs one spec as `tenant-audit run` would (same exit codes: a harness error is 2 with its line). */
export async function runOne(spec: EachSpec): Promise<EachResult> {
  let stderr = ''
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
  }) as typeof process.stderr.write
  const saved = Object.fromEntries(Object.keys(spec.env ?? {}).map((k) => [k, process.env[k]]))
  Object.assign(process.env, spec.env)
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
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  return { name: spec.name, code, stderr, command: commandLine(spec) }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let making: { name: string; since: number } | undefined
  // A caller that gives up on a run (test/cli.ts: past its limit) asks what is still open before it kills us.
  process.on('SIGUSR2', () => {
    const open = process.getActiveResourcesInfo().reduce<Record<string, number>>((n, r) => ({ ...n, [r]: (n[r] ?? 0) + 1 }), {})
    process.stderr.write(`run-each: ${making ? `still making ${making.name}, for ${((Date.now() - making.since) / 1000).toFixed(0)} s` : 'between runs'}; open: ${JSON.stringify(open)}\n`)
  })
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue
    const spec = JSON.parse(line) as EachSpec
    making = { name: spec.name, since: Date.now() }
    const result = await runOne(spec)
    making = undefined
    process.stdout.write(`${JSON.stringify({ runEach: result })}\n`)
  }
  // Vitest's Node API may leave handles behind (timers, closed servers' sockets): the runs are over.
  process.exit(0)
}
