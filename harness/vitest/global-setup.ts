import type { TestProject } from 'vitest/node'
import { prepareAudit, type PreparedAudit } from '../engine/prepare.js'
import { RunInterrupt } from '../engine/interrupt.js'
import { readSettings } from './settings.js'
import { preparedAudit, setRunState } from './state.js'

/**
 * Once per audit, in the main process. Under `tenant-audit run` the CLI has already prepared the
 * audit (so its errors are one clear line, exit 2), owns Ctrl-C, and this only hands the topology to
 * the suites; under a plain `vitest --config harness/vitest/audit.config.ts` it prepares the audit
 * itself and handles Ctrl-C as the CLI does (RunInterrupt: Vitest stopped, everything the harness
 * created removed, exit 130), from before its first request.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let audit: PreparedAudit | undefined = preparedAudit()
  if (audit) {
    project.provide('tenantAudit', audit.provided)
    return async () => {}
  }
  const interrupt = new RunInterrupt().install()
  interrupt.onStop(() => (void project.vitest.cancelCurrentRun('keyboard-input'), project.vitest.close()))
  try {
    audit = await prepareAudit(readSettings(), { signal: interrupt.signal, onUndo: (undo) => interrupt.setUndo(undo) })
  } catch (err) {
    if (interrupt.fired) await interrupt.exited
    interrupt.uninstall()
    throw err
  }
  setRunState(audit.state)
  project.provide('tenantAudit', audit.provided)
  const { cleanup } = audit
  return async () => {
    // An interrupt's handler runs the same (idempotent) cleanup and exits; a normal end removes the handler first.
    if (!interrupt.fired) interrupt.uninstall()
    await cleanup()
  }
}
