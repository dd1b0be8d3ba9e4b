import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

/**
 * What may differ between two runs of one seed: timings (the run's and each check's), the run id,
 * the embedded server's port, the run tag, the ids and timestamps the server generates, and so each
 * finding's raw evidence (the answer as it came: its Date and RateLimit headers, createdAt fields)
 * and the curl built from it. Everything else — the checks with their statuses, request counts and
 * notes, the traffic, the matrix, every finding with its id, severity, message, dedup key,
 * counterexample and replay path — must be the same, whatever order the concurrent answers came in.
 * Two things vary between runs of one seed with or without concurrency, and are left out: request
 * counts (the audit checks poll the trail until an event appears and page through trails that grow,
 * so how many reads they need depends on time), with the event counts in their notes; and the first
 * list item a message quotes (the reference server orders lists by random ids). And what depends on
 * the clock by nature: the run's throttling traffic (a login met after the login checks' windows may
 * or may not find them spent), and the notes of the checks that time answers (CLOCKED: latencies,
 * ratios, and how many of their floods the login windows let through; login-race's count of a burst
 * judged before the limit answered 429, which depends on whether a window refilled mid-burst).
 */
/** Checks whose notes are timings and what the clock let through (latencies, ratios, throttled and redone floods). */
const CLOCKED = new Set(['access/login-timing', 'ratelimit/cost-to-others', 'ratelimit/login-race'])

function normalised(out: string): unknown {
  const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Record<string, unknown> & { run: Record<string, unknown>; checks: Record<string, unknown>[] }
  const { id: _id, startedAt: _s, durationMs: _d, phases: _p, requests: _r, traffic: _t, ...run } = report.run
  const checks = report.checks.map(({ durationMs: _cd, startedAt: _cs, requests: _cr, ...c }) => (CLOCKED.has(c.id as string) ? { ...c, notes: '<timed>' } : c))
  const findings = (report.findings as Record<string, unknown>[]).map(({ evidence: _e, ...f }) => ({ ...f, repro: { ...(f.repro as object), curl: undefined } }))
  return JSON.parse(
    JSON.stringify({ ...report, run, checks, findings })
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      .replace(/ta-[0-9a-f]{6}/g, 'ta-<tag>')
      .replace(/zq[0-9a-f]{6}x[0-9a-z]+q/g, '<canary>')
      .replace(/(walk|throwaway)-[0-9a-f]{8}/g, '$1-<rnd>')
      .replace(/searched \d+ audit events/g, 'searched <n> audit events')
      .replace(/medians [^"]*/g, 'medians <timings>')
      .replace(/\{items: \[.*?…\}/g, '{items: […]}'),
  )
}

describe('determinism with concurrency on', { timeout: CLI_TIMEOUT }, () => {
  it('the same seed at --concurrency 8 gives the same findings.json apart from timings, twice', async () => {
    // A fault three concurrent checks catch (one of them the pooled policy matrix), so there are findings to compare.
    const args = ['run', '--faults', 'workspace-admin-lists-foreign-users', '--seed', '13', '--topology', 'small', '--concurrency', '8']
    const [a, b] = [tempOut('conc-a'), tempOut('conc-b')]
    // Both at once, each on its own embedded server: their answers come in other orders than either alone would
    // see, and the waits of one (login windows, quota windows) overlap the other's work.
    const [first, second] = await Promise.all([runCli([...args, '--out', a]), runCli([...args, '--out', b])])
    expect(first.code, first.stderr).toBe(1)
    expect(second.code, second.stderr).toBe(1)
    const [ra, rb] = [normalised(a), normalised(b)] as { findings: { checkId: string }[] }[]
    const by = new Set(ra!.findings.map((f) => f.checkId))
    for (const id of ['access/cross-tenant-read', 'access/list-leak', 'access/policy-matrix']) expect(by.has(id), `${id} found nothing`).toBe(true)
    expect(rb).toEqual(ra)
  })
})
