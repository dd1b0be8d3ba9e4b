import { AuthError } from './errors.js'

/** Longest token the verifier will parse; ours are ~600 characters, and parsing is where bugs live. */
export const MAX_TOKEN_LENGTH = 4096

// Three non-empty base64url segments and nothing else: refuses `=` padding, `+` and `/`, whitespace,
// an empty signature (`alg: none` as `H.P.`) and five-part JWE before any decoder sees the bytes.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

const SCHEME = 'bearer '

/**
 * Extracts the token from an `Authorization` header value, exactly `Bearer <token>` (RFC 6750 §2.1:
 * case-insensitive scheme, one space, one token). Throws `token_missing` when there is no bearer
 * token at all, `token_too_large` / `token_malformed` when there is one we will not parse.
 */
export function extractBearer(authorization: string | undefined): string {
  if (authorization === undefined || authorization.length < SCHEME.length) {
    throw new AuthError('token_missing')
  }
  if (authorization.slice(0, SCHEME.length).toLowerCase() !== SCHEME) {
    // Another scheme (Basic, DPoP, …) presents no bearer token.
    throw new AuthError('token_missing')
  }
  const token = authorization.slice(SCHEME.length)
  if (token.length === 0) throw new AuthError('token_missing')
  // Size first: the cheapest refusal, and it bounds the work of every check after it.
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('token_too_large')
  // Commas and spaces mean a second token or credential; the regex would refuse them too, but a
  // separate branch keeps "two tokens" an explicit, documented case.
  if (/[\s,]/.test(token)) throw new AuthError('token_malformed')
  if (!COMPACT_JWS.test(token)) throw new AuthError('token_malformed')
  assertCanonicalSegments(token)
  return token
}

/**
 * Rejects segments whose base64url is not the one canonical encoding of its bytes. Decoders ignore the
 * unused low bits of the last character, so without this check one signature has several spellings —
 * which breaks anything keyed on token bytes and is exactly what forgery checks probe. Only the encoding
 * is compared; nothing decoded here is interpreted.
 */
function assertCanonicalSegments(token: string): void {
  for (const segment of token.split('.')) {
    if (Buffer.from(segment, 'base64url').toString('base64url') !== segment) {
      throw new AuthError('token_malformed')
    }
  }
}
