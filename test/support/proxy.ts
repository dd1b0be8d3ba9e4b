import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback proxy in front of a target, for tests and benches that need a misbehaving or distant
 * deployment without writing one: it can add a fixed delay to every round trip (a target 20 ms
 * away), answer 429 on a schedule, or start refusing every token after a number of requests.
 * Keep-alive on both sides (clients' connections are kept; upstream connections are pooled and
 * reused), many requests at once. Bounded (request bodies, connections, delays, upstream timeout)
 * and loopback only, in both directions.
 */
export interface ProxyOptions {
  /** The upstream base URL; must be on loopback. */
  target: string
  /** Wait this long before forwarding each request (the same as `delay.request`). */
  delayMs?: number
  /**
   * A fixed delay per direction: `request` before a request is forwarded, `response` before the
   * answer goes back. A round trip through the proxy takes `request + response` ms longer.
   */
  delay?: { request?: number; response?: number }
  /**
   * Upstream connections open at once (default 64, at most 1024); requests beyond them wait for one.
   * Clients may hold up to 1024 connections.
   */
  maxConnections?: number
  /** How a delay is waited for (tests pass their own to see the order without timing anything); setTimeout by default. */
  schedule?: (ms: number, fn: () => void) => void
  /**
   * Answer every `every`-th request with 429 + `Retry-After: retryAfterSeconds` (an RFC 9457 problem
   * body) instead of forwarding it; with `run`, that request and the `run - 1` after it (a gateway
   * throttling in bursts, whatever the route). `header: 'ratelimit'` sends no Retry-After, only a draft-11
   * `RateLimit: "proxy";r=0;t=<retryAfterSeconds>`, so the client must fall back to it.
   */
  throttle?: { every: number; retryAfterSeconds: number; header?: 'retry-after' | 'ratelimit'; run?: number }
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
  /**
   * Zeroes the counters (the next request is number 1 again) and changes the per-request behaviour
   * from then on: `refuseTokensAfter` (undefined: never) and the delays.
   */
  reset(change?: Pick<ProxyOptions, 'refuseTokensAfter' | 'delay' | 'delayMs'>): void
  close(): Promise<void>
}

const MAX_BODY = 1024 * 1024
const DEFAULT_CONNECTIONS = 64
const MAX_CONNECTIONS = 1024
const MAX_DELAY_MS = 10_000
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
  if (opts.throttle?.run !== undefined && (!Number.isInteger(opts.throttle.run) || opts.throttle.run < 1 || opts.throttle.run >= opts.throttle.every)) throw new Error('startProxy: throttle.run must be an integer in 1..every-1')
  const connections = opts.maxConnections ?? DEFAULT_CONNECTIONS
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_CONNECTIONS) throw new Error(`startProxy: maxConnections must be an integer in 1..${MAX_CONNECTIONS}`)
  const stats: ProxyStats = { requests: 0, throttled: 0, refused: 0, forwarded: 0 }
  let refuseTokensAfter = opts.refuseTokensAfter
  let delays = { request: 0, response: 0 }
  const setDelays = (o: Pick<ProxyOptions, 'delay' | 'delayMs'>) => {
    const d = { request: o.delay?.request ?? o.delayMs ?? 0, response: o.delay?.response ?? 0 }
    for (const ms of [d.request, d.response]) if (!(ms >= 0 && ms <= MAX_DELAY_MS)) throw new Error(`startProxy: a delay must be 0..${MAX_DELAY_MS} ms`)
    delays = d
  }
  setDelays(opts)
  // Upstream connections are kept alive and reused, as a real reverse proxy's are.
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections })
  const schedule = opts.schedule ?? ((ms: number, fn: () => void) => void setTimeout(fn, ms))
  const later = (ms: number, fn: () => void) => (ms > 0 ? schedule(ms, fn) : fn())

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, again = false) => {
    const headers = { ...req.headers, host: upstream.host }
    let answered = false
    const up = request({ agent, host: upstream.hostname.replace(/^\[|\]$/g, ''), port: upstream.port, method: req.method, path: upstream.pathname.replace(/\/$/, '') + (req.url ?? '/'), headers, timeout: UPSTREAM_TIMEOUT_MS }, (answer) => {
      answered = true
      later(delays.response, () => {
        if (res.destroyed) return answer.resume()
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
    })
    up.on('timeout', () => up.destroy(new Error('upstream timeout')))
    up.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the upstream closed (its keepAliveTimeout) just as this request went out on
      // it: nothing was answered, so it is sent once more on a fresh connection, as Node's docs advise
      // (request.reusedSocket) and reverse proxies do. Answering 502 turned an idle gap of 5 s into a
      // failed probe (seen: a far-deployment check skipped on "first call answered 502").
      if (!again && !answered && up.reusedSocket && err.code === 'ECONNRESET') return forward(req, res, body, true)
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
      if (t && n % t.every < (t.run ?? 1)) {
        stats.throttled++
        const headers: Record<string, string> = t.header === 'ratelimit'
          ? { ratelimit: `"proxy";r=0;t=${t.retryAfterSeconds}` }
          : { 'retry-after': String(t.retryAfterSeconds) }
        return problem(res, 429, 'Too Many Requests', headers)
      }
      if (refuseTokensAfter !== undefined && n > refuseTokensAfter && req.headers.authorization !== undefined) {
        stats.refused++
        return problem(res, 401, 'Unauthorized', { 'www-authenticate': 'Bearer error="invalid_token"' })
      }
      const body = Buffer.concat(chunks)
      later(delays.request, () => forward(req, res, body))
    })
  })
  server.maxConnections = MAX_CONNECTIONS
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    reset(change = {}) {
      Object.assign(stats, { requests: 0, throttled: 0, refused: 0, forwarded: 0 })
      if ('refuseTokensAfter' in change) refuseTokensAfter = change.refuseTokensAfter
      if ('delay' in change || 'delayMs' in change) setDelays(change)
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
      agent.destroy()
    }),
  }
}
