import type { FaultSpec } from './catalog.js'

/** Audit-trail faults: events missing, leaking, forgeable or mutable (issue 6). */
const audit = (name: string, description: string, detectedBy: string[]): FaultSpec => ({
  name,
  suite: 'audit',
  description,
  detectedBy,
})

export const AUDIT_FAULTS = [
  audit('audit-skips-denials',
    'Denials (403, 404, 405 on an authenticated operation) are not recorded in the audit trail.',
    ['audit/denials-recorded', 'audit/timeliness']),
  audit('audit-skips-patch',
    'PATCH writes are not recorded in the audit trail.',
    ['audit/writes-recorded', 'audit/timeliness']),
  audit('audit-read-leaks-accounts',
    "The Dashboard account audit route ignores the account filter (and reads with platform rights): every trail is returned.",
    ['audit/read-isolation']),
  audit('audit-actor-missing',
    'Events are written without the actor: verified callers are recorded as `{kind: "anonymous"}`.',
    ['audit/event-fields', 'audit/denials-recorded', 'audit/principal-access-recorded']),
  audit('audit-chain-wrong-content',
    'The event hash is computed over the wrong content (without `target`), so exported trails do not verify.',
    ['audit/chain-verifies']),
  audit('audit-records-bearer-token',
    'The Authorization header is recorded in the event (`src.authorization`).',
    ['audit/no-secrets']),
  audit('audit-delete-route',
    'An undocumented `DELETE /dashboard/v1/accounts/{accountId}/audit-events/{eventId}` lets an account admin delete events (it runs on a role that can delete).',
    ['audit/immutable']),
  audit('audit-outside-transaction',
    'The write event is inserted in its own transaction before the change, with outcome success: a change that then fails (a 409 duplicate user) leaves a success event.',
    ['audit/failed-changes']),
  audit('audit-blames-token-subject',
    "A rejected token's unverified claims are believed: the authentication failure is recorded in the claimed account's trail, in the claimed user's name.",
    ['audit/auth-failures-recorded']),
  audit('audit-tail-truncated',
    "Right after a trail's checkpoint is handed out, the newest events of that trail are deleted as the owner and the head is rewound: the shorter chain still verifies, only the checkpoint shows the loss.",
    ['audit/checkpoint-anchored']),
] as const satisfies readonly FaultSpec[]
