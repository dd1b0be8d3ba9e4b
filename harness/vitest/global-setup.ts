import type { TestProject } from 'vitest/node'
import { prepareAudit, type PreparedAudit } from '../engine/prepare.js'
import { readSettings } from './settings.js'
import { preparedAudit, setRunState } from './state.js'

/**
 * Once per audit, in the main process. Under `tenant-audit run` the CLI has already prepared the
 * audit (so its errors are one clear line, exit 2) and this only hands the topology to the suites;
 * under a plain `vitest --config harness/vitest/audit.config.ts` it prepares the audit itself and
 * its teardown removes everything the harness created, also on Ctrl-C.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let audit: PreparedAudit | undefined = preparedAudit()
  const own = audit === undefined
  if (!audit) {
    audit = await prepareAudit(readSettings())
    setRunState(audit.state)
  }
  const { cleanup } = audit
  const onSignal = () => void cleanup().finally(() => process.exit(130))
  if (own) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  project.provide('tenantAudit', audit.provided)
  return async () => {
    if (!own) return
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
  }
}
