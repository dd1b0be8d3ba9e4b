import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

interface Report {
  run: { seed: number }
  checks: { id: string; requests: number; status: string }[]
  findings: { id: string; checkId: string; message: string; evidence?: { request: { method: string } }; repro?: { seed: number; path?: string; counterexample?: Record<string, unknown> } }[]
}
const read = (out: string) => JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
/** Server-generated ids differ between runs; labels, counts and messages must not. */
const normalise = (s: string) => s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>').replace(/zq[0-9a-f]{6}x[0-9a-z]+q/g, '<canary>')
const FAULTED = ['run', '--faults', 'document-read-ignores-workspace', '--checks', 'access/cross-tenant-read', '--seed', '11', '--topology', 'small']

/**
 * That the same seed gives the same topology, requests, findings and shrunk counterexamples is
 * test/determinism-concurrent.test.ts's (two whole audits at once, compared field by field). Here: one
 * faulted run, shrunk and replayed, against the faulty server and against the clean one.
 */
describe('shrinking and replay', { timeout: CLI_TIMEOUT }, () => {
  let faulted: Promise<string> | undefined
  /** The one faulted run both tests start from (exit 1), its findings.json's path. */
  const faultedReport = () => (faulted ??= (async () => {
    const out = tempOut('faulted')
    const res = await runCli([...FAULTED, '--out', out])
    expect(res.code, res.stderr).toBe(1)
    return join(out, 'findings.json')
  })())

  it('the counterexample is shrunk to one actor and one request, and replay reproduces it', async () => {
    const file = await faultedReport()
    const [finding] = read(dirname(file)).findings
    expect(finding).toBeDefined()
    const example = finding!.repro!.counterexample!
    // One probe: an actor (by label), one operation, one object; nothing else survived shrinking.
    expect(typeof example.actor).toBe('string')
    expect(example.actor).toMatch(/^a\d+\.w\d+\./)
    expect(typeof example.op).toBe('string')
    expect(finding!.evidence?.request.method).toBe('GET')
    expect(finding!.repro!.path).toMatch(/^\d+(:\d+)*$/)

    const replayOut = tempOut('replay')
    const replay = await runCli(['replay', file, '--finding', finding!.id, '--out', replayOut])
    expect(replay.code, replay.stderr).toBe(1)
    const again = read(replayOut)
    // Replay runs the one counterexample (plus the re-run that captures evidence), not a new search.
    expect(again.checks[0]!.requests).toBeLessThanOrEqual(4)
    expect(normalise(again.findings[0]!.message)).toBe(normalise(finding!.message))
  })

  it('replay against the clean server says it no longer reproduces (exit 0)', async () => {
    // The faulted report with its fault taken off, in a folder of its own.
    const report = JSON.parse(readFileSync(await faultedReport(), 'utf8')) as { run: { faults: string[] } }
    report.run.faults = []
    const file = join(tempOut('fixed'), 'findings.json')
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(report))
    const res = await runCli(['replay', file, '--out', tempOut('fixed-replay')])
    expect(res.code, res.stderr).toBe(0)
  })
})
