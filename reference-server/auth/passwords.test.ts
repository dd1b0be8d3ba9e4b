import { describe, expect, it } from 'vitest'
import { DUMMY_HASH, EMBEDDED_COST, PRODUCTION_COST, THROWAWAY_COST, dummyHashFor, generatePassword, hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js'

describe('passwords', () => {
  it('hashes at OWASP\'s current scrypt guidance by default (N=2^17, r=8, p=1)', async () => {
    expect(PRODUCTION_COST).toEqual({ N: 131072, r: 8, p: 1 })
    const encoded = await hashPassword('correct horse battery staple')
    expect(encoded).toMatch(/^scrypt\$131072\$8\$1\$/)
    expect(await verifyPassword('correct horse battery staple', encoded)).toBe(true)
    expect(await verifyPassword('correct horse battery stapler', encoded)).toBe(false)
  })

  it('round-trips at the throwaway cost and refuses a wrong password', async () => {
    const encoded = await hashPassword('correct horse battery staple', THROWAWAY_COST)
    expect(encoded).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    expect(await verifyPassword('correct horse battery staple', encoded)).toBe(true)
    expect(await verifyPassword('correct horse battery stapler', encoded)).toBe(false)
    expect(await verifyPassword('', encoded)).toBe(false)
  })

  it('salts every hash', async () => {
    expect(await hashPassword('same', THROWAWAY_COST)).not.toBe(await hashPassword('same', THROWAWAY_COST))
  })

  it('treats a malformed or over-costly stored value as a mismatch', async () => {
    for (const bad of ['', 'bcrypt$x', 'scrypt$16384$8$1$$', 'scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==']) {
      expect(await verifyPassword('x', bad, THROWAWAY_COST)).toBe(false)
    }
  })

  it('has a dummy hash per configured cost, with that cost\'s parameters, that nothing verifies against', async () => {
    expect(DUMMY_HASH.startsWith('scrypt$16384$8$1$')).toBe(true)
    expect(await dummyHashFor(THROWAWAY_COST)).toBe(DUMMY_HASH)
    expect((await dummyHashFor(PRODUCTION_COST)).startsWith('scrypt$131072$8$1$')).toBe(true)
    expect((await dummyHashFor(EMBEDDED_COST)).startsWith('scrypt$2048$8$1$')).toBe(true)
    expect(await verifyAgainstDummy('anything', EMBEDDED_COST)).toBe(false)
    expect((await dummyHashFor({ N: 1024, r: 8, p: 1 })).startsWith('scrypt$1024$8$1$')).toBe(true)
    expect(await verifyAgainstDummy('anything', THROWAWAY_COST)).toBe(false)
    expect(await verifyAgainstDummy('anything')).toBe(false)
  })

  it('generates 24-character base64url passwords', () => {
    const a = generatePassword()
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(generatePassword()).not.toBe(a)
  })
})
