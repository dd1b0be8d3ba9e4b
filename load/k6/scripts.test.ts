import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadScenario } from '../../fixtures/load/scenario.js'

// The k6 project imports with .ts suffixes (k6 loads files as named); the Node project does not, so load it by URL.
interface K6Scenario { executor: string; rate: number; startTime?: string; duration: string; tags?: Record<string, string> }
const plan = (await import(new URL('./lib/plan.ts', import.meta.url).href)) as {
  k6Scenarios(s: unknown): Record<string, K6Scenario>
  k6Thresholds(s: unknown): Record<string, string[]>
  steadySeconds(s: unknown, t: unknown): number
}
const { k6Scenarios, k6Thresholds, steadySeconds } = plan
interface Goal { tenant: string; name: string; met: boolean; detail: string }
const summary = (await import(new URL('./lib/summary.ts', import.meta.url).href)) as {
  relativeGoals(s: unknown, d: unknown): Goal[]
  junit(s: unknown, d: unknown, goals: Goal[]): string
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')

describe('k6 scripts', () => {
  it('type-check against @types/k6 (tsc -p load/k6/tsconfig.json)', () => {
    const r = spawnSync(process.execPath, [TSC, '-p', 'load/k6/tsconfig.json', '--noEmit'], { cwd: ROOT, encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('turn noisy-neighbour into tagged open-model scenarios and per-tenant thresholds', () => {
    const s = loadScenario('noisy-neighbour')
    const scenarios = Object.values(k6Scenarios(s))
    expect(scenarios).toHaveLength(s.streams.length)
    expect(scenarios.every((sc) => sc.executor === 'constant-arrival-rate' && sc.tags?.tenant && sc.tags?.phase)).toBe(true)
    expect(scenarios.find((sc) => sc.tags?.tenant === 'aggressor' && sc.tags?.phase === 'contended')).toMatchObject({ rate: 100, startTime: '11s', duration: '8s' })
    expect(k6Thresholds(s)).toMatchObject({
      'throttled{tenant:victim}': ['count==0'],
      'throttled{tenant:aggressor}': ['count>0'],
      'http_req_failed{tenant:victim}': ['rate<=0'],
      'http_req_duration{tenant:victim,phase:contended}': ['p(95)<500'],
    })
    expect(steadySeconds(s, s.tenants.find((t) => t.name === 'aggressor')!)).toBe(7)
  })

  it('judge the relative goals in handleSummary and write one JUnit testcase per threshold and goal', () => {
    const s = loadScenario('noisy-neighbour')
    const data = {
      metrics: {
        'http_req_duration{tenant:victim,phase:baseline}': { type: 'trend', values: { 'p(95)': 40 }, thresholds: { 'p(95)<500': { ok: true } } },
        'http_req_duration{tenant:victim,phase:contended}': { type: 'trend', values: { 'p(95)': 70 }, thresholds: { 'p(95)<500': { ok: true } } },
        'http_req_duration{tenant:victim,phase:warmup}': { type: 'trend', values: { 'p(95)': 900 }, thresholds: { 'p(95)<500': { ok: false } } },
        'throttled{tenant:aggressor}': { type: 'counter', values: { count: 1400 }, thresholds: { 'count>0': { ok: true } } },
        'accepted_steady{tenant:aggressor}': { type: 'counter', values: { count: 74 }, thresholds: { 'count>=0': { ok: true } } },
      },
    }
    const goals = summary.relativeGoals(s, data)
    // 70 > max(1.5 × 40, 40 + 20) = 60: not met; the warm-up phase is not compared. 74 / 7 s = 10.6/s: within ±10% of 10.
    expect(goals.map((g) => [g.tenant, g.met])).toEqual([['victim', false], ['aggressor', true]])
    const xml = summary.junit(s, data, goals)
    expect(xml).toMatch(/<testsuites tests="7" failures="2">/)
    expect(xml).toContain('name="http_req_duration{tenant:victim,phase:warmup} p(95)&lt;500"><failure')
  })
})
