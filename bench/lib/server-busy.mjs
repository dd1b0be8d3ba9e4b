// Preloaded into `tenant-audit run` by bench:audit (NODE_OPTIONS=--import): counts how long this
// process's HTTP servers had at least one request in flight ("server busy time"), via Node's
// http.server diagnostics channels, where its CPU went (its main thread, its other threads — the
// libuv pool that runs the password KDF, V8's GC and compiler threads — and its child processes: the
// Vitest worker), and how many scrypt calls the KDF made and for how long; it writes them to
// $BENCH_BUSY_DIR/<pid>.json at exit. Plain JavaScript so it loads before any TypeScript loader.
// Bench only; never in the product.
import crypto from 'node:crypto'
import { subscribe } from 'node:diagnostics_channel'
import { readFileSync, writeFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'

const busy = { requests: 0, busyMs: 0 }
let inFlight = 0
let since = 0

subscribe('http.server.request.start', ({ response }) => {
  busy.requests++
  if (inFlight++ === 0) since = performance.now()
  response.once('close', () => {
    if (--inFlight === 0) busy.busyMs += performance.now() - since
  })
})

// Every scrypt call (the reference server's password KDF), by cost. Its CPU cannot be read per call (it
// runs on the libuv pool beside everything else): at exit one call of each cost is timed alone and
// multiplied by the number of calls.
const kdfCalls = new Map()
const scrypt = crypto.scrypt
crypto.scrypt = function (...args) {
  const o = typeof args[3] === 'object' && args[3] !== null ? args[3] : {}
  const key = JSON.stringify([o.N ?? o.cost ?? 16384, o.r ?? o.blockSize ?? 8, o.p ?? o.parallelization ?? 1, o.maxmem])
  kdfCalls.set(key, (kdfCalls.get(key) ?? 0) + 1)
  return scrypt.apply(this, args)
}
syncBuiltinESMExports() // named imports of node:crypto (`import { scrypt }`) see the wrapper

/** utime + stime (ms) of a /proc stat line, and of its waited-for children (Linux only; undefined elsewhere). */
function procTimes(path) {
  try {
    const s = readFileSync(path, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number)
    const tick = 10 // USER_HZ is 100 on Linux
    return { ms: (f[11] + f[12]) * tick, childrenMs: (f[13] + f[14]) * tick }
  } catch {
    return undefined
  }
}

const dir = process.env.BENCH_BUSY_DIR
if (dir) {
  process.on('exit', () => {
    if (busy.requests === 0) return
    const { user, system } = process.cpuUsage()
    const main = procTimes(`/proc/self/task/${process.pid}/stat`)
    const self = procTimes('/proc/self/stat')
    const cpu = { processMs: Math.round((user + system) / 1000), mainThreadMs: main?.ms, childrenMs: self?.childrenMs }
    const kdf = { calls: 0, estimatedMs: 0 }
    for (const [key, calls] of kdfCalls) {
      const [N, r, p, maxmem] = JSON.parse(key)
      let best = Infinity
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now()
        crypto.scryptSync('x', 'bench-salt-16byte', 32, { N, r, p, ...(maxmem ? { maxmem } : {}) })
        best = Math.min(best, performance.now() - t0)
      }
      kdf.calls += calls
      kdf.estimatedMs += calls * best
    }
    kdf.estimatedMs = Math.round(kdf.estimatedMs)
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ ...busy, cpu, kdf }))
  })
}

/** The counters of this process (the bench's own in-process server uses them directly). */
export function serverBusy() {
  return { requests: busy.requests, busyMs: busy.busyMs + (inFlight > 0 ? performance.now() - since : 0) }
}
