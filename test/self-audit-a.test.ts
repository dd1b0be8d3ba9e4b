import { describe } from 'vitest'
import { accessFaults, faultIsCaught } from './self-audit.shared.js'

describe('self-audit: each seeded access fault is caught (part 1)', () => {
  for (const fault of accessFaults(0)) faultIsCaught(fault)
})
