import { describe } from 'vitest'
import { accessFaults, faultsAreCaught } from './self-audit.shared.js'
import { CLI_TIMEOUT } from './cli.js'

describe('self-audit: each seeded access fault is caught (part 2)', { timeout: CLI_TIMEOUT }, () => {
  faultsAreCaught(accessFaults(1))
})
