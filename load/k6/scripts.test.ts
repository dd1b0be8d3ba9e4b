import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadScenario } from '../../fixtures/load/scenario.js'
import { perPhaseData, SPLITS, thresholdOk } from '../../fixtures/load/k6-data/per-phase.js'
import { evaluate as nodeEvaluate } from '../driver/summary.js'
import { k6Plan, k6Summary, type K6SummaryData } from '../driver/k6-lib.js'
import type { LoadResult } from '../driver/index.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const DATA = new URL('../../fixtures/load/k6-data/', import.meta.url)
const json = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, DATA), 'utf8')) as T
const recorded = (name: string) => json<K6SummaryData>(`handle-summary-data.${name}.json`)
const nodeResult = json<LoadResult>('node-result.noisy-neighbour.json')
const run = { baseUrl: 'http://127.0.0.1:8080', startedAt: '2026-12-03T00:00:00.000Z' }
const rateOf = (r: { tenants: { tenant: string; enforcedRate: number | null }[] }, tenant: string) => r.tenants.find((t) => t.tenant === tenant)?.enforcedRate

/**
 * The enforced-rate arithmetic of the script before the per-phase counters (load/k6/lib/summary.ts
 * at cdac08e), frozen here to show what it read from k6's real data: `accepted_steady{tenant:…}`,
 * counted in every phase, over the over-quota phases' steady seconds only.
 */
function todaysEnforcedRate(s: ReturnType<typeof loadScenario>, d: K6SummaryData, tenant: string): number | undefined {
  const t = s.tenants.find((x) => x.name === tenant)!
  const seconds = k6Plan.steadySeconds(s, t)
  const accepted = d.metrics[`accepted_steady{tenant:${t.name}}`]?.values.count
  return seconds && accepted !== undefined ? accepted / seconds : undefined
}

