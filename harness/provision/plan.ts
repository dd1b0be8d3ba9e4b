import fc from 'fast-check'
import type { WorkspaceRole } from '../core/topology.js'

export interface UserPlan { role: WorkspaceRole; accountAdmin: boolean }
export interface WorkspacePlan { environment: 'development' | 'staging' | 'production'; users: UserPlan[] }
export interface AccountPlan { workspaces: WorkspacePlan[] }
export interface TopologyPlan { accounts: AccountPlan[]; principals: ('platform_admin' | 'support')[] }

export interface PlanBounds {
  accounts: [number, number]
  workspaces: [number, number]
}

/** DESIGN §4: 2–4 accounts, 1–3 workspaces each. */
export const DEFAULT_BOUNDS: PlanBounds = { accounts: [2, 4], workspaces: [1, 3] }

const EVERY_ROLE: UserPlan[] = [
  { role: 'viewer', accountAdmin: false },
  { role: 'editor', accountAdmin: false },
  { role: 'admin', accountAdmin: false },
]

/**
 * A random topology. Every workspace has every workspace role; every account's first workspace
 * also has an account admin; the first account always has two workspaces, so sibling-workspace
 * probes always exist; both principal kinds are present. Extra users are drawn at random.
 */
export function topologyPlan(bounds: PlanBounds = DEFAULT_BOUNDS): fc.Arbitrary<TopologyPlan> {
  const extra = fc.array(fc.record({ role: fc.constantFrom<WorkspaceRole>('viewer', 'editor', 'admin'), accountAdmin: fc.constant(false) }), { maxLength: 1 })
  const workspace = fc.record({ environment: fc.constantFrom('development', 'staging', 'production') as fc.Arbitrary<WorkspacePlan['environment']>, extra })
  const account = fc.array(workspace, { minLength: bounds.workspaces[0], maxLength: bounds.workspaces[1] })
  return fc.array(account, { minLength: bounds.accounts[0], maxLength: bounds.accounts[1] }).map((accounts) => ({
    accounts: accounts.map((wss, a) => {
      const list = a === 0 && wss.length < 2 ? [...wss, ...wss].slice(0, 2) : wss
      return {
        workspaces: list.map((w, i) => ({
          environment: w.environment,
          users: [...EVERY_ROLE, ...(i === 0 ? [{ role: 'admin' as const, accountAdmin: true }] : []), ...w.extra],
        })),
      }
    }),
    principals: ['platform_admin', 'support'],
  }))
}

/** The plan for a seed: the same seed always gives the same topology shape. */
export function planFor(seed: number, bounds: PlanBounds = DEFAULT_BOUNDS): TopologyPlan {
  return fc.sample(topologyPlan(bounds), { seed, numRuns: 1 })[0]!
}
