import { randomUUID } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, errors, exportSPKI, importJWK, jwtVerify } from 'jose'
import type { CryptoKey, JWK, JWTHeaderParameters, JWTPayload } from 'jose'
import { extractBearer } from './bearer.js'
import { firstMembers, strictSegment } from './strict-json.js'
import { toVerifiedToken } from './claims.js'
import type { VerifiedToken } from './claims.js'
import { AuthError } from './errors.js'
import type { AuthErrorCode } from './errors.js'
import type { KeyAlg, KeyStore } from './keys.js'

export type { VerifiedToken } from './claims.js'

/** Leeway for clock skew between issuer and verifier. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5

export interface VerifierOptions {
  keys: KeyStore
  issuer: string
  audience: string
  /** Oldest `iat` accepted, in seconds: the access-token lifetime. */
  maxTokenAgeSeconds: number
  /** Defaults to DEFAULT_CLOCK_TOLERANCE_SECONDS. */
  clockToleranceSeconds?: number
  isRevoked(jti: string): Promise<boolean>
  /** App clients whose tokens this API accepts (`client_id`, CLM-08); any when absent. */
  clientIds?: readonly string[]
  /** Seeded forgery faults (reference-server/faults/forgery.ts); each is one guarded branch below. */
  faults?: { has(name: string): boolean }
}

// Every alg a key can be bound to. jose checks this list before it calls the key resolver; the
// resolver then narrows it to the one alg of the key the kid names, so the effective allowlist is
// per key. HS*, none and PS* never get as far as key selection.
const BINDABLE_ALGS: readonly KeyAlg[] = ['ES256', 'RS256']

// Header parameters that would let the token choose or carry its own key, or demand processing we do
// not do. We never follow them, and refuse them so a misconfiguration cannot start to.
const REFUSED_HEADERS = ['crit', 'jku', 'x5u', 'x5c', 'jwk'] as const

const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'jti', 'client_id', 'scope']

/** Tokens whose signature and claims were verified, kept until they expire; bounded (oldest out first). */
export const VERIFIED_CACHE_MAX = 10_000

// The seeded faults that change what verification accepts; with any of them on, nothing is cached.
const VERIFY_FAULTS = ['embedded-jwk-trusted', 'jku-fetched-and-trusted', 'hs256-with-public-key', 'signature-not-checked', 'alg-none-accepted',
  'duplicate-claims-first-wins', 'id-token-as-access-token', 'iss-aud-not-checked', 'exp-not-checked']

interface CachedToken {
  verified: VerifiedToken
  /** The key that verified it: a cache hit counts only while the key store still has this key under this kid. */
  kid: string
  key: CryptoKey | Uint8Array
  /** Seconds since the epoch: the earlier of `exp` and `iat` + the maximum token age. */
  until: number
}