describe('k6 scripts', () => {
  it('type-check against @types/k6 (tsc -p load/k6/tsconfig.json)', () => {
    const r = spawnSync(process.execPath, [TSC, '-p', 'load/k6/tsconfig.json', '--noEmit'], { cwd: ROOT, encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('turn noisy-neighbour into open-model scenarios, per-tenant thresholds and a count per phase', () => {
    const s = loadScenario('noisy-neighbour')
    const scenarios = Object.values(k6Plan.k6Scenarios(s))
    expect(scenarios).toHaveLength(s.streams.length)
    expect(scenarios.every((sc) => sc.executor === 'constant-arrival-rate')).toBe(true)
    expect(k6Plan.k6Scenarios(s).aggressor_contended_5).toMatchObject({ rate: 100, startTime: '11s', duration: '8s', maxVUs: 256 })
    const th = k6Plan.k6Thresholds(s)
    expect(th).toMatchObject({
      'throttled{tenant:victim}': ['count==0'],
      'throttled{tenant:aggressor}': ['count>0'],
      'http_req_failed{tenant:victim}': ['rate<=0'],
      'http_req_duration{tenant:victim,phase:contended}': ['p(95)<500'],
      // The enforced rate, judged by k6 itself from the one phase it is about: 10/s × 7 s ± 10%.
      'accepted{tenant:aggressor,phase:contended}': ['count>=63', 'count<=77'],
      'http_reqs{tenant:aggressor,phase:warmup}': ['count>=0'],
      'status_2xx{tenant:victim,phase:baseline}': ['count>=0'],
      'throttled{tenant:aggressor,phase:contended}': ['count>=0'],
      'http_req_duration{tenant:aggressor,phase:contended}': ['p(95)>=0'],
      'dropped_iterations{scenario:aggressor_contended_5}': ['count>=0'],
    })
    // Every tenant × phase has its figures, not only those with an expectation.
    for (const g of k6Plan.groupsOf(s)) for (const m of ['http_reqs', 'status_2xx', 'throttled', 'http_req_duration']) expect(th[`${m}{tenant:${g.tenant},phase:${g.phase}}`]).toBeDefined()
    expect(Object.keys(th).filter((k) => k.startsWith('accepted'))).toEqual(['accepted{tenant:aggressor,phase:contended}'])
    expect(k6Plan.steadyPhases(s, s.tenants.find((t) => t.name === 'aggressor')!)).toEqual([{ phase: 'contended', seconds: 7 }])
  })

  it('on the data k6 really produced with the old script: its logic reads 16.7/s (the bug); the new logic will not guess', () => {
    const nn = loadScenario('noisy-neighbour')
    expect(todaysEnforcedRate(nn, recorded('noisy-neighbour'), 'aggressor')).toBeCloseTo(117 / 7, 5)
    expect(todaysEnforcedRate(nn, recorded('noisy-neighbour'), 'aggressor')!.toFixed(1)).toBe('16.7')
    const qa = loadScenario('quota-accuracy')
    expect(todaysEnforcedRate(qa, recorded('quota-accuracy'), 'limited')!.toFixed(2)).toBe('20.67')
    // The new threshold would have failed that run (k6 exit 99): 117 is not within 63–77.
    expect(k6Plan.k6Thresholds(nn)['accepted{tenant:aggressor,phase:contended}']!.every((e) => thresholdOk(e, { count: 117 }))).toBe(false)
    const r = k6Summary.k6Result(nn, recorded('noisy-neighbour'), run)
    expect(rateOf(r, 'aggressor')).toBeNull()
    expect(r.goals.find((g) => g.name.startsWith('enforced rate'))).toMatchObject({ met: false, detail: expect.stringMatching(/not measured/) })
  })

  it('on the same data with the per-phase sub-metrics: the enforced rate is the contended phase alone, as the Node engine reads it', () => {
    const nn = loadScenario('noisy-neighbour')
    const d = json<K6SummaryData>('handle-summary-data.noisy-neighbour.per-phase.json')
    const r = k6Summary.k6Result(nn, d, run)
    expect(rateOf(r, 'aggressor')).toBe(10)
    const node = rateOf(nodeResult, 'aggressor')!
    expect(Math.abs(rateOf(r, 'aggressor')! - node)).toBeLessThanOrEqual(0.1 * node)
    expect(r.goals.every((g) => g.met)).toBe(true)
    expect(r.thresholds.every((t) => t.ok)).toBe(true)
    expect(r.thresholds.map((t) => `${t.metric} ${t.expression}`)).toContain('accepted{tenant:aggressor,phase:contended} count<=77')
    expect(k6Summary.passed(r)).toBe(true)
    // Every tenant × phase, in the Node engine's order and shape.
    expect(r.groups.map((g) => `${g.tenant}/${g.phase}`)).toEqual(nodeResult.groups.map((g) => `${g.tenant}/${g.phase}`))
    const shape = (o: object): string[] => Object.keys(o).sort()
    const { thresholds: _t, ...rest } = r
    expect(shape(rest)).toEqual(shape(nodeResult))
    expect(shape(r.groups[0]!)).toEqual(shape(nodeResult.groups[0]!))
    expect(shape(r.groups[0]!.latency)).toEqual(shape(nodeResult.groups[0]!.latency))
    expect(shape(r.tenants[0]!)).toEqual(shape(nodeResult.tenants[0]!))
    expect(r.groups.find((g) => g.tenant === 'aggressor' && g.phase === 'contended')).toMatchObject({ scheduled: 801, ok: 85, throttled: 716, errors: 0, dropped: 0, latency: { count: 801 } })
    expect(r.groups.find((g) => g.tenant === 'victim' && g.phase === 'contended')!.latency.p95).toBe(12.89)
    expect(r.goals.map((g) => g.name)).toEqual(nodeResult.goals.map((g) => g.name))
    const qa = loadScenario('quota-accuracy')
    expect(rateOf(k6Summary.k6Result(qa, perPhaseData(qa, recorded('quota-accuracy'), SPLITS['quota-accuracy']), run), 'limited')).toBe(20)
  })

  it('fail the run on a failed relative goal: the victim p95 ratio (judged from the summary) and the enforced rate (a k6 threshold)', () => {
    const nn = loadScenario('noisy-neighbour')
    const d = recorded('noisy-neighbour')
    const base = d.metrics['http_req_duration{tenant:victim,phase:baseline}']!.values
    const slow = perPhaseData(nn, d, SPLITS['noisy-neighbour'], { 'victim/contended': { ...base, 'p(95)': 3 * base['p(95)']! } })
    const r = k6Summary.k6Result(nn, slow, run)
    expect(r.goals.filter((g) => !g.met).map((g) => g.name)).toEqual(['p95 contended ≤ max(1.5× baseline, baseline + 20 ms)'])
    expect(k6Summary.passed(r)).toBe(false)
    expect(k6Summary.junit(r)).toMatch(/failures="1"/)
    expect(k6Summary.text(r)).toMatch(/NOT MET {2}victim: p95 contended/)
    // An aggressor let through at 13/s: k6 crosses the threshold (exit 99) and the goal fails too.
    const leaky = perPhaseData(nn, d, SPLITS['noisy-neighbour'].map((g) => (g.tenant === 'aggressor' && g.phase === 'contended' ? { ...g, accepted: 91, ok: 106, throttled: 695 } : g)))
    const lr = k6Summary.k6Result(nn, leaky, run)
    expect(lr.thresholds.filter((t) => !t.ok)).toEqual([{ metric: 'accepted{tenant:aggressor,phase:contended}', expression: 'count<=77', ok: false }])
    expect(lr.goals.find((g) => g.name.startsWith('enforced rate'))).toMatchObject({ met: false, detail: '13.00/s (30.0%)' })
    expect(k6Summary.passed(lr)).toBe(false)
  })

  it('judge goals exactly as the Node engine does, from the same figures', () => {
    const nn = loadScenario('noisy-neighbour')
    expect(k6Summary.evaluate(nn, nodeResult.groups, nodeResult.tenants)).toEqual(nodeEvaluate(nn, nodeResult.groups, nodeResult.tenants))
    const slower = nodeResult.groups.map((g) => (g.phase === 'contended' ? { ...g, latency: { ...g.latency, p95: 1000 } } : g))
    expect(k6Summary.evaluate(nn, slower, nodeResult.tenants)).toEqual(nodeEvaluate(nn, slower, nodeResult.tenants))
  })
})
