import { Command, CommanderError } from 'commander'
import { isHarnessError } from '../core/errors.js'
import { UnknownFaultError } from '../../reference-server/faults/index.js'

/**
 * Exit codes: 0 clean, 1 findings at or above --fail-on, 2 the harness could not run. Each command's
 * module is loaded when that command runs: loading all of them (the reference server, PGlite, Vitest's
 * API, the load engine) cost every command ~2 s of CPU before it did anything.
 */
export async function main(argv: string[]): Promise<number> {
  let code = 0
  const program = new Command('tenant-audit')
    .description('Tenant isolation test and audit harness')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })

  program
    .command('run')
    .description('audit a target (the embedded reference server unless --target) and write reports')
    .option('--target <file>', 'target profile (YAML/JSON); without it, the embedded reference server')
    .option('--faults <a,b>', 'seeded faults for the embedded reference server')
    .option('--suites <list>', 'access,forgery,ratelimit,audit')
    .option('--checks <glob>', "check ids, e.g. 'access/cross-*'")
    .option('--seed <n>', 'fast-check seed: the same seed gives the same topology, requests and findings')
    .option('--runs <n>', 'cases per property (default 100)')
    .option('--out <dir>', 'report folder, replaced each run (default reports/latest)')
    .option('--fail-on <severity>', 'exit 1 on findings at or above: critical|high|medium|low (default low)')
    .option('--topology <size>', 'default (2–4 accounts, 1–3 workspaces) or small (2×2)')
    .option('--concurrency <n>', "most requests in flight at once, 1–64 (default: the profile's budget.concurrency, 8)")
    .option('--dry-run', 'print what inspect prints (one contract read), then the plan; provision nothing')
    .action(async (opts) => void (code = await (await import('./run.js')).run(opts)))

  program
    .command('inspect')
    .description('read the profile and the contract (one GET; no provisioning, no token) and print which operation plays which role, the owner-only resources, and whether each check will run')
    .option('--target <file>', 'target profile (YAML/JSON); without it, the embedded reference server (started for the read, then stopped)')
    .option('--suites <list>', 'access,forgery,ratelimit,audit')
    .option('--checks <glob>', "check ids, e.g. 'access/cross-*'")
    .action(async (opts) => void (code = await (await import('./inspect.js')).inspect(opts)))

  program
    .command('replay')
    .description("re-run one finding's shrunk counterexample (same seed and path)")
    .argument('<findings>', 'a findings.json written by `run`')
    .option('--finding <id>', 'finding id, e.g. F-0001 (default: the first)')
    .option('--target <file>', 'replay against this target profile instead')
    .option('--out <dir>', 'report folder for the replay (default reports/replay)')
    .action(async (file, opts) => void (code = await (await import('./replay.js')).replay(file, opts)))

  program
    .command('serve')
    .description('start the reference server (embedded PGlite unless --database-url)')
    .option('--port <n>', 'port (default 8080, 0 for any)')
    .option('--host <h>', 'interface to bind (default 127.0.0.1)')
    .option('--faults <a,b>', 'seeded faults to switch on (see `tenant-audit faults`)')
    .option('--database-url <url>', 'real Postgres instead of embedded PGlite')
    .option('--redis-url <url>', 'rate-limit counters in Redis (shared by every server process) instead of memory')
    .option('--data-dir <dir>', 'persist embedded PGlite to this directory')
    .action(async (opts) => void (code = await (await import('./serve.js')).serve(opts)))

  program
    .command('faults')
    .description('list the seeded faults the reference server can switch on')
    .option('--json', 'print JSON: [{ name, suite, description, detectedBy }]')
    .action(async (opts) => void (code = (await import('./faults.js')).listFaults(opts)))

  const loadCmd = program
    .command('load')
    .description('run a load scenario (fixtures/load) with the Node driver (loopback only) or k6 (run when found, else its commands printed)')
    .argument('<scenario>', 'noisy-neighbour, quota-accuracy, tenant-mix, or a scenario file')
    .option('--engine <engine>', 'node (default: runs here, loopback only) or k6 (K6_BINARY, else k6 on PATH; without one, prints the commands)')
    .option('--target <file>', 'target profile; without it, the embedded reference server')
    .option('--out <dir>', 'output folder (default reports/load/<scenario>)')
    .action(async (scenario, opts) => void (code = await (await import('./load.js')).load(scenario, opts)))
  loadCmd
    .command('prepare')
    .description('provision the scenario tenants and write scenario.json and tokens.json (mode 0600) for k6')
    .argument('<scenario>', 'noisy-neighbour, quota-accuracy, tenant-mix, or a scenario file')
    .option('--target <file>', 'target profile; without it, the embedded reference server (which stops with the command)')
    .option('--out <dir>', 'output folder (default reports/load/<scenario>)')
    // `load` declares --target/--out too, so commander may hand them to the parent: merge both.
    .action(async (scenario, opts) => void (code = await (await import('./load.js')).loadPrepare(scenario, { ...loadCmd.opts(), ...opts })))
  loadCmd
    .command('cleanup')
    .description('delete what `load prepare` created (its created.json) and the tokens file, as the bootstrap principal')
    .argument('<dir>', 'the folder `load prepare` wrote')
    .option('--target <file>', 'target profile (default: the one `load prepare` used)')
    .action(async (dir, opts) => void (code = await (await import('./load-cleanup.js')).loadCleanup(dir, { ...loadCmd.opts(), ...opts })))

  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    // One clear line: a harness fault is never a false "clean" (exit 2).
    const known = isHarnessError(err) || err instanceof UnknownFaultError
    process.stderr.write(`tenant-audit: ${err instanceof Error ? err.message : String(err)}\n`)
    if (!known && process.env.TENANT_AUDIT_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`)
    return 2
  }
  return code
}
