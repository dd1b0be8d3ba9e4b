import { isIP } from 'node:net'
import { HarnessError } from '../../harness/core/errors.js'

/** Whether a hostname names this machine: `localhost`, 127.0.0.0/8 or ::1 (IPv4-mapped too). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (isIP(host) === 4) return host.startsWith('127.')
  // WHATWG URL normalises [::ffff:127.0.0.1] to [::ffff:7f00:1].
  if (isIP(host) === 6) return host === '::1' || /^::ffff:(7f[0-9a-f]{2}:|127\.)/.test(host)
  return false
}

/**
 * The Node driver sends load to this machine only: a deployment elsewhere gets the k6 scripts,
 * which its owners run (and scale out) themselves. Throws one clear line for anything else.
 */
export function assertLoopback(baseUrl: string): URL {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new HarnessError('ERR_USAGE', `not a URL: ${baseUrl}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HarnessError('ERR_USAGE', `the load driver speaks http(s), not ${url.protocol}`)
  if (!isLoopbackHost(url.hostname)) {
    throw new HarnessError('ERR_USAGE', `the Node load driver only sends to loopback (127.0.0.1, ::1, localhost), not ${url.hostname}: run the k6 scripts for other targets (tenant-audit load SCENARIO --engine k6)`)
  }
  return url
}
