import { describe } from 'vitest'
import { accessFaults, faultIsCaught } from './self-audit.shared.js'

describe('self-audit: each seeded access fault is caught (part 2)', () => {
  for (const fault of accessFaults(1)) faultIsCaught(fault)
})
