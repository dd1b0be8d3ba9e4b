import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { parseContract } from './contract.js'
import { LeakDetector } from './canary.js'
import type { Actor, Topology } from './topology.js'

const doc = () => parseYaml(readFileSync(new URL('../../reference-server/openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, { 'x-tenancy'?: { allow: string[]; action: string } }>> }

const ws = { label: 'a0.w0', id: 'w0', accountId: 'a0' }
const member: Actor = { label: 'a0.w0.editor', kind: 'user', actorKind: 'editor', id: 'u1', accountId: 'a0', workspaceId: 'w0', role: 'editor', accountRole: null }
const admin: Actor = { label: 'a0.w0.admin', kind: 'user', actorKind: 'admin', id: 'u2', accountId: 'a0', workspaceId: 'w0', role: 'admin', accountRole: null }
const viewer: Actor = { label: 'a0.w0.viewer', kind: 'user', actorKind: 'viewer', id: 'u3', accountId: 'a0', workspaceId: 'w0', role: 'viewer', accountRole: null }
const support: Actor = { label: 'p.support', kind: 'principal', actorKind: 'support', id: 'p1', platformRole: 'support' }
const canary = 'zqtagx1q'

function topology(resource: string): Topology {
  return {
    seed: 1, tag: 'tag', accounts: [{ label: 'a0', id: 'a0', workspaces: [ws] }], actors: [member, admin, viewer, support],
    objects: [{ label: member.label, resource, id: 'u1', accountId: 'a0', workspaceId: 'w0', ownerLabel: member.label, private: false, canary }],
    params: { account: 'accountId', workspace: 'workspaceId' }, created: [],
  }
}
const answer = { body: JSON.stringify({ items: [{ email: `${canary}@tenant-audit.test` }] }), headers: {} }

/** Who may see a user's canaries comes from the policy: whoever may list or read the users of its workspace. */
describe('visibility of a member directory', () => {
  it('a member directory read by an admin of the workspace and by a principal is no leak', () => {
    const contract = parseContract(doc())
    const leaks = new LeakDetector(topology(contract.vocabulary.name('user')), contract.annotated)
    expect(leaks.scan(admin, answer)).toEqual([])
    expect(leaks.scan(support, answer)).toEqual([])
  })

  it('the same canary in the answer to a viewer, whom the policy does not let list members, is a leak', () => {
    const contract = parseContract(doc())
    const leaks = new LeakDetector(topology(contract.vocabulary.name('user')), contract.annotated)
    expect(leaks.scan(viewer, answer).map((l) => l.object.label)).toEqual([member.label])
  })

  it('holds under another vocabulary: members listed by viewers too are visible to them', () => {
    const d = doc()
    for (const item of Object.values(d.paths)) for (const op of Object.values(item)) {
      const t = op['x-tenancy']
      if (!t) continue
      t.action = t.action.replace(/^users\./, 'members.')
      if (t.action === 'members.list') t.allow = [...new Set(['viewer', ...t.allow])]
    }
    const contract = parseContract(d)
    expect(contract.vocabulary.name('user')).toBe('members')
    const leaks = new LeakDetector(topology('members'), contract.annotated)
    expect(leaks.scan(viewer, answer)).toEqual([])
  })
})

describe('owner-only objects', () => {
  it('a resource whose create is open but whose reads and writes are owner: true is owner-only, and its objects are private', () => {
    const d = doc()
    for (const item of Object.values(d.paths)) for (const op of Object.values(item)) {
      const t = op['x-tenancy'] as { action: string; owner?: boolean } | undefined
      if (t?.action === 'notes.create' || t?.action === 'notes.list') t.owner = false
    }
    const contract = parseContract(d)
    expect(contract.ownerOnly('notes')).toBe(true)
    const t = topology('notes')
    t.objects[0]!.private = true
    const leaks = new LeakDetector(t, contract.annotated)
    // Not even an admin of the workspace may see another member's note, through a list or a read.
    expect(leaks.scan(admin, answer).map((l) => l.object.label)).toEqual([member.label])
    expect(leaks.scan(member, answer)).toEqual([])
  })
})
