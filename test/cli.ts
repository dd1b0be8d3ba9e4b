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
