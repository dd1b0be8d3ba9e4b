import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
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

/**
 * Several `run`s in one child process, one after another (harness/cli/run-each.ts): each is a whole
 * audit on its own freshly started server; only the process and module start-up are shared. Returns
 * one promise per run, settled as that run ends, so each test waits for its own; a run the child
 * never reached (it died or timed out) rejects with the child's stderr.
 */
export function runEachCli(specs: { name: string; args: string[] }[], env: Record<string, string | undefined> = {}, timeoutMs = CLI_TIMEOUT * specs.length): Map<string, Promise<EachResult>> {
  const settle = new Map<string, { resolve(r: EachResult): void; reject(e: Error): void }>()
  const results = new Map(specs.map((s) => [s.name, new Promise<EachResult>((resolve, reject) => settle.set(s.name, { resolve, reject }))]))
  for (const p of results.values()) p.catch(() => undefined)
  const dir = mkdtempSync(join(tmpdir(), 'ta-each-'))
  const file = join(dir, 'specs.json')
  writeFileSync(file, JSON.stringify(specs))
  const child = spawn(process.execPath, ['--import', 'tsx', RUN_EACH, file], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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
      settle.get(r.name)?.resolve(r)
      settle.delete(r.name)
    }
  })
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const end = (why: string) => {
    clearTimeout(timer)
    for (const [name, s] of settle) s.reject(new Error(`run-each ended (${why}) before ${name}'s run finished:\n${stderr}`))
    settle.clear()
  }
  child.on('error', (err) => end(err.message))
  child.on('close', (code) => end(`exit ${code}`))
  return results
}
