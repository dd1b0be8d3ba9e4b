import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HarnessError } from '../core/errors.js'
import type { Scenario } from '../../fixtures/load/scenario.js'
import type { LoadResult } from '../../load/driver/index.js'
import { k6Summary, type K6SummaryData } from '../../load/driver/k6-lib.js'

export const K6_SCRIPT = fileURLToPath(new URL('../../load/k6/scenario.ts', import.meta.url))

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/** The k6 to run: `K6_BINARY` (which must then be an executable file), else `k6` on PATH; undefined when there is none. */
export function findK6(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.K6_BINARY
  if (named) {
    if (!executable(named)) throw new HarnessError('ERR_USAGE', `K6_BINARY=${named} is not an executable file`)
    return named
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, process.platform === 'win32' ? 'k6.exe' : 'k6')
    if (executable(candidate)) return candidate
  }
  return undefined
}

/** `k6 run` with the prepared files: absolute paths (open() resolves relative ones against the script). */
export function k6RunArgs(dir: string): string[] {
  return ['run', '-e', `SCENARIO_FILE=${join(dir, 'scenario.json')}`, '-e', `TOKENS_FILE=${join(dir, 'tokens.json')}`, '-e', `OUT_DIR=${dir}`, K6_SCRIPT]
}

/** Runs k6, its output streamed to stderr (stdout stays for the result table); resolves with its exit code. */
export function runK6(bin: string, dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, k6RunArgs(dir), { stdio: ['ignore', 2, 2] })
    child.on('error', (err) => reject(new HarnessError('ERR_USAGE', `could not start k6 (${bin}): ${err.message}`)))
    // k6 exits 99 when a threshold is crossed; a signal is not a result.
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

/**
 * The run's result from the `data` handleSummary wrote verbatim (`summary.json`), judged with the
 * script's own summary logic: the Node engine's result shape, plus the thresholds k6 judged.
 */
export function readK6Result(s: Scenario, dir: string, run: { baseUrl: string; startedAt: string }, k6Exit: number): LoadResult {
  const file = join(dir, 'summary.json')
  if (!existsSync(file)) throw new HarnessError('ERR_USAGE', `k6 exited ${k6Exit} without writing ${file}: see its output above`)
  let data: K6SummaryData
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as K6SummaryData
  } catch (err) {
    throw new HarnessError('ERR_USAGE', `${file} is not k6 summary JSON: ${(err as Error).message}`)
  }
  if (typeof data !== 'object' || data === null || typeof data.metrics !== 'object') throw new HarnessError('ERR_USAGE', `${file} has no metrics: not k6 handleSummary data`)
  return k6Summary.k6Result(s, data, run)
}

/** 0 when every goal is met and k6 crossed no threshold, 1 otherwise; any other k6 failure is the harness's (exit 2). */
export function k6ExitCode(result: LoadResult, k6Exit: number): number {
  if (k6Exit !== 0 && k6Exit !== 99) throw new HarnessError('ERR_USAGE', `k6 exited ${k6Exit}: see its output above`)
  return k6Exit === 0 && k6Summary.passed({ goals: result.goals, thresholds: result.thresholds ?? [] }) ? 0 : 1
}
