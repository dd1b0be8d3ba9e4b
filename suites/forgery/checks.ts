import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { tamperedSignature } from './tampered-signature.check.js'
import { algNone } from './alg-none.check.js'
import { hmacKeys } from './hmac-keys.check.js'
import { ecdsaSignatures } from './ecdsa-signatures.check.js'
import { algorithmSubstitution } from './algorithm-substitution.check.js'
import { keyHeaders } from './key-headers.check.js'
import { kidSelection } from './kid-selection.check.js'
import { malformedTokens } from './malformed-tokens.check.js'
import { duplicateMembers } from './duplicate-members.check.js'
import { claimValidation } from './claim-validation.check.js'
import { tokenLifetime } from './token-lifetime.check.js'
import { tokenType } from './token-type.check.js'
import { tenantBinding } from './tenant-binding.check.js'
import { lifecycleReplay } from './lifecycle-replay.check.js'
import { tokenLocation } from './token-location.check.js'
import { refreshRace } from './refresh-race.check.js'
import { refreshFamilyLifetime } from './refresh-family-lifetime.check.js'

/** The forgery suite's checks, in run and report order (`suites/forgery/forgery.suite.ts` runs them). */
export const FORGERY_CHECKS: CheckDefinition<CheckContext>[] = [
  tamperedSignature,
  algNone,
  hmacKeys,
  ecdsaSignatures,
  algorithmSubstitution,
  keyHeaders,
  kidSelection,
  malformedTokens,
  duplicateMembers,
  claimValidation,
  tokenLifetime,
  tokenType,
  tenantBinding,
  lifecycleReplay,
  refreshRace,
  refreshFamilyLifetime,
  tokenLocation,
]
