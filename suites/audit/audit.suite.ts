import { checkTest } from '../../harness/vitest/check-test.js'
import { AUDIT_CHECKS } from '../index.js'

for (const check of AUDIT_CHECKS) checkTest(check)
