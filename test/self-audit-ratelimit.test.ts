import { describe } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { faultsAreCaught } from './self-audit.shared.js'
import { CLI_TIMEOUT } from './cli.js'

describe('self-audit: each seeded rate-limit fault is caught', { timeout: CLI_TIMEOUT }, () => {
  faultsAreCaught(FAULTS.filter((f) => f.suite === 'ratelimit'))
})
