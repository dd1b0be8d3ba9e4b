import { checkTests } from '../../harness/vitest/check-test.js'
import { FORGERY_CHECKS } from '../index.js'

checkTests(FORGERY_CHECKS)
