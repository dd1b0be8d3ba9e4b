import { describe } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { faultIsCaught } from './self-audit.shared.js'
import { CLI_TIMEOUT } from './cli.js'

describe('self-audit: each seeded audit fault is caught', { timeout: CLI_TIMEOUT }, () => {
  for (const fault of FAULTS.filter((f) => f.suite === 'audit')) faultIsCaught(fault)
})
