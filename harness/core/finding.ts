/**
 * Findings: what a check returns when the target misbehaves. Findings are data,
 * never exceptions; see errors.ts for the other half of that rule.
 */
import { createHash } from 'node:crypto'
import type { Severity } from './severity.js'

/** A request as it went out, already redacted (see redact.ts) and truncated. */
export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string>
  /** At most {@link MAX_EVIDENCE_BODY_BYTES} of UTF-8; `undefined` when there was no body. */
  body?: string | undefined
}

/** A response as it came back, already redacted and truncated. */
export interface RecordedResponse {
  status: number
  headers: Record<string, string>
  body?: string | undefined
}

/** The exchange that shows the defect. */
export interface Evidence {
  request: RecordedRequest
  response: RecordedResponse
}

/** Everything `tenant-audit replay` needs to re-run the failing case. */
export interface Repro {
  /** fast-check seed of the run that failed. */
  seed: number
  /** fast-check replay path of the shrunk case (`fc.check(...).counterexamplePath`). */
  path?: string | undefined
  /** The shrunk counterexample, redacted, as plain JSON data. */
  counterexample?: unknown
  /** One-line curl with `$TOKEN` in place of credentials (see curl.ts). */
  curl: string
}

/** The contract operation a finding is about, when the check knows it. */
export interface OperationRef {
  method: string
  /** OpenAPI path template, e.g. `/app/v1/workspaces/{workspaceId}/documents`. */
  pathTemplate: string
  operationId?: string | undefined
}

/** One defect, as it lands in findings.json. */
export interface Finding {
  /** `F-0001`…, stable within one run (assigned in check order). */
  id: string
  checkId: string
  severity: Severity
  title: string
  message: string
  cwe: number
  /** OWASP API Security Top 10 id, e.g. `API1:2023`. */
  owasp: string
  /** Actor kind or label that made the request (e.g. `editor@account-a`). */
  actor?: string | undefined
  /** Whose data or tenant was reached (e.g. `account-b/workspace-1`). */
  victim?: string | undefined
  operation?: OperationRef | undefined
  evidence?: Evidence | undefined
  repro?: Repro | undefined
  /** SHA-256 hex of checkId and the dedup key; lets SARIF track a finding across runs. */
  fingerprint: string
}

/**
 * What a check's `run` returns per defect. Severity, title, CWE and OWASP default
 * to the check's own; the runner fills `checkId` and the run-wide `id`.
 */
export interface FindingInput {
  message: string
  /**
   * Identity of the defect across runs, independent of random ids and seeds:
   * e.g. `documents.read|editor|other-account`. Two findings with the same key
   * are the same defect.
   */
  dedupKey: string
  /**
   * True when the finding is about how a call was refused (refused although the policy allows it,
   * a status that discloses existence, the shape of a refusal): it means something only while the
   * target serves genuine calls, so a failed positive control drops it. A 2xx to a forbidden call
   * or a leaked canary never rests on a refusal and always stands. Not written to findings.json.
   */
  restsOnRefusal?: boolean | undefined
  severity?: Severity | undefined
  title?: string | undefined
  cwe?: number | undefined
  owasp?: string | undefined
  actor?: string | undefined
  victim?: string | undefined
  operation?: OperationRef | undefined
  evidence?: Evidence | undefined
  repro?: Repro | undefined
}

/** Fully resolved input for {@link createFinding}. */
export interface NewFinding extends FindingInput {
  /** 1-based position of the finding in the run; becomes `F-0001`. */
  seq: number
  checkId: string
  severity: Severity
  title: string
  cwe: number
  owasp: string
}

/** Run-wide finding id: `F-0001`, `F-0002`, … (more digits past 9999). */
export function formatFindingId(seq: number): string {
  return `F-${String(seq).padStart(4, '0')}`
}

/**
 * Stable fingerprint of a defect. The NUL separator keeps `a` + `b/c` apart
 * from `a/b` + `c`.
 */
export function fingerprintOf(checkId: string, dedupKey: string): string {
  return createHash('sha256').update(`${checkId}\u0000${dedupKey}`).digest('hex')
}

/** Builds a {@link Finding}: assigns its id and computes its fingerprint. */
export function createFinding(input: NewFinding): Finding {
  const finding: Finding = {
    id: formatFindingId(input.seq),
    checkId: input.checkId,
    severity: input.severity,
    title: input.title,
    message: input.message,
    cwe: input.cwe,
    owasp: input.owasp,
    fingerprint: fingerprintOf(input.checkId, input.dedupKey),
  }
  // Optional fields are only set when present so findings.json carries no `null` noise.
  if (input.actor !== undefined) finding.actor = input.actor
  if (input.victim !== undefined) finding.victim = input.victim
  if (input.operation !== undefined) finding.operation = input.operation
  if (input.evidence !== undefined) finding.evidence = input.evidence
  if (input.repro !== undefined) finding.repro = input.repro
  return finding
}
