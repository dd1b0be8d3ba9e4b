import { errors, jwtVerify } from 'jose'
import type { CryptoKey, JWTHeaderParameters } from 'jose'
import { extractBearer } from './bearer.js'
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
  /** Unused for now; kept so forgery faults can hook in later. */
  faults?: ReadonlySet<string>
}

// Every alg a key can be bound to. jose checks this list before it calls the key resolver; the
// resolver then narrows it to the one alg of the key the kid names, so the effective allowlist is
// per key. HS*, none and PS* never get as far as key selection.
const BINDABLE_ALGS: readonly KeyAlg[] = ['ES256', 'RS256']

// Header parameters that would let the token choose or carry its own key, or demand processing we do
// not do. We never follow them, and refuse them so a misconfiguration cannot start to.
const REFUSED_HEADERS = ['crit', 'jku', 'x5u', 'x5c', 'jwk'] as const

const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'jti', 'client_id', 'scope']

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

  // Sees only the protected header; the payload is not consulted to choose a key.
  const resolveKey = (header: JWTHeaderParameters): CryptoKey => {
    if (REFUSED_HEADERS.some((name) => Object.hasOwn(header, name))) throw new AuthError('token_malformed')
    if (typeof header.kid !== 'string' || header.kid === '') throw new AuthError('key_unknown')
    const key = keys.verificationKey(header.kid)
    if (key === undefined) throw new AuthError('key_unknown')
    // A key verifies under its own alg only: this is what stops RS→HS and ES→RS confusion per key.
    if (header.alg !== key.alg) throw new AuthError('algorithm_not_allowed')
    return key.publicKey
  }

  async function verify(authorization: string | undefined): Promise<VerifiedToken> {
    const token = extractBearer(authorization)
    let payload: unknown
    try {
      ;({ payload } = await jwtVerify(token, resolveKey, {
        algorithms: [...BINDABLE_ALGS],
        typ: 'at+jwt',
        issuer,
        audience,
        requiredClaims: REQUIRED_CLAIMS,
        maxTokenAge: opts.maxTokenAgeSeconds,
        clockTolerance: opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
      }))
    } catch (err) {
      if (err instanceof AuthError) throw err
      const code = codeFor(err)
      if (code === undefined) throw err
      throw new AuthError(code)
    }
    // jose accepts an aud array that merely contains ours; a token minted for several audiences can be
    // replayed at each of them, so only our audience alone is accepted (RFC 9068 §4, RFC 8725 §3.9).
    const aud = (payload as { aud?: unknown }).aud
    const audOk = aud === audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === audience)
    if (!audOk) throw new AuthError('audience_invalid')

    const verified = toVerifiedToken(payload)
    // Last, and only for a token that is otherwise valid: the store is not queried for forged jtis.
    if (await opts.isRevoked(verified.jti)) throw new AuthError('token_revoked')
    return verified
  }

  return { verify }
}
