import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../bin/tenant-audit.js', import.meta.url))
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Generous: a CLI test runs a whole audit in a child process, and CI machines are shared. */
export const CLI_TIMEOUT = 600_000

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the real CLI in a child process (as a user or CI would), from the repository root. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = CLI_TIMEOUT - 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
}

export function tempOut(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'ta-')), name)
}

const RUN_EACH = fileURLToPath(new URL('../harness/cli/run-each.ts', import.meta.url))

export interface EachResult { name: string; code: number; stderr: string; command: string }

export interface RunEach {
  /**
   * Queues one `run` (args as on the command line; env for that run only); settles when it ends. A run
   * still going `limitMs` after it began is given up: the child says what it had open (stderr), is
   * killed, the run rejects with that, and the runs queued behind it go on in a fresh child.
   */
  run(name: string, args: string[], env?: Record<string, string>, limitMs?: number): Promise<EachResult>
  /** No more runs: the child exits once the queued ones are over (killed if it is still there after `graceMs`: a run a test gave up on). */
  close(graceMs?: number): Promise<void>
}

interface Queued { name: string; line: string; limitMs: number; resolve(r: EachResult): void; reject(e: Error): void }

interface EachChild { child: ChildProcessWithoutNullStreams; stderr: string; exited: Promise<void>; arm(): void }

/**
 * Child processes that make `run`s one after another (harness/cli/run-each.ts): each is a whole
 * audit (on the embedded server: its own freshly started one); only the process and module start-up
 * are shared. A run the child never finished (it died, or it overran its limit) rejects with the
 * child's stderr; the runs queued behind it go to a new child, so one stuck run fails one test, not
 * every test after it.
 */
export function runEachCli(env: Record<string, string | undefined> = {}): RunEach {
  /** Sent to the current child and not yet answered, in order: the first is the one it is making. */
  let queue: Queued[] = []
  let current: EachChild | undefined
  let closing = false

  function spawnEach(): EachChild {
    const child = spawn(process.execPath, ['--import', 'tsx', RUN_EACH], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let timer: NodeJS.Timeout | undefined
    let overran: string | undefined
    /** The limit of the run at the head of the queue, counted from when it became the head. */
    const arm = () => {
      clearTimeout(timer)
      const head = queue[0]
      if (!head || current !== self) return
      timer = setTimeout(() => {
        overran = `${head.name}'s run did not end within ${head.limitMs / 1000} s`
        // run-each answers SIGUSR2 with what it has open, on stderr; then it is killed.
        child.kill('SIGUSR2')
        setTimeout(() => child.kill('SIGKILL'), 2_000).unref()
      }, head.limitMs)
    }
    let stdout = ''
    child.stdout.on('data', (d) => {
      stdout += d
      let nl: number
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, nl)
        stdout = stdout.slice(nl + 1)
        if (!line.startsWith('{"runEach":')) continue
        const r = (JSON.parse(line) as { runEach: EachResult }).runEach
        const i = queue.findIndex((q) => q.name === r.name)
        if (i >= 0) queue.splice(i, 1)[0]!.resolve(r)
        arm()
      }
    })
    const self: EachChild = { child, stderr: '', arm, exited: Promise.resolve() }
    child.stderr.on('data', (d) => (self.stderr = (self.stderr + d).slice(-20_000)))
    self.exited = new Promise<void>((resolve) => {
      const end = (why: string) => {
        clearTimeout(timer)
        if (current !== self) return resolve()
        current = undefined
        // The head of the queue is the run the child was making: it fails with what the child said.
        const [head, ...rest] = queue
        queue = []
        head?.reject(new Error(`run-each ended (${overran ?? why}) before ${head.name}'s run finished:\n${self.stderr}`))
        // The runs behind it were never begun: a fresh child makes them (unless the caller is closing).
        for (const q of rest) {
          if (closing) q.reject(new Error(`run-each ended (${why}) before ${q.name}'s run began`))
          else send(q)
        }
        resolve()
      }
      child.on('error', (err) => end(err.message))
      child.on('close', (code, signal) => end(`exit ${code ?? signal}`))
    })
    return self
  }

  function send(q: Queued): void {
    current ??= spawnEach()
    queue.push(q)
    current.child.stdin.write(q.line)
    if (queue.length === 1) current.arm()
  }

  return {
    run(name, args, runEnv, limitMs = CLI_TIMEOUT - 60_000) {
      return new Promise<EachResult>((resolve, reject) => send({ name, line: `${JSON.stringify({ name, args, env: runEnv })}\n`, limitMs, resolve, reject }))
    },
    async close(graceMs = CLI_TIMEOUT) {
      closing = true
      const last = current
      if (!last) return
      last.child.stdin.end()
      const timer = setTimeout(() => last.child.kill('SIGKILL'), graceMs)
      await last.exited
      clearTimeout(timer)
    },
  }
}
