import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { quotaEnforced } from './quota-enforced.check.js'
import { tenantIsolation } from './tenant-isolation.check.js'
import { keyedOnTenantNotAddress } from './keyed-on-tenant-not-address.check.js'
import { keyedOnVerifiedClaims } from './keyed-on-verified-claims.check.js'
import { sharedAccountQuota } from './shared-account-quota.check.js'
import { headers } from './headers.check.js'
import { loginBruteforce } from './login-bruteforce.check.js'
import { loginRace } from './login-race.check.js'
import { refusalsCharged } from './refusals-charged.check.js'
import { costToOthers } from './cost-to-others.check.js'

/** The ratelimit suite's checks, in run and report order (`suites/ratelimit/ratelimit.suite.ts` runs them). */
export const RATELIMIT_CHECKS: CheckDefinition<CheckContext>[] = [
  quotaEnforced, tenantIsolation, keyedOnTenantNotAddress, keyedOnVerifiedClaims, sharedAccountQuota, headers, refusalsCharged,
  // Last: they lock the harness's address out of logins until Retry-After (which they wait for).
  loginBruteforce, loginRace, costToOthers,
]
