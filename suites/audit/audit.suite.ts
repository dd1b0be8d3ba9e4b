import { checkTests } from '../../harness/vitest/check-test.js'
import { AUDIT_CHECKS } from '../index.js'

checkTests(AUDIT_CHECKS)
