import { randomBytes } from 'node:crypto'
import type { JWK } from 'jose'
import { parseFaults } from '../../reference-server/faults/index.js'
import { startThrowawayServer } from '../../reference-server/server.js'

export interface Embedded {
  url: string
  username: string
  password: string
  close(): Promise<void>
}

/**
 * The reference server in-process on a free loopback port (embedded PGlite, in-memory limiter),
 * with the given faults, trusting `trustedKeys` (the harness's test issuer) besides its own. The only place the harness imports the reference server.
 */
export async function startEmbedded(faults: string, trustedKeys: { kid: string; alg: 'ES256' | 'RS256'; jwk: JWK }[] = []): Promise<Embedded> {
  const username = 'auditor@platform.local'
  const password = randomBytes(18).toString('base64url')
  const server = await startThrowawayServer({ host: '127.0.0.1', port: 0, faults: parseFaults(faults), bootstrap: { email: username, password }, trustedKeys })
  return { url: server.url, username, password, close: () => server.close() }
}
