import { spawn } from 'node:child_process'
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
  /** Queues one `run` (args as on the command line; env for that run only); settles when it ends. */
  run(name: string, args: string[], env?: Record<string, string>): Promise<EachResult>
  /** No more runs: the child exits once the queued ones are over (killed if it is still there after `graceMs`: a run a test gave up on). */
  close(graceMs?: number): Promise<void>
}

/**
 * One child process that makes `run`s one after another (harness/cli/run-each.ts): each is a whole
 * audit (on the embedded server: its own freshly started one); only the process and module start-up
 * are shared. A run the child never finished (it died) rejects with the child's stderr.
 */
export function runEachCli(env: Record<string, string | undefined> = {}): RunEach {
  const waiting = new Map<string, { resolve(r: EachResult): void; reject(e: Error): void }>()
  const child = spawn(process.execPath, ['--import', 'tsx', RUN_EACH], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
    let nl: number
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, nl)
      stdout = stdout.slice(nl + 1)
      if (!line.startsWith('{"runEach":')) continue
      const r = (JSON.parse(line) as { runEach: EachResult }).runEach
      waiting.get(r.name)?.resolve(r)
      waiting.delete(r.name)
    }
  })
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
  const exited = new Promise<void>((resolve) => {
    const end = (why: string) => {
      for (const [name, w] of waiting) w.reject(new Error(`run-each ended (${why}) before ${name}'s run finished:\n${stderr}`))
      waiting.clear()
      resolve()
    }
    child.on('error', (err) => end(err.message))
    child.on('close', (code) => end(`exit ${code}`))
  })
  return {
    run(name, args, runEnv) {
      const result = new Promise<EachResult>((resolve, reject) => waiting.set(name, { resolve, reject }))
      child.stdin.write(`${JSON.stringify({ name, args, env: runEnv })}\n`)
      return result
    },
    async close(graceMs = CLI_TIMEOUT) {
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}
