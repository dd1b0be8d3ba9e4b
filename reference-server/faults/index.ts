import { FAULTS, type FaultName } from './catalog.js'

export { FAULTS, faultSpec } from './catalog.js'
export type { FaultName, FaultSpec, FaultSuite } from './catalog.js'

/** The faults switched on for one server. `has` is the guard at each fault's spot. */
export interface FaultSet {
  has(name: FaultName): boolean
  readonly names: readonly FaultName[]
}

export class UnknownFaultError extends Error {
  constructor(readonly unknown: string[]) {
    super(`unknown fault${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (see \`tenant-audit faults\`)`)
  }
}

/** Parses `a,b` (from `--faults` or `FAULTS`); an unknown name is an error, never silently ignored. */
export function parseFaults(input: string | readonly string[] | undefined): FaultSet {
  const list = (typeof input === 'string' ? input.split(',') : (input ?? [])).map((s) => s.trim()).filter(Boolean)
  const known = new Set<string>(FAULTS.map((f) => f.name))
  const unknown = list.filter((n) => !known.has(n))
  if (unknown.length > 0) throw new UnknownFaultError(unknown)
  const names = [...new Set(list)] as FaultName[]
  const set = new Set<string>(names)
  return { names, has: (name) => set.has(name) }
}

export const NO_FAULTS: FaultSet = parseFaults([])
