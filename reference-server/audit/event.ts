/** The audit event as served (see the audit contract): camelCase, OCSF-flavoured, hash-chained per trail. */
export type ActorKind = 'user' | 'principal' | 'anonymous'
export type Outcome = 'success' | 'failure'
export type Activity = 'create' | 'read' | 'update' | 'delete' | 'list' | 'search' | 'logon' | 'other'

export interface AuditActor {
  kind: ActorKind
  uid?: string
  accountId?: string | null
  workspaceId?: string | null
  roles?: string[]
}

export interface AuditTarget {
  type: string
  uid: string | null
  accountId: string | null
  workspaceId: string | null
}

export interface AuditEvent {
  id: string
  accountId: string | null
  seq: number
  prevHash: string | null
  hash: string
  time: string
  classUid: number
  activity: Activity
  action: string
  metadata: { tenantUid: string | null; correlationUid: string; version: '1' }
  actor: AuditActor
  target?: AuditTarget
  http: { method: string; route: string; status: number }
  outcome: Outcome
  reason: string | null
  src: { ip: string; userAgent: string } & Record<string, string>
  count: number
}

/** Everything the recorder knows before the chain gives the event its place (id, seq, prevHash, hash). */
export type EventDraft = Omit<AuditEvent, 'id' | 'seq' | 'prevHash' | 'hash' | 'metadata'> & {
  metadata?: undefined
  correlationUid: string
}

export const PLATFORM_TRAIL = '00000000-0000-0000-0000-000000000000'
export const ANONYMOUS: AuditActor = { kind: 'anonymous' }

export const CLASS_API_ACTIVITY = 6003
export const CLASS_AUTHENTICATION = 3002
export const CLASS_ACCOUNT_CHANGE = 3001

const VERBS: readonly Activity[] = ['create', 'read', 'update', 'delete', 'list', 'search']

/** `documents.update` → `update`; `auth.token` → `logon`; any other verb → `other`. */
export function activityOf(action: string): Activity {
  if (action === 'auth.token') return 'logon'
  const verb = action.split('.')[1] ?? ''
  return (VERBS as readonly string[]).includes(verb) ? (verb as Activity) : 'other'
}

/** Reads (and lists, searches) change nothing: they are recorded only for principals naming an account. */
export function isRead(action: string): boolean {
  const a = activityOf(action)
  return a === 'read' || a === 'list' || a === 'search'
}

/** OCSF class: logins 3002; user and account lifecycle (roles, removal, suspension) 3001; API activity otherwise. */
export function classOf(action: string): number {
  if (action.startsWith('auth.')) return CLASS_AUTHENTICATION
  if (!isRead(action) && (action.startsWith('users.') || action === 'accounts.update' || action === 'accounts.delete')) return CLASS_ACCOUNT_CHANGE
  return CLASS_API_ACTIVITY
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators: none can start a new "line".
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * A recorded string: control characters (CR, LF, …) become visible `\uXXXX` text, so nothing a client
 * sends can end one entry and start another in any line-oriented export; long values are cut.
 */
export function clean(value: string | undefined | null, max = 512): string {
  if (!value) return ''
  const escaped = value.replace(CONTROL, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
  return escaped.length > max ? escaped.slice(0, max) + '…' : escaped
}
