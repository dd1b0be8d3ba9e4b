import { z } from 'zod'

/** Environment variables the server reads, validated at the trust boundary. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().optional(),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_RUNTIME_URL: z.string().url().optional(),
  PGLITE_DATA_DIR: z.string().optional(),
  FAULTS: z.string().optional(),
  ISSUER: z.string().url().optional(),
  BOOTSTRAP_PRINCIPAL_EMAIL: z.string().email().optional(),
  BOOTSTRAP_PRINCIPAL_PASSWORD: z.string().min(12).optional(),
  /** Rate-limit counters in Redis (shared by every server process); in memory otherwise. */
  REDIS_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
})

export type ServerEnv = z.infer<typeof envSchema>

export function readEnv(env: NodeJS.ProcessEnv = process.env): ServerEnv {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new Error(`invalid environment: ${issue?.path.join('.')}: ${issue?.message}`)
  }
  return parsed.data
}
