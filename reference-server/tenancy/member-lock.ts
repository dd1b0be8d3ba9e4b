import type { Tx } from '../store/db.js'
import type { FaultSet } from '../faults/index.js'

/**
 * A member's role holds for the whole of a write it authorised (issue 13 suspicion s1). Under READ
 * COMMITTED the role is read at the start of a request's transaction; without a lock, a demotion
 * could commit, and be answered, before a write authorised under the old role commits. A write by a
 * member takes a transaction-scoped *shared* advisory lock on its user id before its role is read;
 * a change to a member (role update, removal) takes the *exclusive* one before it reads the member,
 * so it waits for that member's writes in flight and every later write reads the new role. Changes
 * to members do not take the shared lock on their caller: two admins changing each other at once
 * would otherwise deadlock. PGlite runs one transaction at a time; the locks cost nothing there.
 */
export const MEMBER_WRITE_LOCK = "SELECT pg_advisory_xact_lock_shared(hashtextextended('member:' || $1, 0))"
const MEMBER_CHANGE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('member:' || $1, 0))"

/** Operations that change a member: they take the exclusive lock on the member they change. */
export const MEMBER_CHANGES = new Set(['updateWorkspaceUser', 'deleteWorkspaceUser'])

/** Seeded fault `demotion-race-unlocked`: no member lock at all, so a demotion may be answered before a write it should have waited for. */
function memberLocksOff(faults: FaultSet): boolean {
  return faults.has('demotion-race-unlocked')
}

/** Does a write to `operationId` take its caller's shared lock? Writes by members, except changes to members (two admins demoting each other must not deadlock). */
export function takesMemberWriteLock(method: string, operationId: string, faults: FaultSet): boolean {
  return method !== 'get' && !MEMBER_CHANGES.has(operationId) && !memberLocksOff(faults)
}

export async function lockMemberForChange(tx: Tx, userId: string, faults: FaultSet): Promise<void> {
  if (!memberLocksOff(faults)) await tx.query(MEMBER_CHANGE_LOCK, [userId])
}
