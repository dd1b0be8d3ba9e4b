import { describe, expect, it } from 'vitest'
import { SEVERITIES, atOrAbove, compareSeverity, isSeverity, severityRank } from './severity.js'

describe('severity ordering', () => {
  it('ranks critical highest and info lowest', () => {
    const ranks = SEVERITIES.map(severityRank)
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a))
    expect(severityRank('critical')).toBeGreaterThan(severityRank('info'))
  })

  it('compares at-or-above inclusively', () => {
    expect(atOrAbove('high', 'high')).toBe(true)
    expect(atOrAbove('critical', 'high')).toBe(true)
    expect(atOrAbove('medium', 'high')).toBe(false)
    expect(atOrAbove('info', 'low')).toBe(false)
  })

  it('sorts most severe first and validates input', () => {
    expect(['low', 'critical', 'medium'].sort((a, b) => compareSeverity(a as never, b as never))).toEqual(['critical', 'medium', 'low'])
    expect(isSeverity('high')).toBe(true)
    expect(isSeverity('toString')).toBe(false)
    expect(isSeverity(3)).toBe(false)
  })
})
