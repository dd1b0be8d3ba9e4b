import { createHash } from 'node:crypto'
import { serializeList, type BareItem } from 'structured-headers'

/** A per-account quota as the Portal sets it (`PATCH /portal/v1/accounts/{id}` `{rateLimit}`). */
export interface Quota {
  requestsPerSecond: number
  burst: number
}

/** A limiter window: `points` requests per `seconds`. */
export interface Window {
  points: number
  seconds: number
}

/**
 * rate-limiter-flexible counts in fixed windows, so a token bucket (rate, burst) becomes the window
 * that admits `burst` requests at once and `requestsPerSecond` on average:
 * w = ceil(burst / requestsPerSecond) s, q = max(burst, requestsPerSecond × w) (a burst smaller
 * than one second's rate would otherwise cap the rate at the burst). This window is what the
 * RateLimit-Policy field announces.
 */
export function windowOf(quota: Quota): Window {
  const seconds = Math.max(1, Math.ceil(quota.burst / quota.requestsPerSecond))
  return { points: Math.max(quota.burst, quota.requestsPerSecond * seconds), seconds }
}

/**
 * The partition key as sent in `pk`: a hash of the limiter key, never the raw tenant id, user or
 * address (draft-ietf-httpapi-ratelimit-headers-11 §5: avoid partition keys with sensitive data).
 */
export function partitionKey(key: string): Buffer {
  return createHash('sha256').update('tenant-audit/ratelimit\0').update(key).digest().subarray(0, 12)
}

/** One policy's state after a request, enough to write the draft-11 fields. */
export interface PolicyState {
  /** Policy name: `account`, `principal`, `login-address`, `login-username`. */
  name: string
  window: Window
  key: string
  /** The partition key sent as `pk` (partitionKey(key) unless a seeded fault says otherwise). */
  pk: Buffer
  remaining: number
  msBeforeNext: number
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/** `RateLimit-Policy: "account";q=100;w=2;pk=:...:` (an SF List, draft-11 §4). */
export function policyField(states: readonly PolicyState[]): string {
  return serializeList(states.map((s) => [s.name, new Map<string, BareItem>([
    ['q', s.window.points], ['w', s.window.seconds], ['pk', s.pk],
  ])]))
}

/** `RateLimit: "account";r=99;t=2;pk=:...:` (an SF List, draft-11 §5). */
export function stateField(states: readonly PolicyState[]): string {
  return serializeList(states.map((s) => [s.name, new Map<string, BareItem>([
    ['r', Math.max(0, s.remaining)], ['t', seconds(s.msBeforeNext)], ['pk', s.pk],
  ])]))
}

/** Retry-After (delay-seconds): the end of the effective window, never earlier (draft-11 §5.1). */
export function retryAfterSeconds(state: PolicyState): number {
  return seconds(state.msBeforeNext)
}
