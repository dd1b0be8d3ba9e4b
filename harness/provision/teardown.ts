import type { HttpAdapter } from '../adapters/http.js'
import type { Topology } from '../core/topology.js'

export interface TeardownResult {
  removed: number
  /** What could not be removed, with the status: the user must clean these up by hand. */
  leftovers: string[]
}

/**
 * Removes everything the harness created, newest first, with the token that may delete it.
 * Never throws: a teardown that fails half-way reports what is left instead.
 */
export async function teardown(http: HttpAdapter, topology: Topology, token: () => Promise<string>): Promise<TeardownResult> {
  const leftovers: string[] = []
  let removed = 0
  let bearer: string | undefined
  for (const item of [...topology.created].reverse()) {
    try {
      bearer ??= await token()
      const res = await http.send({ method: 'DELETE', path: item.path, token: item.token ?? bearer })
      if ((res.status >= 200 && res.status < 300) || res.status === 404) removed++
      else leftovers.push(`${item.resource} ${item.path} (${res.status})`)
    } catch (err) {
      leftovers.push(`${item.resource} ${item.path} (${(err as Error).message})`)
    }
  }
  topology.created.length = 0
  return { removed, leftovers }
}
