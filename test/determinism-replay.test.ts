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
 * The first faulted run, made once and read by every test (a test run alone with -t makes it itself):
 * each test needs a faulted run's report, and any run of this seed is as good as another — which is
 * what the first test shows, with a second run of its own. Read only; the clean-replay test edits a copy.
 */
let firstRun: Promise<string> | undefined
const faulted = (): Promise<string> =>
  (firstRun ??= (async () => {
    const out = tempOut('a')
    const res = await runCli([...FAULTED, '--out', out])
    expect(res.code, res.stderr).toBe(1)
    return out
  })())

describe('determinism, shrinking and replay', { timeout: CLI_TIMEOUT }, () => {
  it('the same --seed gives the same topology, the same requests and the same findings', async () => {
    const [a, b] = [await faulted(), tempOut('b')]
    expect((await runCli([...FAULTED, '--out', b])).code).toBe(1)
    const [ra, rb] = [read(a), read(b)]
    expect(rb.checks.map((c) => [c.id, c.requests, c.status])).toEqual(ra.checks.map((c) => [c.id, c.requests, c.status]))
    expect(rb.findings.map((f) => normalise(f.message))).toEqual(ra.findings.map((f) => normalise(f.message)))
    expect(rb.findings.map((f) => f.repro?.path)).toEqual(ra.findings.map((f) => f.repro?.path))
    expect(normalise(JSON.stringify(rb.findings.map((f) => f.repro?.counterexample)))).toEqual(normalise(JSON.stringify(ra.findings.map((f) => f.repro?.counterexample))))
  })

  it('the counterexample is shrunk to one actor and one request, and replay reproduces it', async () => {
    const out = await faulted()
    const [finding] = read(out).findings
    expect(finding).toBeDefined()
    const example = finding!.repro!.counterexample!
    // One probe: an actor (by label), one operation, one object; nothing else survived shrinking.
    expect(typeof example.actor).toBe('string')
    expect(example.actor).toMatch(/^a\d+\.w\d+\./)
    expect(typeof example.op).toBe('string')
    expect(finding!.evidence?.request.method).toBe('GET')
    expect(finding!.repro!.path).toMatch(/^\d+(:\d+)*$/)

    const replayOut = tempOut('replay')
    const replay = await runCli(['replay', join(out, 'findings.json'), '--finding', finding!.id, '--out', replayOut])
    expect(replay.code, replay.stderr).toBe(1)
    const again = read(replayOut)
    // Replay runs the one counterexample (plus the re-run that captures evidence), not a new search.
    expect(again.checks[0]!.requests).toBeLessThanOrEqual(4)
    expect(normalise(again.findings[0]!.message)).toBe(normalise(finding!.message))
  })

  it('replay against the clean server says it no longer reproduces (exit 0)', async () => {
    // A copy of the faulted run's report, as if the fault had been fixed since.
    const report = JSON.parse(readFileSync(join(await faulted(), 'findings.json'), 'utf8')) as { run: { faults: string[] } }
    report.run.faults = []
    const file = join(tempOut('fixed'), 'findings.json')
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(report))
    const res = await runCli(['replay', file, '--out', tempOut('fixed-replay')])
    expect(res.code, res.stderr).toBe(0)
  })
})
