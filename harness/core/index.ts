/**
 * Public surface of the harness engine core: named re-exports only, types
 * separately (verbatimModuleSyntax). Nothing here imports vitest, express, pg
 * or the reference server.
 */
export { HarnessError, isHarnessError } from './errors.js'
export type { HarnessErrorCode } from './errors.js'
export { ProbeSkipped, isProbeSkipped } from './skip.js'

export { SEVERITIES, severityRank, atOrAbove, compareSeverity, isSeverity } from './severity.js'
export type { Severity } from './severity.js'

export { createFinding, fingerprintOf, formatFindingId } from './finding.js'
export type {
  Evidence,
  Finding,
  FindingInput,
  NewFinding,
  OperationRef,
  RecordedRequest,
  RecordedResponse,
  Repro,
} from './finding.js'

export { CHECK_ID_PATTERN, CHECK_STATUSES, SUITES, checkFilePath, defineCheck, resolveFindings, toCheckResult } from './check.js'
export type { CheckDefinition, CheckOutcome, CheckResult, CheckStatus, CheckView, Suite } from './check.js'

export { ANONYMOUS_ROLE, ENTITY_ROLES, POLICY_ROLES, buildVocabulary, canonicalVerb, lacking } from './vocabulary.js'
export type { EntityRole, Mapping, MappingSource, OperationRole, PolicyRole, RawOperation, Role, Vocabulary } from './vocabulary.js'

export { createRegistry, globToRegExp } from './registry.js'
export type { CheckRegistry, Selection } from './registry.js'

export {
  createSecretScrubber,
  isSensitiveName,
  redactBody,
  redactHeaders,
  redactJwts,
  redactText,
  redactUrl,
} from './redact.js'
export type { HeaderInput } from './redact.js'

export { MAX_EVIDENCE_BODY_BYTES, recordEvidence, truncateBody } from './evidence.js'
export type { RawExchange } from './evidence.js'

export { shellQuote, toCurl } from './curl.js'

export { DEFAULT_FAIL_ON, MATRIX_VERDICTS, exitCode, exitCodeFor, hasHarnessErrors, onlyInconclusive } from './run-result.js'
export type { AuditReport, MatrixCell, MatrixVerdict, RunInfo } from './run-result.js'

export { auditReportSchema, parseAuditReport } from './report-schema.js'
