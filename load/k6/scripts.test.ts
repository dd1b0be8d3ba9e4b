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
    expect(scenarios.find((sc) => sc.tags?.tenant === 'aggressor' && sc.tags?.phase === 'contended')).toMatchObject({ rate: 200, startTime: '11s', duration: '8s' })
    expect(k6Thresholds(s)).toMatchObject({
      'throttled{tenant:victim}': ['count==0'],
      'throttled{tenant:aggressor}': ['count>0'],
      'http_req_failed{tenant:victim}': ['rate<=0'],
      'http_req_duration{tenant:victim,phase:contended}': ['p(95)<500'],
    })
    expect(steadySeconds(s, s.tenants.find((t) => t.name === 'aggressor')!)).toBe(7)
  })
})
