import { readFileSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadProfile, parseProfile } from './profile.js'
import { profileJsonSchema } from '../../scripts/profile-schema.js'

const dir = new URL('../../fixtures/targets/', import.meta.url)

describe('target profiles', () => {
  it('every shipped profile is valid', () => {
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) expect(() => loadProfile(new URL(f, dir).pathname), f).not.toThrow()
  })

  it('the committed JSON Schema is generated from the zod schema (run `npm run schema`)', () => {
    expect(readFileSync(new URL('target.schema.json', dir), 'utf8')).toBe(profileJsonSchema())
  })

  it('fills defaults and names the first bad field', () => {
    const p = parseProfile({ name: 'x', baseUrl: 'https://staging.example.com' })
    expect(p.denial.statuses).toEqual([403, 404])
    expect(p.auth.bootstrap.passwordEnv).toBe('BOOTSTRAP_PRINCIPAL_PASSWORD')
    expect(() => parseProfile({ name: 'x', baseUrl: 'nope' })).toThrow(/baseUrl/)
    expect(() => parseProfile({ name: 'x', baseUrl: 'https://x', denial: { statuses: [200] } })).toThrow(/denial\.statuses/)
  })
})
