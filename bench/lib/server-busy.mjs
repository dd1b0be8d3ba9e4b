// Preloaded into `tenant-audit run` by bench:audit (NODE_OPTIONS=--import): counts how long this
// process's HTTP servers had at least one request in flight ("server busy time"), via Node's
// http.server diagnostics channels, and writes it to $BENCH_BUSY_DIR/<pid>.json at exit.
// Plain JavaScript so it loads before any TypeScript loader. Bench only; never in the product.
import { subscribe } from 'node:diagnostics_channel'
import { writeFileSync } from 'node:fs'
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

const dir = process.env.BENCH_BUSY_DIR
if (dir) {
  process.on('exit', () => {
    if (busy.requests > 0) writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(busy))
  })
}

/** The counters of this process (the bench's own in-process server uses them directly). */
export function serverBusy() {
  return { requests: busy.requests, busyMs: busy.busyMs + (inFlight > 0 ? performance.now() - since : 0) }
}
