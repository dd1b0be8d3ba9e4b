import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet } from 'jose'
import type { TargetContract } from '../core/contract.js'
import type { Op } from '../engine/judge.js'
import type { MappedEvent } from './mapping.js'

/**
 * Signed checkpoints of a trail's head, seen from outside (research tenancy-audit-ratelimit.md
 * §2.3: a chain does not show a truncated tail unless its head is anchored elsewhere; §2.5.6:
 * the head matches the published checkpoint). A checkpoint is a compact JWS whose payload names
 * the trail, the newest event's `seq` and its `hash` (as served), verified against the target's
 * JWKS. Nothing here knows the reference server's routes.
 */

/** The JWS `typ` a checkpoint carries: its own, so it can never pass as an access token. */
export const CHECKPOINT_TYP = 'audit-checkpoint+jwt'

// Asymmetric algorithms only: a checkpoint is checked against the published keys.
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA']

export interface CheckpointOps {
  /** An account's own trail (account scope, e.g. the Dashboard). */
  account?: Op | undefined
  /** Any account's trail (platform scope, the Portal). */
  portal?: Op | undefined
}

/** The on-demand checkpoint operations: a `read` whose resource names a checkpoint (`audit-checkpoint.read`). */
export function checkpointOps(contract: TargetContract): CheckpointOps {
  const all = contract.annotated.filter((o) => o.verb === 'read' && /checkpoint/i.test(o.resource))
  return { account: all.find((o) => o.tenancy.scope === 'account'), portal: all.find((o) => o.tenancy.scope === 'platform') }
}

/** A checkpoint whose signature verified: only the signed payload counts, never copies beside it. */
export interface Checkpoint {
  trail: string
  seq: number
  hash: string | null
  issuedAt?: string | undefined
  kid?: string | undefined
}

export type CheckpointReading =
  | { ok: true; checkpoint: Checkpoint }
  | { ok: false; problem: 'no-jws' | 'signature' | 'payload'; message: string }

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** The compact JWS in an answer: the body itself (`application/jwt`), or a top-level string member that is one. */
export function jwsIn(json: unknown, body: string): string | undefined {
  if (COMPACT.test(body.trim())) return body.trim()
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined
  return Object.values(json as Record<string, unknown>).find((v): v is string => typeof v === 'string' && COMPACT.test(v))
}

/** Verifies a checkpoint's signature against the JWKS (and its `typ`), then the shape of its payload. */
export async function verifyCheckpoint(jws: string, jwks: JSONWebKeySet): Promise<CheckpointReading> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>
  try {
    verified = await jwtVerify(jws, createLocalJWKSet(jwks), { typ: CHECKPOINT_TYP, algorithms: ALGORITHMS })
  } catch (err) {
    const why = err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : String(err)
    return { ok: false, problem: 'signature', message: `the checkpoint does not verify against the published JWKS (${why})` }
  }
  const { trail, seq, hash, issuedAt } = verified.payload as Record<string, unknown>
  if (typeof trail !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || !(typeof hash === 'string' || (hash === null && seq === 0))) {
    return { ok: false, problem: 'payload', message: 'the signed checkpoint lacks `trail` (string), `seq` (integer ≥ 0) or `hash` (string; null only at seq 0)' }
  }
  return { ok: true, checkpoint: { trail, seq, hash, issuedAt: typeof issuedAt === 'string' ? issuedAt : undefined, kid: verified.protectedHeader.kid } }
}

export type Anchoring =
  | { kind: 'anchored' }
  /** The trail ends before the checkpoint's seq: its tail was removed. */
  | { kind: 'shorter'; newest: number }
  /** An event at the checkpoint's seq exists with another hash: the tail was removed and rewritten. */
  | { kind: 'rewritten'; found: string | undefined }
  /** Events after the checkpoint's seq exist, none at it. */
  | { kind: 'missing' }

/** Judges one verified checkpoint against the trail's exported events (read through the mapping). */
export function anchoring(cp: Checkpoint, events: readonly MappedEvent[]): Anchoring {
  if (cp.seq === 0) return { kind: 'anchored' }
  const at = events.find((e) => e.seq === cp.seq)
  if (at) return at.hash === cp.hash ? { kind: 'anchored' } : { kind: 'rewritten', found: at.hash }
  const newest = Math.max(0, ...events.map((e) => e.seq ?? 0))
  return newest < cp.seq ? { kind: 'shorter', newest } : { kind: 'missing' }
}
