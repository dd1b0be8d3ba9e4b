import type { MatrixCell, MatrixVerdict } from '../core/run-result.js'
import type { Actor, Topology } from '../core/topology.js'
import type { OpTarget } from '../core/oracle.js'
import { relation } from '../core/oracle.js'
import type { Judgement, Op } from './judge.js'

const RANK: Record<MatrixVerdict, number> = { leaked: 4, 'wrongly-denied': 3, allowed: 2, denied: 1, 'not-tested': 0 }

/** The matrix column of a call: its context and where the target sits relative to the actor. */
export function column(t: Topology, actor: Actor, op: Op, target: OpTarget): string {
  const { context, scope } = op.tenancy
  // Principals and anonymous callers have no tenant of their own: one column per context.
  if (context === 'portal' || actor.kind !== 'user') return context
  if (scope === 'account') return `${context}:${target.accountId === actor.accountId ? 'own-account' : 'other-account'}`
  if (scope === 'workspace') {
    // A foreign object reached through the actor's own workspace belongs where the object lives.
    const rel = relation(actor, t, target.object?.workspaceId ?? target.workspaceId)
    return `${context}:${rel === 'none' ? 'own-workspace' : rel}`
  }
  return context
}

const COLUMN_ORDER = ['app', 'app:own-workspace', 'app:sibling-workspace', 'app:other-account', 'dashboard', 'dashboard:own-workspace',
  'dashboard:sibling-workspace', 'dashboard:other-account', 'dashboard:own-account', 'portal']

/** Canonical column order (context, then own → sibling → other), unknown columns last. */
export function sortCells(cells: MatrixCell[]): MatrixCell[] {
  const rank = (c: string) => (COLUMN_ORDER.includes(c) ? COLUMN_ORDER.indexOf(c) : COLUMN_ORDER.length)
  return cells.sort((a, b) => rank(a.column) - rank(b.column) || a.column.localeCompare(b.column))
}

/** Collects (actor kind × column) verdicts; a cell keeps its worst verdict. */
export class MatrixRecorder {
  private readonly cells = new Map<string, MatrixCell>()

  record(t: Topology, actor: Actor, op: Op, target: OpTarget, j: Judgement): void {
    const verdict: MatrixVerdict = j.problems.includes('leak') || j.problems.includes('wrongly-allowed')
      ? 'leaked'
      : j.problems.includes('wrongly-denied') ? 'wrongly-denied' : j.status >= 200 && j.status < 300 ? 'allowed' : 'denied'
    const col = column(t, actor, op, target)
    const key = `${actor.actorKind}|${col}`
    const cell = this.cells.get(key) ?? { actorKind: actor.actorKind, column: col, verdict: 'not-tested', probes: 0 }
    cell.probes++
    if (RANK[verdict] > RANK[cell.verdict]) cell.verdict = verdict
    this.cells.set(key, cell)
  }

  toJSON(): MatrixCell[] {
    return [...this.cells.values()]
  }
}

/** Merges matrices from several checks, keeping the worst verdict per cell. */
export function mergeMatrices(parts: readonly MatrixCell[][]): MatrixCell[] {
  const out = new Map<string, MatrixCell>()
  for (const cells of parts) {
    for (const c of cells) {
      const key = `${c.actorKind}|${c.column}`
      const prev = out.get(key)
      if (!prev) out.set(key, { ...c })
      else {
        prev.probes += c.probes
        if (RANK[c.verdict] > RANK[prev.verdict]) prev.verdict = c.verdict
      }
    }
  }
  return sortCells([...out.values()])
}
