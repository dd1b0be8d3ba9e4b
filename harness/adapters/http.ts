import { Agent, request as undiciRequest } from 'undici'
import { HarnessError } from '../core/errors.js'
import { recordEvidence } from '../core/evidence.js'
import type { Evidence } from '../core/finding.js'

/** One request as a check asks for it; `path` is relative to the target's base URL. */
export interface HttpRequest {
  method: string
  path: string
  query?: Record<string, string | string[]>
  headers?: Record<string, string>
  /** An object is sent as JSON; a string as-is (set Content-Type yourself). */
  body?: unknown
  /** Bearer token; becomes the Authorization header. */
  token?: string
}

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: string
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown
  /** The exchange, redacted and truncated, ready to be evidence. */
  evidence: Evidence
}

export interface AdapterOptions {
  baseUrl: string
  maxRequests: number
  requestsPerSecond?: number
  timeoutMs: number
  retries: number
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'EAI_AGAIN'])

/**
 * How requests reach a target: undici with a per-request timeout, bounded retries on connection
 * errors only (never on an HTTP answer), the request budget and the rate cap enforced, redirects never
 * followed, and nothing sent to any origin but the target's. Checks never call fetch themselves.
 */
export class HttpAdapter {
  readonly origin: string
  private readonly base: URL
  private readonly agent: Agent
  private nextSlot = 0
  /** Requests sent so far (every attempt counts against the budget). */
  sent = 0

  constructor(private readonly opts: AdapterOptions) {
    this.base = new URL(opts.baseUrl)
    this.origin = this.base.origin
    this.agent = new Agent({ connections: 16, pipelining: 1, keepAliveTimeout: 4_000 })
  }

  private url(req: HttpRequest): URL {
    if (!req.path.startsWith('/')) throw new HarnessError('ERR_INTERNAL', `request path must start with /: ${req.path}`)
    const url = new URL(this.base.pathname.replace(/\/$/, '') + req.path, this.origin)
    for (const [k, v] of Object.entries(req.query ?? {})) for (const one of [v].flat()) url.searchParams.append(k, one)
    // Only the target's own origin: a crafted path can never send the harness elsewhere.
    if (url.origin !== this.origin) throw new HarnessError('ERR_INTERNAL', `refusing to send a request outside ${this.origin}`)
    return url
  }

  private async pace(): Promise<void> {
    const rps = this.opts.requestsPerSecond
    if (!rps) return
    const now = Date.now()
    const slot = Math.max(now, this.nextSlot)
    this.nextSlot = slot + 1000 / rps
    if (slot > now) await new Promise((r) => setTimeout(r, slot - now))
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const url = this.url(req)
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`
    let body: string | undefined
    if (req.body !== undefined) {
      body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body)
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    }
    for (let attempt = 0; ; attempt++) {
      if (this.sent >= this.opts.maxRequests) {
        throw new HarnessError('ERR_BUDGET_EXHAUSTED', `request budget of ${this.opts.maxRequests} exhausted (raise budget.maxRequests in the profile)`)
      }
      await this.pace()
      this.sent++
      try {
        const res = await undiciRequest(url, {
          method: req.method.toUpperCase() as 'GET',
          headers,
          body,
          dispatcher: this.agent,
          headersTimeout: this.opts.timeoutMs,
          bodyTimeout: this.opts.timeoutMs,
        })
        const text = await res.body.text()
        const resHeaders: Record<string, string> = {}
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(', ') : v
        let json: unknown
        try {
          json = text ? JSON.parse(text) : undefined
        } catch {
          json = undefined
        }
        const evidence = recordEvidence({
          request: { method: req.method, url: url.toString(), headers, body },
          response: { status: res.statusCode, headers: resHeaders, body: text },
        })
        return { status: res.statusCode, headers: resHeaders, body: text, json, evidence }
      } catch (err) {
        const code = (err as { code?: string }).code ?? ''
        if (RETRYABLE.has(code) && attempt < this.opts.retries) {
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt))
          continue
        }
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
          throw new HarnessError('ERR_TARGET_UNREACHABLE', `${this.origin} did not answer ${req.method} ${req.path} within ${this.opts.timeoutMs} ms`, { cause: err })
        }
        throw new HarnessError('ERR_TARGET_UNREACHABLE', `cannot reach ${this.origin}: ${code || (err as Error).message}`, { cause: err })
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close()
  }
}
