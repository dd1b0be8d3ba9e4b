import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { KeyStore } from '../auth/keys.js'
import type { Tx } from '../store/db.js'
import { PLATFORM_TRAIL } from './event.js'

/**
 * Signed checkpoints of a trail's head (research tenancy-audit-ratelimit.md §2.5.6: anchor the chain
 * outside the database). A hash chain alone proves nothing about its tail: an owner who deletes the
 * newest events (and rewinds the head) leaves a shorter chain that still verifies. A checkpoint
 * `{trail, seq, hash, issuedAt}` signed with a key of the JWKS, held by whoever asked for it, does:
 * the event at `seq` must exist and carry `hash` for as long as the trail exists.
 */

/** The JWS `typ` of a checkpoint: never `at+jwt`, so the access-token verifier refuses it on `typ` alone. */
export const CHECKPOINT_TYP = 'audit-checkpoint+jwt'

/** How a trail is named in a checkpoint: its account id, or `platform`. */
export type TrailName = string | 'platform'

export interface Checkpoint {
  trail: TrailName
  /** The newest event's seq (0 for an empty trail). */
  seq: number
  /** The newest event's hash, as served (null for an empty trail). */
  hash: string | null
  /** RFC 3339. */
  issuedAt: string
}

/** A checkpoint and its compact JWS (the payload is the checkpoint, plus `iss` and `iat`). */
export interface SignedCheckpoint extends Checkpoint {
  jws: string
}

const trailName = (accountId: string | null): TrailName => accountId ?? 'platform'

/** Signs a checkpoint with the current signing key (ES256, `kid`, `typ: audit-checkpoint+jwt`). */
export async function signCheckpoint(keys: KeyStore, issuer: string, cp: Checkpoint): Promise<string> {
  const { kid, privateKey } = keys.signingKey()
  return new SignJWT({ ...cp })
    .setProtectedHeader({ alg: keys.alg, kid, typ: CHECKPOINT_TYP })
    .setIssuer(issuer)
    .setIssuedAt(Math.floor(Date.parse(cp.issuedAt) / 1000))
    .sign(privateKey)
}

/** The newest event of a trail, read in `tx` (so RLS decides whether the caller may see it). */
async function headOf(tx: Tx, accountId: string | null): Promise<{ seq: number; hash: string | null }> {
  const { rows } = await tx.query<{ seq: string; hash: string }>(
    'SELECT seq::text AS seq, hash FROM audit_events WHERE trail = $1 ORDER BY audit_events.seq DESC LIMIT 1', [accountId ?? PLATFORM_TRAIL])
  const row = rows[0]
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: null }
}

/** Signs `cp` and keeps it in `audit_checkpoints` (in `tx`: it commits with whatever `tx` commits). */
export async function storeCheckpoint(tx: Tx, keys: KeyStore, issuer: string, accountId: string | null, cp: Checkpoint): Promise<SignedCheckpoint> {
  const jws = await signCheckpoint(keys, issuer, cp)
  await tx.query('INSERT INTO audit_checkpoints (id, trail, account_id, seq, hash, issued_at, jws) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [randomUUID(), accountId ?? PLATFORM_TRAIL, accountId, cp.seq, cp.hash, cp.issuedAt, jws])
  return { ...cp, jws }
}

/** A checkpoint of the trail's head now (on demand), signed and stored. */
export async function issueCheckpoint(tx: Tx, keys: KeyStore, issuer: string, accountId: string | null): Promise<SignedCheckpoint> {
  const head = await headOf(tx, accountId)
  return storeCheckpoint(tx, keys, issuer, accountId, { trail: trailName(accountId), ...head, issuedAt: new Date().toISOString() })
}

/** A periodic checkpoint: the event just appended (its seq a multiple of the period) is the head. */
export async function checkpointAppended(tx: Tx, keys: KeyStore, issuer: string, event: { accountId: string | null; seq: number; hash: string }): Promise<void> {
  await storeCheckpoint(tx, keys, issuer, event.accountId, { trail: trailName(event.accountId), seq: event.seq, hash: event.hash, issuedAt: new Date().toISOString() })
}

/** The stored checkpoints of a trail (in `tx`, under RLS), oldest first. */
export async function storedCheckpoints(tx: Tx, accountId: string | null): Promise<SignedCheckpoint[]> {
  const { rows } = await tx.query<{ seq: string; hash: string | null; issued_at: string | Date; jws: string }>(
    'SELECT seq::text AS seq, hash, issued_at, jws FROM audit_checkpoints WHERE trail = $1 ORDER BY audit_checkpoints.seq, issued_at', [accountId ?? PLATFORM_TRAIL])
  return rows.map((r) => ({ trail: trailName(accountId), seq: Number(r.seq), hash: r.hash, issuedAt: new Date(r.issued_at).toISOString(), jws: r.jws }))
}
