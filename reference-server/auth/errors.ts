/**
 * Why a token or a credential was refused. The codes are a closed union so the HTTP layer can map each
 * one to a status and an audit outcome exhaustively, and so tests can assert on the exact reason.
 */
export type AuthErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_too_large'
  | 'signature_invalid'
  | 'algorithm_not_allowed'
  | 'key_unknown'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_too_old'
  | 'claim_missing'
  | 'claim_invalid'
  | 'issuer_invalid'
  | 'audience_invalid'
  | 'type_invalid'
  | 'token_revoked'

// Fixed wording per code: a message is built from the code alone, so it can never carry key material,
// an expected signature or any part of the presented token, whoever logs or returns it.
const MESSAGES: Readonly<Record<AuthErrorCode, string>> = {
  token_missing: 'No bearer token was presented',
  token_malformed: 'The bearer token is malformed',
  token_too_large: 'The bearer token is too large',
  signature_invalid: 'The token signature is invalid',
  algorithm_not_allowed: 'The token algorithm is not allowed',
  key_unknown: 'The token signing key is unknown',
  token_expired: 'The token has expired',
  token_not_yet_valid: 'The token is not yet valid',
  token_too_old: 'The token is too old',
  claim_missing: 'A required token claim is missing',
  claim_invalid: 'A token claim is invalid',
  issuer_invalid: 'The token issuer is not accepted',
  audience_invalid: 'The token audience is not accepted',
  type_invalid: 'The token type is not accepted',
  token_revoked: 'The token has been revoked',
}

/**
 * A refused token. Thrown by the verifier; the HTTP layer answers 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` and records `code` in the audit trail.
 *
 * Deliberately carries no `cause`: jose's claim errors hold the decoded payload, and a serialised
 * cause in a log line would leak exactly what the generic message keeps out.
 */
export class AuthError extends Error {
  readonly code: AuthErrorCode

  constructor(code: AuthErrorCode) {
    super(MESSAGES[code])
    this.name = 'AuthError'
    this.code = code
  }
}

/** Narrowing helper for `catch (err)` blocks. */
export function isAuthError(err: unknown): err is AuthError {
  return err instanceof AuthError
}
