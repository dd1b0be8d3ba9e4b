import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parseScenario } from '../../fixtures/load/scenario.js'
import { assertLoopback, buildSchedule, runOpenModel, type Slot } from './index.js'
import { evaluate, summarise, tenantSummaries } from './summary.js'
import type { RequestRecord } from './open-model.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(() => r(undefined)))
  }
})

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const scenario = (streams: { rate: number; phase?: string }[], bounds: Record<string, number> = {}) => parseScenario({
  name: 't', description: 't',
  tenants: [{ name: 'a' }],
  phases: [{ name: 'p', seconds: 0.5 }, { name: 'q', seconds: 60 }],
  streams: streams.map((s) => ({ tenant: 'a', phase: s.phase ?? 'p', rate: s.rate })),
  bounds,
})

const get = () => ({ method: 'GET', path: '/x', headers: {} })

describe('load driver', () => {
  it('refuses every target that is not this machine, with a clear error', async () => {
    for (const url of ['http://example.com', 'http://10.0.0.1:8080', 'http://169.254.169.254/', 'http://localhost.example.com', 'http://[2001:db8::1]/', 'http://0.0.0.0:80']) {
      expect(() => assertLoopback(url), url).toThrow(/only sends to loopback/)
    }
    for (const url of ['http://127.0.0.1:1', 'http://localhost:8080', 'http://[::1]:80', 'http://127.1.2.3', 'http://[::ffff:127.0.0.1]/']) {
      expect(assertLoopback(url).hostname, url).toBeTruthy()
    }
    await expect(runOpenModel({ baseUrl: 'https://staging.example.com', slots: [{ at: 0, stream: 0 }], requestFor: get, maxInFlight: 1, timeoutMs: 100, deadlineMs: 100 }))
      .rejects.toThrow(/only sends to loopback.*k6/)
  })

  it('schedules at the offered rate and stops at the duration and request bounds', () => {
    const short = buildSchedule(scenario([{ rate: 20 }]))
    expect(short).toHaveLength(10)
    expect(short.every((s) => s.at < 500)).toBe(true)
    expect(buildSchedule(scenario([{ rate: 1000, phase: 'q' }], { maxRequests: 25 }))).toHaveLength(25)
    // Two streams interleave in time order.
    const both = buildSchedule(scenario([{ rate: 10 }, { rate: 20 }]))
    expect(both.map((s) => s.at)).toEqual([...both.map((s) => s.at)].sort((x, y) => x - y))
    expect(both.filter((s) => s.stream === 1)).toHaveLength(10)
  })

  it('sends no more than the request bound', async () => {
    let received = 0
    const url = await listen((_req, res) => void (received++, res.end('ok')))
    const slots = buildSchedule(scenario([{ rate: 200, phase: 'q' }], { maxRequests: 25 }))
    const { records } = await runOpenModel({ baseUrl: url, slots, requestFor: get, maxInFlight: 64, timeoutMs: 5_000, deadlineMs: 30_000 })
    expect(received).toBe(25)
    expect(records.filter((r) => r.status === 200)).toHaveLength(25)
  })

  it('keeps an open model: every request starts although the server has answered none', async () => {
    const total = 20
    const held: ServerResponse[] = []
    let receivedAtFirstAnswer = -1
    const release = () => {
      if (receivedAtFirstAnswer === -1) receivedAtFirstAnswer = held.length
      for (const r of held.splice(0)) r.end('ok')
    }
    const safety = setTimeout(release, 20_000)
    const url = await listen((_req, res) => {
      held.push(res)
      if (held.length === total) release()
    })
    const slots: Slot[] = Array.from({ length: total }, (_, i) => ({ at: i * 10, stream: i % 2 }))
    const started: Slot[] = []
    const { records } = await runOpenModel({ baseUrl: url, slots, requestFor: get, maxInFlight: 64, timeoutMs: 30_000, deadlineMs: 60_000, onStart: (s) => started.push(s) })
    clearTimeout(safety)
    // A closed loop would have waited for answers and never reached `total` open requests.
    expect(receivedAtFirstAnswer).toBe(total)
    expect(started).toEqual(slots)
    expect(records.map((r) => r.status)).toEqual(Array(total).fill(200))
  })

  it('drops (and counts) requests due while maxInFlight are open instead of delaying them', async () => {
    const held: ServerResponse[] = []
    const url = await listen((_req, res) => void held.push(res))
    // All six are due at once: two go out, four find two open requests.
    const slots: Slot[] = Array.from({ length: 6 }, () => ({ at: 0, stream: 0 }))
    const run = runOpenModel({ baseUrl: url, slots, requestFor: get, maxInFlight: 2, timeoutMs: 30_000, deadlineMs: 60_000 })
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10))
    for (const r of held) r.end('ok')
    const { records } = await run
    expect(records.filter((r) => r.status === -1)).toHaveLength(4)
    expect(records.filter((r) => r.status === 200)).toHaveLength(2)
  })

  it('ends at its deadline when the server never answers', async () => {
    const url = await listen(() => undefined)
    const slots: Slot[] = Array.from({ length: 5 }, (_, i) => ({ at: i * 5, stream: 0 }))
    const { records } = await runOpenModel({ baseUrl: url, slots, requestFor: get, maxInFlight: 16, timeoutMs: 60_000, deadlineMs: 300 })
    expect(records).toHaveLength(5)
    expect(records.every((r) => r.status === 0)).toBe(true)
  })
})

