import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'

/** Cost parameters for new hashes (OWASP's scrypt minimum: N=2^14, r=8, p=1). */
const PARAMS = { N: 16384, r: 8, p: 1 } as const
const SALT_BYTES = 16
const KEY_BYTES = 32

// Upper bounds for parameters read back from storage: a tampered or corrupt row must not be able to
// make one login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 17
const MAX_R = 16
const MAX_P = 4

/**
 * A valid hash of a random password nobody knows, with the same parameters as real hashes. Logins for
 * unknown users verify against it so that "no such user" and "wrong password" take the same time.
 */
export const DUMMY_HASH = 'scrypt$16384$8$1$oKHW+Q+etf7YUQ7q+R+wMQ==$jANS4YCZSNN+a33r15RsnffiBK6cT2zSoI6qWA46SO8='

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
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(password, salt, KEY_BYTES, PARAMS)
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), hash.toString('base64')].join('$')
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
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded)
  if (parsed === undefined) {
    await verifyAgainstDummy(password)
    return false
  }
  const { N, r, p, salt, hash } = parsed
  const candidate = await derive(password, salt, hash.length, { N, r, p })
  return timingSafeEqual(candidate, hash)
}

/** Burns the cost of one real verification and always answers false: use it when the user is unknown. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  const parsed = parse(DUMMY_HASH)
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