/** Maps a jose failure to our closed set of codes. Non-jose errors are bugs and are rethrown. */
function codeFor(err: unknown): AuthErrorCode | undefined {
  if (err instanceof errors.JWTExpired) return err.claim === 'iat' ? 'token_too_old' : 'token_expired'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return 'claim_missing'
    if (err.reason === 'invalid') return 'claim_invalid'
    switch (err.claim) {
      case 'typ': return 'type_invalid'
      case 'iss': return 'issuer_invalid'
      case 'aud': return 'audience_invalid'
      case 'nbf': case 'iat': return 'token_not_yet_valid' // iat check_failed here means "in the future"
      default: return 'claim_invalid'
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature_invalid'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm_not_allowed'
  // JOSENotSupported can only mean an unrecognised `crit` extension here: unknown algs are refused
  // earlier by the allowlist. Everything else jose throws is a structural defect.
  if (err instanceof errors.JOSEError) return 'token_malformed'
  return undefined
}

/**
 * Builds the access-token verifier. `verify` takes the raw `Authorization` header value and either
 * returns the verified claims or throws AuthError; it never reads an unverified claim.
 */
export function createVerifier(opts: VerifierOptions): { verify(authorization: string | undefined): Promise<VerifiedToken> } {
  const { keys, issuer, audience } = opts

  const faults = { has: (name: string): boolean => opts.faults?.has(name) ?? false }

  // Sees only the protected header; the payload is not consulted to choose a key.
  const resolveKey = async (header: JWTHeaderParameters): Promise<CryptoKey | Uint8Array> => {
    if (faults.has('embedded-jwk-trusted') && header.jwk !== undefined) {
      // The bug (CVE-2018-0114): the token carries the key that verifies it.
      return importJWK(header.jwk as JWK, header.alg)
    }
    if (faults.has('jku-fetched-and-trusted') && typeof header.jku === 'string') return fetchJku(header)
    if (REFUSED_HEADERS.some((name) => Object.hasOwn(header, name))) throw new AuthError('token_malformed')
    if (typeof header.kid !== 'string' || header.kid === '') throw new AuthError('key_unknown')
    const key = keys.verificationKey(header.kid)
    if (key === undefined) throw new AuthError('key_unknown')
    // A key verifies under its own alg only: this is what stops RS→HS and ES→RS confusion per key.
    if (header.alg !== key.alg) throw new AuthError('algorithm_not_allowed')
    return key.publicKey
  }

  /** Only under `jku-fetched-and-trusted`: fetches the header's URL, loopback only (the harness's listener). */
  async function fetchJku(header: JWTHeaderParameters): Promise<CryptoKey | Uint8Array> {
    const url = new URL(header.jku!)
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new AuthError('key_unknown')
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
    const jwks = (await res?.json().catch(() => undefined)) as { keys?: JWK[] } | undefined
    const jwk = jwks?.keys?.find((k) => header.kid === undefined || k.kid === header.kid) ?? jwks?.keys?.[0]
    if (!jwk) throw new AuthError('key_unknown')
    return importJWK(jwk, header.alg)
  }

  /** Only under `hs256-with-public-key`: an HS* token is checked with the public key's PEM as the HMAC secret. */
  async function publicKeyAsSecret(token: string): Promise<JWTPayload> {
    const { kid } = decodeProtectedHeader(token)
    const key = keys.verificationKey(typeof kid === 'string' ? kid : keys.signingKey().kid)
    if (!key) throw new AuthError('key_unknown')
    const secret = new TextEncoder().encode(await exportSPKI(key.publicKey))
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256', 'HS384', 'HS512'], issuer, audience })
    return payload
  }

  /** Only under `signature-not-checked` and `alg-none-accepted`: reads the claims of a token nobody verified. */
  function unverifiedClaims(authorization: string | undefined): VerifiedToken | undefined {
    const raw = authorization?.replace(/^bearer\s+/i, '').trim()
    if (!raw || raw.split('.').length !== 3) return undefined
    let header: { alg?: unknown }
    let payload: JWTPayload
    try {
      header = decodeProtectedHeader(raw)
      payload = decodeJwt(raw)
    } catch {
      return undefined
    }
    const none = typeof header.alg === 'string' && header.alg.trim().toLowerCase() === 'none'
    // signature-not-checked: the bug is a decode where a verify belongs (lax form checks included).
    // alg-none-accepted: `none`, in any spelling, means "no signature to check".
    if (!faults.has('signature-not-checked') && !(faults.has('alg-none-accepted') && none)) return undefined
    if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) throw new AuthError('token_expired')
    return toVerifiedToken(payload)
  }

  // The signature (an ES256/RS256 verification, the costliest step of a request's authentication) is
  // checked once per token bytes: a repeat of the same token, before it expires and while its key is
  // still trusted, gets the claims verified then. Revocation is not cached: `isRevoked` runs every time.
  const cache = new Map<string, CachedToken>()
  const cacheable = () => !VERIFY_FAULTS.some((f) => faults.has(f))

  function cached(authorization: string): VerifiedToken | undefined {
    let token: string
    try {
      token = extractBearer(authorization)
    } catch {
      return undefined // the full path refuses it, with its reason
    }
    const hit = cache.get(token)
    if (!hit) return undefined
    if (Date.now() / 1000 < hit.until && keys.verificationKey(hit.kid)?.publicKey === hit.key) return hit.verified
    cache.delete(token)
    return undefined
  }

  function remember(token: string, verified: VerifiedToken, payload: JWTPayload): void {
    const { kid } = decodeProtectedHeader(token)
    const key = typeof kid === 'string' ? keys.verificationKey(kid)?.publicKey : undefined
    if (!key || typeof kid !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return
    if (cache.size >= VERIFIED_CACHE_MAX) cache.delete(cache.keys().next().value!)
    cache.set(token, { verified, kid, key, until: Math.min(payload.exp, payload.iat + opts.maxTokenAgeSeconds) })
  }

  async function verify(authorization: string | undefined): Promise<VerifiedToken> {
    const useCache = cacheable()
    if (useCache && authorization !== undefined) {
      const hit = cached(authorization)
      if (hit) {
        if (await opts.isRevoked(hit.jti)) throw new AuthError('token_revoked')
        return hit
      }
    }
    if (faults.has('signature-not-checked') || faults.has('alg-none-accepted')) {
      const unverified = unverifiedClaims(authorization)
      if (unverified) return unverified
    }
    const token = extractBearer(authorization)
    // Header and payload must be strict UTF-8 JSON objects with unique member names (RFC 8725 §3.7);
    // jose alone drops a BOM and lets the last duplicate win.
    const [h, p] = token.split('.') as [string, string, string]
    const firstWins = faults.has('duplicate-claims-first-wins')
    if (!firstWins && (strictSegment(h) === undefined || strictSegment(p) === undefined)) throw new AuthError('token_malformed')
    const idTokens = faults.has('id-token-as-access-token')
    const issAud = !faults.has('iss-aud-not-checked')
    let payload: JWTPayload
    try {
      if (faults.has('hs256-with-public-key') && /^HS/.test(String(decodeProtectedHeader(token).alg))) {
        payload = await publicKeyAsSecret(token)
      } else {
        ;({ payload } = await jwtVerify(token, resolveKey, {
          algorithms: [...BINDABLE_ALGS],
          // id-token-as-access-token: the bug is trusting any token this issuer signed, whatever its type.
          ...(idTokens ? {} : { typ: 'at+jwt' }),
          ...(issAud ? { issuer } : {}),
          ...(issAud && !idTokens ? { audience } : {}),
          requiredClaims: idTokens ? ['exp', 'iat', 'sub'] : REQUIRED_CLAIMS,
          maxTokenAge: opts.maxTokenAgeSeconds,
          clockTolerance: opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
        }))
      }
    } catch (err) {
      if (err instanceof AuthError) throw err
      // exp-not-checked: the bug is treating "expired" (or "too old") as good enough.
      if (faults.has('exp-not-checked') && err instanceof errors.JWTExpired) payload = err.payload
      else {
        const code = codeFor(err)
        if (code === undefined) throw err
        throw new AuthError(code)
      }
    }
    if (idTokens && payload.token_use === 'id') {
      payload = { ...payload, jti: randomUUID(), client_id: String(payload.aud), scope: 'app dashboard', token_use: 'access' }
    }
    // jose accepts an aud array that merely contains ours; a token minted for several audiences can be
    // replayed at each of them, so only our audience alone is accepted (RFC 9068 §4, RFC 8725 §3.9).
    const aud = payload.aud
    const audOk = aud === audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === audience)
    if (!audOk && issAud && !idTokens) throw new AuthError('audience_invalid')
    // maxTokenAge bounds iat only: a token may not claim to live longer than we issue them (RFC 8725 §3.10 bis, CLM-04).
    const tolerance = opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS
    if (typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp - payload.iat > opts.maxTokenAgeSeconds + tolerance) {
      throw new AuthError('claim_invalid')
    }
    if (firstWins) {
      // The bug: identity and tenancy are read by a naive first-match parser, the signature check by the last-wins one.
      payload = { ...payload, ...firstMembers(Buffer.from(p, 'base64url').toString('utf8'), ['sub', 'account_id', 'workspace_id', 'roles']) }
    }

    const verified = toVerifiedToken(payload)
    // A token minted for another app client is not for us (aws-jwt-verify validateCognitoJwtFields, CLM-08).
    if (opts.clientIds !== undefined && issAud && !opts.clientIds.includes(verified.clientId)) throw new AuthError('audience_invalid')
    if (useCache) remember(token, verified, payload)
    // Last, and only for a token that is otherwise valid: the store is not queried for forged jtis.
    if (await opts.isRevoked(verified.jti)) throw new AuthError('token_revoked')
    return verified
  }

  return { verify }
}
