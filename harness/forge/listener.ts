/**
 * The loopback key listener (catalog capability L): serves attacker JWKS and certificates for `jku`,
 * `x5u` and out-of-band `kid` probes, and counts every request it gets. It binds 127.0.0.1 on a free
 * port only, so no forged header ever points anywhere but this process; a hit means the target
 * fetched a URL a token named (SSRF / key injection, RFC 8725 §3.10).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface KeyListener {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly address: AddressInfo
  /** Requests received so far, with the path each asked for. */
  readonly hits: readonly string[]
  /** A URL on the listener; `path` starts with `/`. */
  url(path: string): string
  /** What to answer on `path` (JSON for objects). */
  serve(path: string, body: string | object, contentType?: string): void
  close(): Promise<void>
}

export async function startKeyListener(): Promise<KeyListener> {
  const routes = new Map<string, { body: string; type: string }>()
  const hits: string[] = []
  const server: Server = createServer((req: IncomingMessage, res) => {
    hits.push(req.url ?? '/')
    const route = routes.get((req.url ?? '/').split('?')[0]!)
    res.writeHead(route ? 200 : 404, { 'content-type': route?.type ?? 'text/plain', connection: 'close' })
    res.end(route?.body ?? '')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${address.port}`
  return {
    origin,
    address,
    hits,
    url: (path) => `${origin}${path}`,
    serve(path, body, contentType) {
      routes.set(path, typeof body === 'string' ? { body, type: contentType ?? 'text/plain' } : { body: JSON.stringify(body), type: 'application/json' })
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}
