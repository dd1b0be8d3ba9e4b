import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StubRequest { method: string; path: string; headers: IncomingMessage['headers']; body: string }

export interface Stub {
  url: string
  /** Every request the stub received, in order. */
  seen: StubRequest[]
  close(): Promise<void>
}

/**
 * A tiny loopback HTTP server for adapter tests: `handle` answers each request (it may be async).
 * Bodies are capped at 64 KiB; it listens on 127.0.0.1 only.
 */
export async function startStub(handle: (req: StubRequest, res: ServerResponse) => void | Promise<void>): Promise<Stub> {
  const seen: StubRequest[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => {
      body += d
      if (body.length > 65_536) req.destroy()
    })
    req.on('end', () => {
      const r = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body }
      seen.push(r)
      void Promise.resolve(handle(r, res)).catch(() => res.writeHead(500).end())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** An unsigned JWT-shaped token with these claims (for decoding only; no stub verifies it). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b({ alg: 'ES256', typ: 'JWT' })}.${b(claims)}.c2ln`
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}
