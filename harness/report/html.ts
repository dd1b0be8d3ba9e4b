/**
 * report.html: one self-contained page for people. Every interpolated value is
 * escaped (response bodies are attacker-shaped), and a CSP forbids any fetch,
 * so the page can be opened from an untrusted CI artifact safely.
 */
import { createHash } from 'node:crypto'
import { CHECK_STATUSES } from '../core/check.js'
import type { Finding } from '../core/finding.js'
import { DEFAULT_FAIL_ON, exitCode } from '../core/run-result.js'
import type { AuditReport } from '../core/run-result.js'
import { SEVERITIES } from '../core/severity.js'
import type { Severity } from '../core/severity.js'
import { escapeHtml as e, safeJson } from './escape.js'
import { SCRIPT, STYLE } from './html-assets.js'
import { renderMatrix } from './html-matrix.js'
import { countReport, describeTraffic, formatDuration, plural, sortFindings } from './summary.js'

/** Options for the human formats. */
export interface RenderOptions {
  /** The `--fail-on` threshold, used to state the exit status. Default {@link DEFAULT_FAIL_ON}. */
  failOn?: Severity | undefined
}

const EXIT_TEXT = ['clean', 'findings at or above the fail-on threshold', 'the harness could not run every check, or every check was inconclusive'] as const

function header(report: AuditReport, failOn: Severity): string {
  const { run } = report
  const code = exitCode(report, failOn)
  const rows: Array<[string, string]> = [
    ['Target', `${run.target.name} — ${run.target.baseUrl}`],
    ['Run', `${run.id}, started ${run.startedAt}`],
    ['Seed', String(run.seed)],
    ['Duration', formatDuration(run.durationMs)],
    ['Requests', String(run.requests) + (describeTraffic(run.traffic) ? ` (${describeTraffic(run.traffic)})` : '')],
    ['Faults', run.faults.length === 0 ? 'none' : run.faults.join(', ')],
  ]
  const dl = rows.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')
  return `<header><h1>tenant-audit report</h1>
<p><span class="status exit-${code}" id="exit-status">exit ${code}</span> ${e(EXIT_TEXT[code])} (fail-on: ${e(failOn)})</p>
<dl class="meta">${dl}</dl></header>`
}

function summary(report: AuditReport): string {
  const counts = countReport(report)
  const card = (label: string, n: number, cls = ''): string => `<div class="${cls === '' ? 'card' : `card ${cls}`}"><b>${n}</b>${e(label)}</div>`
  const checks = CHECK_STATUSES.map((s) => card(`checks ${s}`, counts.checks[s], `st-${s}`))
  const sev = SEVERITIES.map((s) => card(s, counts.findings[s]))
  return `<section id="summary"><h2>Summary</h2>
<div class="cards">${checks.join('')}</div>
<h3>${e(plural(counts.totalFindings, 'finding'))} by severity</h3><div class="cards">${sev.join('')}</div></section>`
}

// Under the check's title: what a passed check learned (the largest clock skew accepted, …).
function notes(lines: readonly string[] | undefined): string {
  if (lines === undefined || lines.length === 0) return ''
  return `<ul class="notes">${lines.map((n) => `<li>${e(n)}</li>`).join('')}</ul>`
}

function checksTable(report: AuditReport): string {
  const rows = report.checks.map(
    (c) =>
      `<tr><td><code>${e(c.id)}</code></td><td>${e(c.title)}${notes(c.notes)}</td><td><span class="badge sev-${c.severity}">${e(c.severity)}</span></td>` +
      `<td class="st-${c.status}">${e(c.status)}</td><td>${c.findings}</td><td>${c.requests}</td><td>${e(formatDuration(c.durationMs))}</td><td>${e(c.reason ?? '')}</td></tr>`,
  )
  return `<section id="checks"><h2>Checks</h2><div class="scroll"><table>
<thead><tr><th>check</th><th>title</th><th>severity</th><th>status</th><th>findings</th><th>requests</th><th>duration</th><th>reason</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div></section>`
}

function exchange(lines: string[], headers: Record<string, string>, body: string | undefined): string {
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  if (body !== undefined) lines.push('', body)
  return e(lines.join('\n'))
}

function finding(f: Finding): string {
  const meta: Array<[string, string | undefined]> = [
    ['check', f.checkId],
    ['actor', f.actor],
    ['victim', f.victim],
    ['operation', f.operation === undefined ? undefined : `${f.operation.method.toUpperCase()} ${f.operation.pathTemplate}`],
    ['weakness', `CWE-${f.cwe} · OWASP ${f.owasp}`],
    ['fingerprint', f.fingerprint],
  ]
  const dl = meta.filter(([, v]) => v !== undefined).map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v ?? '')}</dd>`).join('')
  const parts = [
    `<article class="finding" id="${e(f.id)}" data-severity="${f.severity}">`,
    `<h3><span class="badge sev-${f.severity}">${e(f.severity)}</span> ${e(f.id)} — ${e(f.title)}</h3>`,
    `<p>${e(f.message)}</p><dl class="meta">${dl}</dl>`,
  ]
  if (f.evidence !== undefined) {
    const { request: q, response: r } = f.evidence
    parts.push(
      `<div class="evidence"><div><h4>Request</h4><pre>${exchange([`${q.method} ${q.url}`], q.headers, q.body)}</pre></div>` +
        `<div><h4>Response</h4><pre>${exchange([`HTTP ${r.status}`], r.headers, r.body)}</pre></div></div>`,
    )
  }
  if (f.repro !== undefined) {
    const p = f.repro
    const curlId = `curl-${f.id}`
    parts.push(
      `<h4>Reproduce <button type="button" class="copy" data-target="${e(curlId)}">copy</button></h4><pre id="${e(curlId)}">${e(p.curl)}</pre>`,
      `<p class="muted">seed ${e(String(p.seed))}${p.path === undefined ? '' : ` · path ${e(p.path)}`}</p>`,
    )
    if (p.counterexample !== undefined) parts.push(`<h4>Counterexample</h4><pre>${e(safeJson(p.counterexample))}</pre>`)
  }
  parts.push('</article>')
  return parts.join('\n')
}

function findingsSection(report: AuditReport): string {
  if (report.findings.length === 0) return '<section id="findings"><h2>Findings</h2><p>No findings.</p></section>'
  const filters = SEVERITIES.map((s) => `<label><input type="checkbox" value="${s}" checked> ${s}</label>`).join('')
  return `<section id="findings"><h2>Findings</h2><p class="filters">${filters}</p>
${sortFindings(report.findings).map(finding).join('\n')}</section>`
}

/** Renders report.html: header, summary, isolation matrix, checks, findings. */
export function render(report: AuditReport, options: RenderOptions = {}): string {
  const failOn = options.failOn ?? DEFAULT_FAIL_ON
  // The script's hash, not 'unsafe-inline': injected markup could never run script even if escaping failed.
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64')
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${scriptHash}'`
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tenant-audit — ${e(report.run.target.name)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style></head>
<body>
${header(report, failOn)}
${summary(report)}
${renderMatrix(report.matrix)}
${checksTable(report)}
${findingsSection(report)}
<script>${SCRIPT}</script>
</body></html>
`
}
