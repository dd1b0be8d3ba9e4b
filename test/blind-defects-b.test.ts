import { describe } from 'vitest'
import { CLI_TIMEOUT } from './cli.js'
import { blindDefectsAreCaught, blindDefects } from './blind.shared.js'

describe('the blind target: each planted defect, switched on alone, is reported (part b)', { timeout: CLI_TIMEOUT }, () => {
  blindDefectsAreCaught(blindDefects(1))
})
