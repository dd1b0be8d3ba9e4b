/**
 * Test-only helpers for building tokens jose refuses to build (forgery.md §5): raw JSON segments,
 * non-canonical encodings, `crit`, non-finite numbers. Imported by *.test.ts files only.
 */
import { randomUUID } from 'node:crypto'
import type { CryptoKey } from 'jose'
import type { KeyStore } from './keys.js'

export const ISSUER = 'https://auth.tenant-audit.test'
export const AUDIENCE = 'https://api.tenant-audit.test'
export const CLIENT_ID = 'tenant-audit-cli'

/** base64url of a string taken verbatim, or of an object's JSON. */
export function b64(value: string | object): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

const SUBTLE_ALG = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
} as const

/** Signs arbitrary header and payload bytes (strings are used verbatim, e.g. `"exp":1e309`). */
export async function signRaw(
  privateKey: CryptoKey,
  header: string | object,
  payload: string | object,
  alg: keyof typeof SUBTLE_ALG = 'ES256',
): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`
  const sig = await globalThis.crypto.subtle.sign(SUBTLE_ALG[alg], privateKey, Buffer.from(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}

/** The protected header our issuer writes, with the store's current kid. */
export function accessHeader(keys: KeyStore, extra: object = {}): Record<string, unknown> {
  return { alg: 'ES256', kid: keys.signingKey().kid, typ: 'at+jwt', ...extra }
}

/** A valid user access-token claims set, issued now; override or delete members per test. */
export function userPayload(extra: object = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000)
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: randomUUID(),
    client_id: CLIENT_ID,
    scope: 'app dashboard',
    iat,
    exp: iat + 900,
    jti: randomUUID(),
    account_id: randomUUID(),
    workspace_id: randomUUID(),
    roles: ['workspace:editor'],
    ...extra,
  }
}

/** Signs a user token with the store's current key through the raw path. */
export async function forge(keys: KeyStore, payload: object = userPayload(), header?: object): Promise<string> {
  return signRaw(keys.signingKey().privateKey, header ?? accessHeader(keys), payload)
}
