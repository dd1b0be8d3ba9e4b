/**
 * Reading findings.json back (`tenant-audit replay`, CI tooling). A file on disk
 * is a trust boundary, so it is parsed with zod rather than cast.
 */
import { z } from 'zod'
import { HarnessError } from './errors.js'
import type { AuditReport } from './run-result.js'

const severity = z.enum(['critical', 'high', 'medium', 'low', 'info'])
const headers = z.record(z.string(), z.string())

const finding = z.object({
  id: z.string().regex(/^F-\d{4,}$/),
  checkId: z.string(),
  severity,
  title: z.string(),
  message: z.string(),
  cwe: z.number().int(),
  owasp: z.string(),
  actor: z.string().optional(),
  victim: z.string().optional(),
  operation: z
    .object({ method: z.string(), pathTemplate: z.string(), operationId: z.string().optional() })
    .optional(),
  evidence: z
    .object({
      request: z.object({ method: z.string(), url: z.string(), headers, body: z.string().optional() }),
      response: z.object({ status: z.number().int(), headers, body: z.string().optional() }),
    })
    .optional(),
  repro: z
    .object({ seed: z.number(), path: z.string().optional(), counterexample: z.unknown().optional(), curl: z.string() })
    .optional(),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
})

const check = z.object({
  id: z.string(),
  suite: z.enum(['access', 'forgery', 'ratelimit', 'audit']),
  title: z.string(),
  severity,
  status: z.enum(['passed', 'failed', 'inconclusive', 'skipped', 'error']),
  findings: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  reason: z.string().optional(),
  startedAt: z.string().optional(),
  notes: z.array(z.string()).optional(),
  cwe: z.number().int().optional(),
  owasp: z.string().optional(),
})

/** zod schema of findings.json, schema version 1. */
export const auditReportSchema = z.object({
  schemaVersion: z.literal(1),
  run: z.object({
    id: z.string(),
    startedAt: z.string(),
    durationMs: z.number().nonnegative(),
    seed: z.number(),
    target: z.object({ name: z.string(), baseUrl: z.string() }),
    faults: z.array(z.string()),
    requests: z.number().int().nonnegative(),
    topology: z.enum(['default', 'small']).optional(),
    traffic: z.object({
      throttled: z.number().int().nonnegative(),
      resends: z.number().int().nonnegative(),
      waitedMs: z.number().nonnegative(),
      renewals: z.number().int().nonnegative(),
      renewalFailures: z.number().int().nonnegative(),
      unauthorizedResends: z.number().int().nonnegative(),
    }).optional(),
    phases: z.object({
      prepareMs: z.number().nonnegative(),
      vitestStartMs: z.number().nonnegative(),
      checksMs: z.number().nonnegative(),
      reportMs: z.number().nonnegative(),
      teardownMs: z.number().nonnegative(),
    }).optional(),
  }),
  checks: z.array(check),
  findings: z.array(finding),
  matrix: z
    .array(
      z.object({
        actorKind: z.string(),
        column: z.string(),
        verdict: z.enum(['allowed', 'denied', 'leaked', 'wrongly-denied', 'not-tested']),
        probes: z.number().int().nonnegative(),
      }),
    )
    .optional(),
}) satisfies z.ZodType<AuditReport>

/**
 * Parses findings.json text (or already-parsed JSON) into an {@link AuditReport}.
 * @throws HarnessError `ERR_USAGE` when the text is not JSON or not a version-1 report
 */
export function parseAuditReport(input: string | unknown): AuditReport {
  let data: unknown = input
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input)
    } catch (cause) {
      throw new HarnessError('ERR_USAGE', 'findings file is not valid JSON', { cause })
    }
  }
  const parsed = auditReportSchema.safeParse(data)
  if (!parsed.success) {
    throw new HarnessError('ERR_USAGE', `findings file is not a schemaVersion 1 report: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    })
  }
  return parsed.data
}
