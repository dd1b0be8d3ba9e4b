import { checkTest } from '../../harness/vitest/check-test.js'
import { RATELIMIT_CHECKS } from '../index.js'

for (const check of RATELIMIT_CHECKS) checkTest(check)
