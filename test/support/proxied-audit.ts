import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startThrowawayServer } from '../../reference-server/server.js'
import { parseFaults } from '../../reference-server/faults/index.js'
import { startProxy, type ProxyOptions, type RunningProxy } from './proxy.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut, type CliResult } from '../cli.js'

const ROOT_EMAIL = 'root@proxied.test'
const ROOT_PASSWORD = 'proxied-root-password-1'

export interface ProxiedReport {
  run: { traffic?: { throttled: number; resends: number; waitedMs: number } }
  checks: { id: string; status: string; reason?: string; notes?: string[] }[]
  findings: { checkId: string; message: string }[]
}

export interface ProxiedAudit {
  res: CliResult
  proxy: RunningProxy
  out: string
  /** findings.json, when the run wrote one (not on exit 2). */
  report?: ProxiedReport
}

/**
 * Audits of a deployment the tests do not have to write: a throwaway reference server (with the
 * given faults on) behind the loopback proxy (a delay, a throttling gateway), audited through the
 * reference profile by the real CLI. Everything an audit started is closed by `close()`.
 */
export function proxiedAudits() {
  const opened: { close(): Promise<void> }[] = []
  return {
    async audit(faults: string[], proxyOptions: Omit<ProxyOptions, 'target'>, args: string[]): Promise<ProxiedAudit> {
      const server = await startThrowawayServer({ faults: parseFaults(faults), bootstrap: { email: ROOT_EMAIL, password: ROOT_PASSWORD } })
      opened.push(server)
      const proxy = await startProxy({ ...proxyOptions, target: server.url })
      opened.push(proxy)
      const out = tempOut('proxied')
      const res = await runCli(['run', '--target', join(ROOT, 'fixtures/targets/reference.yaml'), ...args, '--out', out],
        { BOOTSTRAP_PRINCIPAL_EMAIL: ROOT_EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: ROOT_PASSWORD, TENANT_AUDIT_BASE_URL: proxy.url }, CLI_TIMEOUT - 60_000)
      const file = join(out, 'findings.json')
      const report = res.code !== 2 && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ProxiedReport) : undefined
      return { res, proxy, out, report }
    },
    async close(): Promise<void> {
      for (const o of opened.splice(0).reverse()) await o.close()
    },
  }
}
