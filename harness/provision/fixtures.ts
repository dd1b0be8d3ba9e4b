import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import type { HttpAdapter } from '../adapters/http.js'
import { mapPool } from '../adapters/limit.js'
import { HarnessError } from '../core/errors.js'
import { fillPath, type TargetContract } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import type { Actor, Topology } from '../core/topology.js'
import { Secrets, login } from './session.js'
import { startTopology } from './portal.js'
import { seedObjects } from './objects.js'
import type { ProvisionResult } from './portal.js'

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/)
const credentials = { usernameEnv: envName, passwordEnv: envName }

/** "Bring your own tenants": existing accounts, workspaces and users, credentials by env-var name only. */
export const tenantsFileSchema = z.object({
  accounts: z.array(z.object({
    id: z.string().min(1),
    workspaces: z.array(z.object({
      id: z.string().min(1),
      users: z.array(z.object({ role: z.enum(['viewer', 'editor', 'admin']), accountRole: z.literal('admin').optional(), ...credentials }).strict()).min(1),
    }).strict()).min(1),
  }).strict()).min(1),
  principals: z.array(z.object({ platformRole: z.enum(['platform_admin', 'support']), ...credentials }).strict()).default([]),
}).strict()

export type TenantsFile = z.infer<typeof tenantsFileSchema>

export function loadTenantsFile(file: string, dir: string): TenantsFile {
  const path = resolve(dir, file)
  let data: unknown
  try {
    data = parseYaml(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new HarnessError('ERR_PROFILE_INVALID', `cannot read tenants file ${path}: ${(err as Error).message.split('\n')[0]}`)
  }
  const parsed = tenantsFileSchema.safeParse(data)
  if (!parsed.success) {
    const i = parsed.error.issues[0]!
    throw new HarnessError('ERR_PROFILE_INVALID', `${path}: ${i.path.join('.') || '(top level)'}: ${i.message}`)
  }
  return parsed.data
}

function credential(name: string, env: NodeJS.ProcessEnv): string {
  const v = env[name]
  if (!v) throw new HarnessError('ERR_PROFILE_INVALID', `the tenants file names ${name}, which is not set`)
  return v
}

/**
 * Uses existing tenants: logs every listed user and principal in, seeds canary objects, and records
 * each object's delete operation so teardown removes exactly what the harness created, nothing else.
 */
export async function provisionFromFixtures(
  http: HttpAdapter, contract: TargetContract, profile: TargetProfile, tenants: TenantsFile, seed: number,
  onCreated: (t: Topology) => void = () => {}, env: NodeJS.ProcessEnv = process.env,
): Promise<ProvisionResult> {
  const secrets = new Secrets()
  const { topology, canary } = startTopology(contract, profile, seed)
  const { params } = topology
  onCreated(topology)
  const logins: { actor: Actor; password: string }[] = []
  for (const [a, account] of tenants.accounts.entries()) {
    topology.accounts.push({ label: `a${a}`, id: account.id, workspaces: account.workspaces.map((w, i) => ({ label: `a${a}.w${i}`, id: w.id, accountId: account.id })) })
    for (const [w, ws] of account.workspaces.entries()) {
      for (const [u, user] of ws.users.entries()) {
        const kind = user.accountRole === 'admin' ? 'account_admin' : user.role
        const username = credential(user.usernameEnv, env)
        const password = secrets.add(credential(user.passwordEnv, env))!
        const actor: Actor = { label: `a${a}.w${w}.${kind}${u > 0 ? u + 1 : ''}`, kind: 'user', actorKind: kind, username, accountId: account.id, workspaceId: ws.id, role: user.role, accountRole: user.accountRole ?? null }
        topology.actors.push(actor)
        logins.push({ actor, password })
      }
    }
  }
  for (const p of tenants.principals) {
    const username = credential(p.usernameEnv, env)
    const password = secrets.add(credential(p.passwordEnv, env))!
    const actor: Actor = { label: `p.${p.platformRole}`, kind: 'principal', actorKind: p.platformRole, username, platformRole: p.platformRole }
    topology.actors.push(actor)
    logins.push({ actor, password })
  }
  // Every listed user and principal logs in once, concurrently (up to the adapter's concurrency).
  await mapPool(logins, http.concurrency ?? 1, async ({ actor, password }) => void (actor.token = await login(http, profile, secrets, actor.username!, password, actor.kind === 'user' ? actor.workspaceId : undefined)))
  const objects = await seedObjects(http, contract, topology, canary)
  for (const o of objects) {
    const del = contract.byResource(o.resource, 'delete').find((op) => op.tenancy.scope === 'workspace')
    const owner = topology.actors.find((a) => a.label === o.ownerLabel)
    if (del && owner) topology.created.push({ resource: o.resource, path: fillPath(del.path, { [params.workspace]: o.workspaceId, [del.pathParams.at(-1)!]: o.id }), token: owner.token })
  }
  topology.objects.push(...objects)
  return { topology, secrets, rootToken: '' }
}
