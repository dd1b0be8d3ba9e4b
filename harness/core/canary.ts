import type { ContractOperation, Tenancy } from './contract.js'
import { maySee } from './oracle.js'
import type { Actor, SeededObject, Topology } from './topology.js'

/**
 * Canaries: every seeded object carries a unique marker; any response to an actor that contains
 * the marker of an object that actor may not see is a leak, whatever the route, status or header.
 */
export function makeCanary(tag: string, n: number): string {
  // Letters and digits only: survives JSON, HTML and URL encoding unchanged, so a plain search finds it.
  return `zq${tag}x${n.toString(36)}q`
}

export interface Leak {
  object: SeededObject
  /** Where it was seen: 'body' or a header name. */
  where: string
}

export class LeakDetector {
  private readonly byCanary = new Map<string, SeededObject>()
  private readonly pattern: RegExp

  constructor(
    private readonly topology: Topology,
    private readonly ops: readonly (ContractOperation & { tenancy: Tenancy })[],
  ) {
    for (const o of topology.objects) this.byCanary.set(o.canary, o)
    this.pattern = new RegExp(`zq${topology.tag}x[0-9a-z]+q`, 'g')
  }

  /** Objects whose canary appears in `text` (deduplicated), by label: never in the order a list happened to answer. */
  objectsIn(text: string): SeededObject[] {
    const found = new Map<string, SeededObject>()
    for (const m of text.matchAll(this.pattern)) {
      const o = this.byCanary.get(m[0])
      if (o) found.set(o.label, o)
    }
    return [...found.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
  }

  /** Foreign canaries in a response to `actor`: in the body or any header. */
  scan(actor: Actor, response: { body: string; headers: Record<string, string> }): Leak[] {
    const leaks: Leak[] = []
    const check = (text: string, where: string) => {
      for (const o of this.objectsIn(text)) if (!maySee(this.ops, actor, o)) leaks.push({ object: o, where })
    }
    check(response.body, 'body')
    for (const [name, value] of Object.entries(response.headers)) check(value, `header ${name}`)
    return leaks
  }
}
