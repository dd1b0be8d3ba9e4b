import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { authFailuresRecorded } from './auth-failures-recorded.check.js'
import { chainVerifies } from './chain-verifies.check.js'
import { checkpointAnchored } from './checkpoint-anchored.check.js'
import { denialsRecorded } from './denials-recorded.check.js'
import { eventFields } from './event-fields.check.js'
import { failedChanges } from './failed-changes.check.js'
import { immutable } from './immutable.check.js'
import { noSecrets } from './no-secrets.check.js'
import { principalAccessRecorded } from './principal-access-recorded.check.js'
import { readIsolation } from './read-isolation.check.js'
import { timeliness } from './timeliness.check.js'
import { writesRecorded } from './writes-recorded.check.js'
import { NO_AUDIT_API, auditOps } from '../../harness/audit/trail.js'

/**
 * The audit suite's checks, in run and report order (`suites/audit/audit.suite.ts` runs them).
 * Coverage first, then the event's content and the read API, then integrity (the chain, then its
 * anchoring by signed checkpoints); `immutable` last,
 * because on a faulty target its attempts may really delete events.
 */
const CHECKS: CheckDefinition<CheckContext>[] = [
  writesRecorded,
  denialsRecorded,
  failedChanges,
  authFailuresRecorded,
  principalAccessRecorded,
  eventFields,
  timeliness,
  readIsolation,
  noSecrets,
  chainVerifies,
  checkpointAnchored,
  immutable,
]

/** Every audit check reads trails: without an operation playing the audit role, each is skipped with the same reason, before and during the run. */
export const AUDIT_CHECKS: CheckDefinition<CheckContext>[] = CHECKS.map((c) => ({
  ...c,
  applies: (view) => (auditOps(view.contract).all.length === 0 ? NO_AUDIT_API : c.applies?.(view)),
}))
