import type { FindingInput } from '../core/finding.js'

/**
 * The findings of a walk, one per defect (per `dedupKey`): the first call that showed it is the
 * evidence, and the other actors that ran into the same defect are named in its message, so four
 * roles tripping over one missing filter read as one finding, not four.
 */
export class FindingCollector {
  private readonly found = new Map<string, { finding: FindingInput; also: Set<string>; first: string | undefined }>()

  /** Keeps the first finding per key; later ones add their `variant` (by default their actor) to its "the same for" list. */
  add(finding: FindingInput | undefined, variant: string | undefined = finding?.actor): void {
    if (!finding) return
    const prev = this.found.get(finding.dedupKey)
    if (!prev) this.found.set(finding.dedupKey, { finding, also: new Set(), first: variant })
    else if (variant && variant !== prev.first) prev.also.add(variant)
  }

  get size(): number {
    return this.found.size
  }

  list(): FindingInput[] {
    return [...this.found.values()].map(({ finding, also }) => {
      if (also.size === 0) return finding
      const names = [...also]
      const list = names.length > 6 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
      return { ...finding, message: `${finding.message}; the same for ${list}` }
    })
  }
}
