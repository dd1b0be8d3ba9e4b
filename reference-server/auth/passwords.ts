import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'

/** scrypt cost parameters of new hashes. */
export interface ScryptCost { readonly N: number; readonly r: number; readonly p: number }

/**
 * The production cost, `serve`'s default: OWASP Password Storage Cheat Sheet's current scrypt
 * guidance (N=2^17, r=8, p=1, 128 MiB per hash).
 */
export const PRODUCTION_COST: ScryptCost = { N: 1 << 17, r: 8, p: 1 }
/**
 * A cheaper cost (N=2^14, 16 MiB, ~30-50 ms here) for throwaway users only, long enough to time: the
 * embedded and test servers (`startThrowawayServer`) when a seeded fault that shows only in the KDF's
 * duration is on (catalog `timedKdf`), and tests that pass it to `startServer`. Never `serve`'s default.
 */
export const THROWAWAY_COST: ScryptCost = { N: 1 << 14, r: 8, p: 1 }
/**
 * The cheapest (N=2^11, 2 MiB, ~4 ms here): the embedded audit server's throwaway users
 * (`startThrowawayServer`) when no `timedKdf` fault is on. Those users live for one run on loopback
 * and the KDF was the largest single CPU cost of an embedded audit (~28 % of the serving process at
 * N=2^14, bench:audit). Never `serve`'s default.
 */
export const EMBEDDED_COST: ScryptCost = { N: 1 << 11, r: 8, p: 1 }
const PARAMS = PRODUCTION_COST
const SALT_BYTES = 16
const KEY_BYTES = 32

// Upper bounds for parameters read back from storage: a tampered or corrupt row must not be able to
// make one login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 17
const MAX_R = 16
const MAX_P = 4

/**
 * Valid hashes of random passwords nobody knows, one per cost. Logins for unknown users verify
 * against the one of the configured cost, so that "no such user" and "wrong password" take the same time.
 */
export const DUMMY_HASH = 'scrypt$16384$8$1$oKHW+Q+etf7YUQ7q+R+wMQ==$jANS4YCZSNN+a33r15RsnffiBK6cT2zSoI6qWA46SO8='
const PRODUCTION_DUMMY_HASH = 'scrypt$131072$8$1$xnI3PFqTPfvryDDRWty8dg==$zCA/a785OopMLa4X3pCzFQ+Vq3WVybPVvKOdN0btW2U='
const EMBEDDED_DUMMY_HASH = 'scrypt$2048$8$1$Va9t4yckRVt8dWx5Py55rA==$nE3h7/nI9NmD120PfMGr1fthqlmx5SQdMDHqku05O1o='
const otherDummies = new Map<string, Promise<string>>()

/** The dummy hash of this cost (another cost than the three named ones: made once, from a random password). */
export async function dummyHashFor(cost: ScryptCost): Promise<string> {
  const key = `${cost.N}$${cost.r}$${cost.p}`
  if (key === `${PRODUCTION_COST.N}$${PRODUCTION_COST.r}$${PRODUCTION_COST.p}`) return PRODUCTION_DUMMY_HASH
  if (key === `${THROWAWAY_COST.N}$${THROWAWAY_COST.r}$${THROWAWAY_COST.p}`) return DUMMY_HASH
  if (key === `${EMBEDDED_COST.N}$${EMBEDDED_COST.r}$${EMBEDDED_COST.p}`) return EMBEDDED_DUMMY_HASH
  let h = otherDummies.get(key)
  if (!h) otherDummies.set(key, (h = hashPassword(generatePassword(), cost)))
  return h
}

function derive(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  // maxmem must exceed 128·N·r or node refuses; give it headroom above the bound we accept.
  const maxmem = 256 * (opts.N ?? PARAMS.N) * (opts.r ?? PARAMS.r)
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keylen, { ...opts, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

/** Hashes a password as `scrypt$N$r$p$saltB64$hashB64` with a fresh 16-byte salt. */
export async function hashPassword(password: string, cost: ScryptCost = PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(password, salt, KEY_BYTES, cost)
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), hash.toString('base64')].join('$')
}

interface Parsed {
  N: number
  r: number
  p: number
  salt: Buffer
  hash: Buffer
}

function parse(encoded: string): Parsed | undefined {
  const parts = encoded.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^[1-9][0-9]{0,6}$/.test(s) ? Number(s) : NaN))
  if (N === undefined || r === undefined || p === undefined) return undefined
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0
  if (!powerOfTwo || N > MAX_N || !(r <= MAX_R) || !(p <= MAX_P)) return undefined
  const salt = Buffer.from(parts[4] ?? '', 'base64')
  const hash = Buffer.from(parts[5] ?? '', 'base64')
  if (salt.length < SALT_BYTES || hash.length < 16) return undefined
  return { N, r, p, salt, hash }
}

/**
 * Checks a password against a stored hash in constant time. A malformed stored value verifies as
 * false (after the same work as a real check) rather than throwing, so the login path has one shape.
 */
export async function verifyPassword(password: string, encoded: string, cost: ScryptCost = PARAMS): Promise<boolean> {
  const parsed = parse(encoded)
  if (parsed === undefined) {
    await verifyAgainstDummy(password, cost)
    return false
  }
  const { N, r, p, salt, hash } = parsed
  const candidate = await derive(password, salt, hash.length, { N, r, p })
  return timingSafeEqual(candidate, hash)
}

/** Burns the cost of one real verification and always answers false: use it when the user is unknown. */
export async function verifyAgainstDummy(password: string, cost: ScryptCost = PARAMS): Promise<false> {
  const parsed = parse(await dummyHashFor(cost))
  if (parsed !== undefined) {
    const { N, r, p, salt, hash } = parsed
    const candidate = await derive(password, salt, hash.length, { N, r, p })
    timingSafeEqual(candidate, hash)
  }
  return false
}

/** A random password of 24 base64url characters (144 bits), e.g. for the bootstrap principal. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url')
}
