import type { FaultSpec } from './catalog.js'

/** Rate-limit faults: quotas keyed or shared wrongly (issue 5). Each lives in reference-server/ratelimit/limiter.ts (or route.ts). */
const ratelimit = <N extends string>(name: N, description: string, detectedBy: string[]) => ({
  name,
  suite: 'ratelimit' as const,
  description,
  detectedBy,
}) satisfies FaultSpec

export const RATELIMIT_FAULTS = [
  ratelimit('ratelimit-quota-ignored',
    "The Portal stores an account's quota but the limiter never reads it: every account keeps the (generous) default.",
    ['ratelimit/quota-enforced']),
  ratelimit('ratelimit-keyed-by-address',
    "The account quota's bucket is the client address, taken from X-Forwarded-For when present: rotating the header resets it.",
    ['ratelimit/keyed-on-tenant-not-address']),
  ratelimit('ratelimit-global-bucket',
    'One bucket for every tenant: one account spending its quota throttles the others.',
    ['ratelimit/tenant-isolation']),
  ratelimit('ratelimit-unverified-claim',
    "The limiter runs before token verification and keys on the account_id decoded from the token before it is verified: forged tokens naming an account drain its quota.",
    ['ratelimit/keyed-on-verified-claims']),
  ratelimit('ratelimit-token-endpoint-unlimited',
    'Failed logins are not limited: a password guesser is never throttled.',
    ['ratelimit/login-bruteforce']),
  ratelimit('ratelimit-login-check-then-spend',
    'The login limiter reads its counters before the password check and spends them only after a failure: wrong passwords sent at once all pass the read (issue 13 defect 2).',
    ['ratelimit/login-race']),
  ratelimit('ratelimit-refusals-uncharged',
    'A request with a valid token is refused (an id that names nothing: 404; a method the path does not take: 405) before it spends its account quota: a flood of refusals is free (issue 13 defect 4).',
    ['ratelimit/refusals-charged']),
  ratelimit('ratelimit-revoked-token-charged',
    "A revoked token spends its former account's quota before it is refused: anyone holding one can throttle the account (issue 13 defect 5).",
    ['ratelimit/refusals-charged']),
  ratelimit('ratelimit-keyed-per-user',
    "The account quota is kept per user: an account's many users multiply its quota.",
    ['ratelimit/shared-account-quota']),
  ratelimit('ratelimit-raw-partition-key',
    'The RateLimit fields\' partition key (pk) is the raw limiter key, which carries the account id.',
    ['ratelimit/headers']),
] as const satisfies readonly FaultSpec[]
