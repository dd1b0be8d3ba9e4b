import { parseFaults } from '../../reference-server/faults/index.js'
import { readEnv } from '../../reference-server/config.js'
import { startServer } from '../../reference-server/server.js'
import pino from 'pino'

export interface ServeOptions {
  port?: string
  host?: string
  faults?: string
  databaseUrl?: string
  dataDir?: string
  /** Rate-limit counters in Redis, shared by several server processes (default REDIS_URL). */
  redisUrl?: string
}

/** `tenant-audit serve`: the reference server as a process, until SIGINT/SIGTERM. */
export async function serve(opts: ServeOptions): Promise<number> {
  const env = readEnv()
  const faults = parseFaults(opts.faults ?? env.FAULTS)
  const email = env.BOOTSTRAP_PRINCIPAL_EMAIL ?? 'admin@platform.local'
  const server = await startServer({
    port: opts.port !== undefined ? Number(opts.port) : (env.PORT ?? 8080),
    host: opts.host ?? env.HOST ?? '127.0.0.1',
    databaseUrl: opts.databaseUrl ?? env.DATABASE_URL,
    databaseRuntimeUrl: env.DATABASE_RUNTIME_URL,
    pgliteDataDir: opts.dataDir ?? env.PGLITE_DATA_DIR,
    redisUrl: opts.redisUrl ?? env.REDIS_URL,
    faults,
    issuer: env.ISSUER,
    bootstrap: { email, password: env.BOOTSTRAP_PRINCIPAL_PASSWORD },
    logger: pino({ level: env.LOG_LEVEL ?? 'info' }),
  })
  const out = process.stderr
  out.write(`tenant-audit reference server listening on ${server.url}\n`)
  out.write(`  database: ${server.deps.db.kind}  rate limits: ${server.deps.limiter.store}${faults.names.length ? `  faults: ${faults.names.join(', ')}` : ''}\n`)
  out.write(`  bootstrap principal: ${email}\n`)
  if (server.generatedPassword) {
    // Printed once, to the terminal only (never to the request log): set BOOTSTRAP_PRINCIPAL_PASSWORD to choose it.
    out.write(`  generated password (shown once): ${server.generatedPassword}\n`)
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.close()
  return 0
}
