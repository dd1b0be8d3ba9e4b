import { checkTest } from '../../harness/vitest/check-test.js'
import { FORGERY_CHECKS } from '../index.js'

for (const check of FORGERY_CHECKS) checkTest(check)
