/**
 * A probe the harness cannot send (the target's schema admits no body the harness can build, say).
 * Not a harness fault and never a finding: the check that asked for it ends as `skipped` with this
 * message as its reason. Thrown rather than returned so that every call site, including those inside
 * fast-check properties, stops at once without sending; `findingsFrom` and the Vitest bridge map it.
 */
export class ProbeSkipped extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProbeSkipped'
  }
}

/** Duck-typed like `isHarnessError`, since vitest workers may load the harness more than once. */
export function isProbeSkipped(value: unknown): value is ProbeSkipped {
  return value instanceof ProbeSkipped || (value instanceof Error && value.name === 'ProbeSkipped')
}
