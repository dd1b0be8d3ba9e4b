import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { HarnessError } from '../core/errors.js'
import { parseAuditReport } from '../core/report-schema.js'
import { run } from './run.js'

export interface ReplayOptions {
  finding?: string
  target?: string
  out?: string
}

/**
 * `tenant-audit replay FINDINGS.json [--finding ID] [--target FILE]`: re-runs one finding's check
 * with the same seed and fast-check path, so only its shrunk counterexample is tried again (against
 * another target if given). Exit 1: reproduced; 0: the target no longer shows it; 2: cannot replay.
 */
export async function replay(file: string, opts: ReplayOptions): Promise<number> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new HarnessError('ERR_USAGE', `cannot read ${file}: ${(err as Error).message}`)
  }
  const report = parseAuditReport(text)
  const finding = opts.finding ? report.findings.find((f) => f.id === opts.finding) : report.findings[0]
  if (!finding) throw new HarnessError('ERR_USAGE', opts.finding ? `${file} has no finding ${opts.finding}` : `${file} has no findings to replay`)
  const embedded = !opts.target && report.run.target.name === 'reference' && report.run.faults !== undefined
  if (!opts.target && !embedded) throw new HarnessError('ERR_USAGE', `the finding came from ${report.run.target.name}: pass --target with its profile`)
  const out = opts.out ?? join('reports', 'replay')
  process.stderr.write(`tenant-audit: replaying ${finding.id} (${finding.checkId}, seed ${report.run.seed}${finding.repro?.path ? `, path ${finding.repro.path}` : ''})\n`)
  const code = await run({
    target: opts.target,
    faults: opts.target ? undefined : report.run.faults.join(',') || undefined,
    seed: String(report.run.seed),
    checks: finding.checkId,
    topology: report.run.topology,
    replayPath: finding.repro?.path,
    out,
  })
  if (code === 2) return 2
  const again = parseAuditReport(await readFile(join(out, 'findings.json'), 'utf8'))
  const reproduced = again.findings.some((f) => f.checkId === finding.checkId)
  process.stderr.write(reproduced ? `tenant-audit: ${finding.id} reproduced\n` : `tenant-audit: ${finding.id} did not reproduce\n`)
  return reproduced ? 1 : 0
}
