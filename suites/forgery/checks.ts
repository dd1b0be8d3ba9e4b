import type { CheckDefinition } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { tamperedSignature } from './tampered-signature.check.js'
import { algNone } from './alg-none.check.js'
import { hmacKeys } from './hmac-keys.check.js'
import { ecdsaSignatures } from './ecdsa-signatures.check.js'
import { algorithmSubstitution } from './algorithm-substitution.check.js'

/** The forgery suite's checks, in run and report order (`suites/forgery/forgery.suite.ts` runs them). */
export const FORGERY_CHECKS: CheckDefinition<CheckContext>[] = [
  tamperedSignature,
  algNone,
  hmacKeys,
  ecdsaSignatures,
  algorithmSubstitution,
]
