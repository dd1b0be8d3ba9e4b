import { describe } from 'vitest'
import { accessFaults, faultIsCaught } from './self-audit.shared.js'
import { CLI_TIMEOUT } from './cli.js'

describe('self-audit: each seeded access fault is caught (part 2)', { timeout: CLI_TIMEOUT }, () => {
  for (const fault of accessFaults(1)) faultIsCaught(fault)
})
