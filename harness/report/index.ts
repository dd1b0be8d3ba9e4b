/**
 * Report writers: one renderer per format, keyed by file name (as vitest keys
 * reporters by name), and {@link writeReports}, which replaces the output folder.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { HarnessError } from '../core/errors.js'
import { createSecretScrubber, redactJwts } from '../core/redact.js'
import type { AuditReport } from '../core/run-result.js'
import type { Severity } from '../core/severity.js'
import { render as renderHtml } from './html.js'
import { render as renderJson } from './json.js'
import { render as renderJunit } from './junit.js'
import { render as renderMarkdown } from './markdown.js'
import { render as renderSarif } from './sarif.js'

export { render as renderHtml } from './html.js'
export type { RenderOptions } from './html.js'
export { render as renderJson } from './json.js'
export { render as renderJunit } from './junit.js'
export { render as renderMarkdown } from './markdown.js'
export { render as renderSarif } from './sarif.js'

/** Options for {@link writeReports}. */
export interface WriteReportsOptions {
  /** Known secret values (passwords, tokens) scrubbed from every file as a last line of defence. */
  secrets?: readonly string[] | undefined
  /** The `--fail-on` threshold, shown as the exit status in report.html. */
  failOn?: Severity | undefined
}

/** The five output files and how each is rendered; findings.json first, as the canonical one. */
export const REPORT_FILES: Readonly<Record<string, (report: AuditReport, options: WriteReportsOptions) => string>> = {
  'findings.json': (r) => renderJson(r),
  'junit.xml': (r) => renderJunit(r),
  'results.sarif': (r) => renderSarif(r),
  'report.html': (r, o) => renderHtml(r, { failOn: o.failOn }),
  'summary.md': (r) => renderMarkdown(r),
}

const isWithin = (child: string, parent: string): boolean => {
  const rel = path.relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

// The folder is deleted and replaced, so a mistyped --out must not take a
// project or home directory with it: only an empty folder or a previous report folder is replaced.
async function assertReplaceable(dir: string): Promise<boolean> {
  for (const precious of [path.parse(dir).root, process.cwd(), homedir()]) {
    if (isWithin(precious, dir)) throw new HarnessError('ERR_USAGE', `refusing to replace ${dir}: it contains ${precious}`)
  }
  const info = await stat(dir).catch(() => undefined)
  if (info === undefined) return false
  if (!info.isDirectory()) throw new HarnessError('ERR_USAGE', `--out ${dir} exists and is not a directory`)
  const entries = await readdir(dir, { withFileTypes: true })
  const looksLikeReport = entries.some((d) => d.isFile() && d.name === 'findings.json') && entries.every((d) => !d.isDirectory())
  if (entries.length > 0 && !looksLikeReport) {
    throw new HarnessError('ERR_USAGE', `refusing to replace ${dir}: it is neither empty nor a tenant-audit report folder`)
  }
  return true
}

/**
 * Renders every format and replaces `outDir` with a folder holding exactly the
 * five files. Files are written to a sibling temp folder first and swapped in,
 * so a crash never leaves half a report. Every output passes through the
 * secret scrubber (and a JWT scrub) before it touches the disk.
 * @returns absolute paths of the written files
 * @throws HarnessError `ERR_USAGE` when `outDir` is unsafe to replace or cannot be written
 */
export async function writeReports(report: AuditReport, outDir: string, options: WriteReportsOptions = {}): Promise<string[]> {
  const dir = path.resolve(outDir)
  const exists = await assertReplaceable(dir)
  const scrub = createSecretScrubber(options.secrets ?? [])
  const outputs = Object.entries(REPORT_FILES).map(
    ([name, render]) => [name, redactJwts(scrub(render(report, options)), '[redacted-jwt]')] as const,
  )

  const parent = path.dirname(dir)
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${tag}`)
  const old = path.join(parent, `.${path.basename(dir)}.old-${tag}`)
  try {
    await mkdir(tmp, { recursive: true })
    await Promise.all(outputs.map(([name, text]) => writeFile(path.join(tmp, name), text, 'utf8')))
    if (exists) await rename(dir, old)
    try {
      await rename(tmp, dir)
    } catch (err) {
      if (exists) await rename(old, dir) // put the previous report back
      throw err
    }
  } catch (cause) {
    await rm(tmp, { recursive: true, force: true })
    if (cause instanceof HarnessError) throw cause
    throw new HarnessError('ERR_USAGE', `cannot write reports to ${dir}: ${(cause as Error).message}`, { cause })
  }
  await rm(old, { recursive: true, force: true })
  return outputs.map(([name]) => path.join(dir, name))
}
