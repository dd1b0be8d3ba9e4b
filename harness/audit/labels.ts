import type { Topology } from '../core/topology.js'

/** A trail by label: `a0`, `platform`, or `another tenant` for accounts this run did not provision (stable across runs). */
export function trailLabel(t: Topology, accountId: string | null): string {
  if (accountId === null) return 'platform'
  return t.accounts.find((a) => a.id === accountId)?.label ?? 'another tenant'
}
