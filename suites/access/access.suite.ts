import { checkTest } from '../../harness/vitest/check-test.js'
import { ACCESS_CHECKS } from '../index.js'

for (const check of ACCESS_CHECKS) checkTest(check)
