import { checkTests } from '../../harness/vitest/check-test.js'
import { ACCESS_CHECKS } from '../index.js'

checkTests(ACCESS_CHECKS)