describe('load summary', () => {
  const s = parseScenario({
    name: 'nn', description: 'x',
    tenants: [
      { name: 'victim', expect: { throttled: 'never', maxErrorRate: 0, p95: { baselinePhase: 'base', ratio: 1.5, slackMs: 20 } } },
      { name: 'aggressor', rateLimit: { requestsPerSecond: 10, burst: 10 }, expect: { throttled: 'some', enforcedRate: { tolerance: 0.1 } } },
    ],
    phases: [{ name: 'base', seconds: 2 }, { name: 'flood', seconds: 3 }],
    streams: [
      { tenant: 'victim', phase: 'base', rate: 10 }, { tenant: 'victim', phase: 'flood', rate: 10 },
      { tenant: 'aggressor', phase: 'flood', rate: 100 },
    ],
  })
  const records: RequestRecord[] = buildSchedule(s).map((slot) => {
    if (slot.stream === 0) return { ...slot, lateMs: 0, status: 200, latencyUs: 10_000 }
    if (slot.stream === 1) return { ...slot, lateMs: 0, status: 200, latencyUs: 25_000 }
    // The aggressor: 10 accepted in each second of the flood, the rest throttled.
    const inSecond = Math.floor(((slot.at - 2000) % 1000) / 10)
    return { ...slot, lateMs: 0, status: inSecond < 10 ? 200 : 429, latencyUs: inSecond < 10 ? 8_000 : 1_000 }
  })

  it('judges throttles, errors, the p95 ratio and the enforced rate from one run', () => {
    const groups = summarise(s, records)
    const tenants = tenantSummaries(s, records)
    expect(tenants.find((t) => t.tenant === 'aggressor')?.enforcedRate).toBe(10)
    const goals = evaluate(s, groups, tenants)
    const byName = Object.fromEntries(goals.map((g) => [`${g.tenant}: ${g.name.split(' (')[0]!.split(' ≤')[0]}`, g.met]))
    expect(byName).toMatchObject({ 'victim: no throttles': true, 'victim: error rate': true, 'victim: p95 flood': true, 'aggressor: throttled': true, 'aggressor: enforced rate within ±10% of 10/s': true })
    const slower = records.map((r) => (r.stream === 1 ? { ...r, latencyUs: 40_000 } : r))
    expect(evaluate(s, summarise(s, slower), tenants).find((g) => g.name.startsWith('p95 flood'))?.met).toBe(false)
    const flood = groups.find((g) => g.tenant === 'aggressor')!
    expect(flood.latencyThrottled.p95).toBeLessThan(flood.latencyOk.p95!)
  })
})
