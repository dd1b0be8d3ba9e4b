import { checkTests } from '../../harness/vitest/check-test.js'
import { RATELIMIT_CHECKS } from '../index.js'

checkTests(RATELIMIT_CHECKS)
