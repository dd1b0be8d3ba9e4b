import { randomBytes } from 'node:crypto'
import type { JWK } from 'jose'
import { parseFaults } from '../../reference-server/faults/index.js'
import { startServer } from '../../reference-server/server.js'
import { THROWAWAY_COST } from '../../reference-server/auth/passwords.js'

export interface Embedded {
  url: string
  username: string
  password: string
  close(): Promise<void>
}

/**
 * The embedded audit's login windows: as many failures as `serve`'s (20 per address, 10 per
 * username), counted over 3 s and 10 s instead of 10 s and 60 s. The checks that spend them
 * (login-bruteforce, login-race, cost-to-others, login-timing) wait each lockout out; a throwaway
 * server's shorter lockout makes the default audit wait less and proves the same (a limit exists,
 * holds under concurrency, ends with a valid Retry-After). Like THROWAWAY_COST, only here.
 */
const EMBEDDED_LOGIN_WINDOWS = { loginFailuresPerAddress: { points: 20, seconds: 3 }, loginFailuresPerUsername: { points: 10, seconds: 10 } }

/**
 * The reference server in-process on a free loopback port (embedded PGlite, in-memory limiter),
 * with the given faults, trusting `trustedKeys` (the harness's test issuer) besides its own. The only place the harness imports the reference server.
 */
export async function startEmbedded(faults: string, trustedKeys: { kid: string; alg: 'ES256' | 'RS256'; jwk: JWK }[] = []): Promise<Embedded> {
  const username = 'auditor@platform.local'
  const password = randomBytes(18).toString('base64url')
  const server = await startServer({ host: '127.0.0.1', port: 0, faults: parseFaults(faults), bootstrap: { email: username, password }, trustedKeys, settings: { passwordCost: THROWAWAY_COST }, rateLimits: EMBEDDED_LOGIN_WINDOWS })
  return { url: server.url, username, password, close: () => server.close() }
}
