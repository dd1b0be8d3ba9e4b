import { z } from 'zod'
import { HarnessError } from '../core/errors.js'
import { SEVERITIES, type Severity } from '../core/severity.js'

/**
 * What one audit run is asked to do. The CLI sets these as TENANT_AUDIT_* environment variables
 * before it starts Vitest; a user running the suites with their own `vitest --config
 * harness/vitest/audit.config.ts --shard 1/2` sets the same variables.
 */
export const settingsSchema = z.object({
  TENANT_AUDIT_TARGET: z.string().optional(),
  TENANT_AUDIT_BASE_URL: z.url().optional(),
  TENANT_AUDIT_FAULTS: z.string().default(''),
  TENANT_AUDIT_SEED: z.coerce.number().int().optional(),
  TENANT_AUDIT_RUNS: z.coerce.number().int().min(1).max(100_000).default(100),
  TENANT_AUDIT_OUT: z.string().default('reports/latest'),
  TENANT_AUDIT_FAIL_ON: z.enum(SEVERITIES as [Severity, ...Severity[]]).default('low'),
  TENANT_AUDIT_REPLAY_PATH: z.string().optional(),
  TENANT_AUDIT_TOPOLOGY: z.enum(['default', 'small']).default('default'),
  TENANT_AUDIT_QUIET: z.enum(['0', '1']).optional(),
  /** Overrides the profile's `budget.concurrency` (`run --concurrency N`). */
  TENANT_AUDIT_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
})

export type AuditSettings = z.infer<typeof settingsSchema> & { TENANT_AUDIT_SEED: number }

export function readSettings(env: NodeJS.ProcessEnv = process.env): AuditSettings {
  const parsed = settingsSchema.safeParse(env)
  if (!parsed.success) {
    const i = parsed.error.issues[0]!
    throw new HarnessError('ERR_USAGE', `${i.path.join('.')}: ${i.message}`)
  }
  return { ...parsed.data, TENANT_AUDIT_SEED: parsed.data.TENANT_AUDIT_SEED ?? Date.now() % 2_147_483_647 }
}
