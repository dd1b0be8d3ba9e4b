/**
 * The isolation matrix picture: who (actor kind, rows) reached what (context and
 * tenant relation, columns). One glance shows where isolation holds and where it leaks.
 */
import { MATRIX_VERDICTS } from '../core/run-result.js'
import type { MatrixCell, MatrixVerdict } from '../core/run-result.js'
import { escapeHtml } from './escape.js'

/** Display order of actor kinds: most privileged first, anonymous last; unknown kinds follow. */
export const ACTOR_ORDER: readonly string[] = [
  'platform_admin', 'support', 'account_admin', 'admin', 'editor', 'viewer', 'anonymous',
]

const LABEL: Readonly<Record<MatrixVerdict, string>> = {
  allowed: 'allowed',
  denied: 'denied',
  leaked: 'leaked',
  'wrongly-denied': 'wrongly denied',
  'not-tested': 'not tested',
}

const MEANING: Readonly<Record<MatrixVerdict, string>> = {
  allowed: 'policy allows it and the target served it',
  denied: 'policy denies it and the target refused it',
  leaked: 'policy denies it but the target served it or leaked data',
  'wrongly-denied': 'policy allows it but the target refused it',
  'not-tested': 'no request probed this pair',
}

// Several cells for one pair (e.g. from sharded runs) merge to the worst verdict.
function merge(cells: readonly MatrixCell[]): Map<string, { verdict: MatrixVerdict; probes: number }> {
  const out = new Map<string, { verdict: MatrixVerdict; probes: number }>()
  for (const c of cells) {
    const key = JSON.stringify([c.actorKind, c.column])
    const prev = out.get(key)
    if (prev === undefined) out.set(key, { verdict: c.verdict, probes: c.probes })
    else {
      const worse = MATRIX_VERDICTS.indexOf(c.verdict) < MATRIX_VERDICTS.indexOf(prev.verdict) ? c.verdict : prev.verdict
      out.set(key, { verdict: worse, probes: prev.probes + c.probes })
    }
  }
  return out
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)]
}

/** Row order for a matrix: known kinds in {@link ACTOR_ORDER}, the rest in first-seen order. */
export function matrixRows(cells: readonly MatrixCell[]): string[] {
  const kinds = unique(cells.map((c) => c.actorKind))
  return [...ACTOR_ORDER.filter((k) => kinds.includes(k)), ...kinds.filter((k) => !ACTOR_ORDER.includes(k))]
}

/** Renders the matrix section; every (actor kind, column) pair gets exactly one cell. */
export function renderMatrix(cells: readonly MatrixCell[] | undefined): string {
  if (cells === undefined || cells.length === 0) {
    return '<section id="matrix"><h2>Isolation matrix</h2><p class="muted">No isolation matrix was recorded in this run.</p></section>'
  }
  const rows = matrixRows(cells)
  const columns = unique(cells.map((c) => c.column))
  const merged = merge(cells)
  const head = columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')
  const body = rows
    .map((kind) => {
      const tds = columns.map((column) => {
        const cell = merged.get(JSON.stringify([kind, column])) ?? { verdict: 'not-tested' as const, probes: 0 }
        const title = `${kind} → ${column}: ${LABEL[cell.verdict]} (${cell.probes} probes)`
        return `<td class="v-${cell.verdict}" data-verdict="${cell.verdict}" data-actor="${escapeHtml(kind)}" data-column="${escapeHtml(column)}" title="${escapeHtml(title)}">${LABEL[cell.verdict]}<span class="probes">${cell.probes}</span></td>`
      })
      return `<tr><th scope="row">${escapeHtml(kind)}</th>${tds.join('')}</tr>`
    })
    .join('\n')
  const legend = MATRIX_VERDICTS.map(
    (v) => `<li><span class="swatch v-${v}" data-legend="${v}">${LABEL[v]}</span> ${escapeHtml(MEANING[v])}</li>`,
  ).join('')
  return [
    '<section id="matrix"><h2>Isolation matrix</h2>',
    '<div class="scroll"><table id="isolation-matrix" class="matrix">',
    '<caption>Rows: actor kinds. Columns: context and tenant relation. Number: probes sent.</caption>',
    `<thead><tr><th scope="col">actor</th>${head}</tr></thead>`,
    `<tbody>\n${body}\n</tbody></table></div>`,
    `<ul class="legend">${legend}</ul></section>`,
  ].join('\n')
}
