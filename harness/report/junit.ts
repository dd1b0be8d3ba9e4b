/**
 * junit.xml for CI test tabs: one `<testsuite>` per suite, one `<testcase>` per
 * check. A check that found something is a failure whose body lists each
 * finding; a check the harness could not run is an `<error>`, because CI must
 * tell "the target is broken" from "the audit is broken".
 */
import { SUITES } from '../core/check.js'
import type { CheckResult } from '../core/check.js'
import type { Finding } from '../core/finding.js'
import type { AuditReport } from '../core/run-result.js'
import { escapeXml, escapeXmlAttr } from './escape.js'
import { plural } from './summary.js'

const seconds = (ms: number): string => (ms / 1000).toFixed(3)

function findingText(f: Finding): string {
  const lines = [`[${f.id}] ${f.severity}: ${f.message}`]
  if (f.actor !== undefined || f.victim !== undefined) lines.push(`  actor: ${f.actor ?? '-'}  victim: ${f.victim ?? '-'}`)
  if (f.repro !== undefined) {
    lines.push(`  seed: ${f.repro.seed}${f.repro.path === undefined ? '' : `  path: ${f.repro.path}`}`)
    lines.push(`  ${f.repro.curl}`)
  }
  return lines.join('\n')
}

/**
 * A testcase's `<properties>`: the inconclusive status, then one `tenant-audit.note` per note.
 * Properties rather than `<system-out>`: they are name/value data a tool can pick out (the same
 * place the status property already uses, and where pytest's `record_property` puts per-test
 * facts), one per note; system-out is free text meant for a process's output.
 */
function caseProperties(check: CheckResult): string {
  const props: Array<[string, string]> = []
  if (check.status === 'inconclusive') props.push(['tenant-audit.status', 'inconclusive'])
  for (const note of check.notes ?? []) props.push(['tenant-audit.note', note])
  if (props.length === 0) return ''
  const lines = props.map(([k, v]) => `        <property name="${escapeXmlAttr(k)}" value="${escapeXmlAttr(v)}"/>`)
  return `\n      <properties>\n${lines.join('\n')}\n      </properties>`
}

function outcome(check: CheckResult, findings: readonly Finding[]): string {
  switch (check.status) {
    case 'passed':
      return ''
    case 'skipped':
      return `\n      <skipped message="${escapeXmlAttr(check.reason ?? 'skipped')}"/>`
    case 'inconclusive':
      // JUnit has no fourth outcome. <skipped> is the honest one: the check did not pass and found
      // nothing; a <failure> would make CI read it as a defect of the target. The status property
      // lets a tool tell it from a plain skip.
      return `\n      <skipped message="${escapeXmlAttr(`inconclusive: ${check.reason ?? 'a positive control failed'}`)}"/>`
    case 'error':
      return `\n      <error message="${escapeXmlAttr(check.reason ?? 'the harness could not run this check')}" type="harness-error"/>`
    case 'failed': {
      const first = findings[0]
      const message = first === undefined ? `${plural(check.findings, 'finding')}` : first.message
      const body = findings.map(findingText).join('\n\n')
      return `\n      <failure message="${escapeXmlAttr(message)}" type="${escapeXmlAttr(check.severity)}">${escapeXml(body)}</failure>`
    }
  }
}

function testcase(check: CheckResult, findings: readonly Finding[]): string {
  const open = `    <testcase classname="${escapeXmlAttr(check.suite)}" name="${escapeXmlAttr(check.id)}" time="${seconds(check.durationMs)}">`
  const body = caseProperties(check) + outcome(check, findings)
  return body === '' ? `${open.slice(0, -1)}/>` : `${open}${body}\n    </testcase>`
}

function counts(checks: readonly CheckResult[]): string {
  const n = (s: CheckResult['status']): number => checks.filter((c) => c.status === s).length
  const time = checks.reduce((t, c) => t + c.durationMs, 0)
  return `tests="${checks.length}" failures="${n('failed')}" errors="${n('error')}" skipped="${n('skipped') + n('inconclusive')}" time="${seconds(time)}"`
}

// Run context repeated in every suite: the Surefire schema allows <properties> only there.
function runProperties(report: AuditReport): string {
  const run = report.run
  const props: Array<[string, string]> = [
    ['target', run.target.name],
    ['baseUrl', run.target.baseUrl],
    ['seed', String(run.seed)],
    ['faults', run.faults.join(',')],
    ['requests', String(run.requests)],
  ]
  const lines = props.map(([k, v]) => `      <property name="${escapeXmlAttr(k)}" value="${escapeXmlAttr(v)}"/>`)
  return `    <properties>\n${lines.join('\n')}\n    </properties>`
}

/** Renders the report as JUnit XML (the Jenkins/Surefire dialect most CI tools read). */
export function render(report: AuditReport): string {
  const bySuite = new Map<string, CheckResult[]>()
  // Canonical suite order first, then any suite a future check adds.
  const order = [...SUITES, ...report.checks.map((c) => c.suite)]
  for (const suite of order) if (!bySuite.has(suite)) bySuite.set(suite, [])
  for (const c of report.checks) bySuite.get(c.suite)?.push(c)

  const properties = runProperties(report)
  const suites: string[] = []
  for (const [suite, checks] of bySuite) {
    if (checks.length === 0) continue
    const cases = checks.map((c) => testcase(c, report.findings.filter((f) => f.checkId === c.id)))
    suites.push(
      `  <testsuite name="${escapeXmlAttr(suite)}" ${counts(checks)} timestamp="${escapeXmlAttr(report.run.startedAt)}">\n${properties}\n${cases.join('\n')}\n  </testsuite>`,
    )
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tenant-audit" ${counts(report.checks)}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n')
}
