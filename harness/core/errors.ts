/**
 * Harness faults. The split that decides the exit code:
 * a harness fault is *thrown* as a {@link HarnessError} (exit 2, "could not run"),
 * while target misbehaviour is *returned* as findings (exit 1, "ran and found something").
 * A check must never throw to report a target defect.
 */

/**
 * Closed set of reasons the harness could not do its job. Each is stable and
 * machine-readable, so the CLI and CI can branch on it without parsing messages.
 */
export type HarnessErrorCode =
  /** The target did not answer at all (DNS, connect refused, TLS). */
  | 'ERR_TARGET_UNREACHABLE'
  /** The target answered but cannot be audited (e.g. health check or token endpoint broken). */
  | 'ERR_TARGET_BROKEN'
  /** The target profile failed validation. */
  | 'ERR_PROFILE_INVALID'
  /** The OpenAPI contract is missing, unparsable or lacks what the harness needs. */
  | 'ERR_CONTRACT_INVALID'
  /** The request budget ran out; stopping is the safe answer on a real deployment. */
  | 'ERR_BUDGET_EXHAUSTED'
  /** The target kept throttling one request past the profile's `throttle` bounds. */
  | 'ERR_TARGET_THROTTLED'
  /** Accounts, workspaces, users or canary data could not be created. */
  | 'ERR_PROVISION_FAILED'
  /** The user asked for something impossible (bad flag, unknown check glob). */
  | 'ERR_USAGE'
  /** The check registry is inconsistent (duplicate or malformed ids). */
  | 'ERR_REGISTRY'
  /** A bug in the harness itself. */
  | 'ERR_INTERNAL'

const CODES: ReadonlySet<string> = new Set<HarnessErrorCode>([
  'ERR_TARGET_UNREACHABLE',
  'ERR_TARGET_BROKEN',
  'ERR_PROFILE_INVALID',
  'ERR_CONTRACT_INVALID',
  'ERR_BUDGET_EXHAUSTED',
  'ERR_TARGET_THROTTLED',
  'ERR_PROVISION_FAILED',
  'ERR_USAGE',
  'ERR_REGISTRY',
  'ERR_INTERNAL',
])

/**
 * The one error type the harness throws on purpose. Anything else escaping a
 * check is wrapped as `ERR_INTERNAL` by the runner.
 */
export class HarnessError extends Error {
  /** Stable machine-readable reason; see {@link HarnessErrorCode}. */
  readonly code: HarnessErrorCode

  /**
   * @param code - why the harness could not run
   * @param message - a human sentence saying what to fix
   * @param options - `cause` keeps the underlying error for `--verbose` output
   */
  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HarnessError'
    this.code = code
  }
}

/**
 * Narrowing guard that also works across module copies (duck-typed on `code`),
 * since vitest workers may load the harness more than once.
 */
export function isHarnessError(value: unknown): value is HarnessError {
  if (value instanceof HarnessError) return true
  if (!(value instanceof Error)) return false
  const code = (value as { code?: unknown }).code
  return value.name === 'HarnessError' && typeof code === 'string' && CODES.has(code)
}
