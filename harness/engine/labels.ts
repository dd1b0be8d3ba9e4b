import type { Topology } from '../core/topology.js'

/**
 * The topology label behind an id (`a0.w1`, `a1.w0.editor`, `a0.w0.documents.0`), so a message says
 * "workspaceId is a0.w1" rather than a UUID; anything else as JSON.
 */
export function labelOf(t: Topology, value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? 'undefined'
  const node = t.accounts.flatMap((a) => [a, ...a.workspaces]).find((n) => n.id === value)
  return node?.label ?? t.actors.find((a) => a.id === value)?.label ?? t.objects.find((o) => o.id === value)?.label ?? value
}

/** How a message names a throwaway victim: `a throwaway documents in a0.w1`, `a throwaway workspaces in a1`. */
export function victimLabel(t: Topology, v: { resource: string; id: string; accountId: string; workspaceId: string }): string {
  if (v.id === v.accountId) return 'a throwaway account'
  return `a throwaway ${v.resource} in ${labelOf(t, v.id === v.workspaceId || !v.workspaceId ? v.accountId : v.workspaceId)}`
}
