import type { HttpAdapter } from '../adapters/http.js'
import type { Topology } from '../core/topology.js'

export interface TeardownResult {
  removed: number
  /** What could not be removed, with the status: the user must clean these up by hand. */
  leftovers: string[]
}

/** One ledger entry as a person reads it: `account /portal/v1/accounts/…`. */
export function describeCreated(item: Topology['created'][number]): string {
  return `${item.resource} ${item.path}`
}

/**
 * Removes everything the harness created, newest first, with the token that may delete it, up to
 * the adapter's concurrency at once (each free sender takes the newest entry not yet taken: with
 * concurrency 1, strictly newest first). The root token is fetched once, shared by all.
 * `topology.created` is the live ledger: an entry leaves it once its delete was tried, so at any
 * moment it lists what is still to be removed (an entry recorded while teardown runs is removed too).
 * Runs uninterruptible: a Ctrl-C stops the run's other requests, never these deletes.
 * `into` is filled as it goes, so what is known at any moment can be reported. Never throws: a
 * teardown that fails half-way reports what is left instead.
 */
export async function teardown(
  http: HttpAdapter, topology: Topology, token: () => Promise<string>,
  into: TeardownResult = { removed: 0, leftovers: [] },
): Promise<TeardownResult> {
  return http.uninterruptible(async () => {
    let bearer: Promise<string> | undefined
    const taken = new Set<Topology['created'][number]>()
    const next = () => {
      for (let i = topology.created.length - 1; i >= 0; i--) {
        const item = topology.created[i]!
        if (!taken.has(item)) return (taken.add(item), item)
      }
      return undefined
    }
    const worker = async () => {
      for (let item = next(); item; item = next()) {
        try {
          const res = await http.send({ method: 'DELETE', path: item.path, token: item.token ?? (await (bearer ??= token())) })
          if ((res.status >= 200 && res.status < 300) || res.status === 404) into.removed++
          else into.leftovers.push(`${describeCreated(item)} (${res.status})`)
        } catch (err) {
          into.leftovers.push(`${describeCreated(item)} (${(err as Error).message})`)
        }
        topology.created.splice(topology.created.lastIndexOf(item), 1)
      }
    }
    const width = Math.max(1, http.concurrency ?? 1)
    while (topology.created.some((item) => !taken.has(item))) await Promise.all(Array.from({ length: width }, worker))
    return into
  })
}
