/**
 * findings.json: the canonical document every other format derives from.
 */
import type { AuditReport } from '../core/run-result.js'

/**
 * Pretty-printed JSON with a fixed top-level key order (schemaVersion, run,
 * checks, findings, matrix), so diffs between runs stay readable whatever
 * order the runner built the object in.
 */
export function render(report: AuditReport): string {
  const { schemaVersion, run, checks, findings, matrix } = report
  const ordered = {
    schemaVersion,
    run: {
      id: run.id,
      startedAt: run.startedAt,
      durationMs: run.durationMs,
      seed: run.seed,
      target: { name: run.target.name, baseUrl: run.target.baseUrl },
      faults: run.faults,
      requests: run.requests,
      ...(run.topology === undefined ? {} : { topology: run.topology }),
      ...(run.traffic === undefined ? {} : { traffic: run.traffic }),
      ...(run.phases === undefined ? {} : { phases: run.phases }),
    },
    checks,
    findings,
    ...(matrix === undefined ? {} : { matrix }),
  }
  return `${JSON.stringify(ordered, null, 2)}\n`
}
