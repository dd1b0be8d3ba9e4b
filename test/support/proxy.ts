import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback proxy in front of a target, for tests and benches that need a misbehaving deployment
 * without writing one: it can answer 429 on a schedule, delay every request, or start refusing
 * every token after a number of requests. Bounded (request bodies, connections, upstream timeout)
 * and loopback only, in both directions.
 */
export interface ProxyOptions {
  /** The upstream base URL; must be on loopback. */
  target: string
  /** Wait this long before forwarding each request. */
  delayMs?: number
  /**
   * Answer every `every`-th request with 429 + `Retry-After: retryAfterSeconds` (an RFC 9457 problem
   * body) instead of forwarding it. `header: 'ratelimit'` sends no Retry-After, only a draft-11
   * `RateLimit: "proxy";r=0;t=<retryAfterSeconds>`, so the client must fall back to it.
   */
  throttle?: { every: number; retryAfterSeconds: number; header?: 'retry-after' | 'ratelimit' }
  /**
   * After this many requests, every request that carries an Authorization header is answered
   * 401 `invalid_token` (a deployment that starts refusing every token halfway through).
   */
  refuseTokensAfter?: number
}

export interface ProxyStats {
  /** Requests received. */
  requests: number
  /** Answered 429 by the proxy. */
  throttled: number
  /** Answered 401 by the proxy (refuseTokensAfter). */
  refused: number
  /** Forwarded upstream. */
  forwarded: number
}

export interface RunningProxy {
  url: string
  stats: ProxyStats
  close(): Promise<void>
}

const MAX_BODY = 1024 * 1024
const MAX_CONNECTIONS = 64
const UPSTREAM_TIMEOUT_MS = 30_000
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

function problem(res: ServerResponse, status: number, title: string, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers })
  res.end(JSON.stringify({ type: 'about:blank', title, status }))
}

export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const upstream = new URL(opts.target)
  if (!LOOPBACK.has(upstream.hostname)) throw new Error(`startProxy: the target must be on loopback, not ${upstream.hostname}`)
  if (opts.throttle && (!Number.isInteger(opts.throttle.every) || opts.throttle.every < 2)) throw new Error('startProxy: throttle.every must be an integer ≥ 2')
  const stats: ProxyStats = { requests: 0, throttled: 0, refused: 0, forwarded: 0 }

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const headers = { ...req.headers, host: upstream.host }
    const up = request({ host: upstream.hostname.replace(/^\[|\]$/g, ''), port: upstream.port, method: req.method, path: upstream.pathname.replace(/\/$/, '') + (req.url ?? '/'), headers, timeout: UPSTREAM_TIMEOUT_MS }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    up.on('timeout', () => up.destroy(new Error('upstream timeout')))
    up.on('error', () => {
      if (!res.headersSent) problem(res, 502, 'Bad Gateway', {})
      else res.destroy()
    })
    stats.forwarded++
    up.end(body)
  }

  const server = createServer((req, res) => {
    const n = ++stats.requests
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        problem(res, 413, 'Content Too Large', { connection: 'close' })
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => {
      if (size > MAX_BODY) return
      const t = opts.throttle
      if (t && n % t.every === 0) {
        stats.throttled++
        const headers: Record<string, string> = t.header === 'ratelimit'
          ? { ratelimit: `"proxy";r=0;t=${t.retryAfterSeconds}` }
          : { 'retry-after': String(t.retryAfterSeconds) }
        return problem(res, 429, 'Too Many Requests', headers)
      }
      if (opts.refuseTokensAfter !== undefined && n > opts.refuseTokensAfter && req.headers.authorization !== undefined) {
        stats.refused++
        return problem(res, 401, 'Unauthorized', { 'www-authenticate': 'Bearer error="invalid_token"' })
      }
      const body = Buffer.concat(chunks)
      if (opts.delayMs) setTimeout(() => forward(req, res, body), opts.delayMs)
      else forward(req, res, body)
    })
  })
  server.maxConnections = MAX_CONNECTIONS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
