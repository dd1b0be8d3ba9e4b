import { describe, expect, it } from 'vitest'
import { DUMMY_HASH, generatePassword, hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js'

describe('passwords', () => {
  it('round-trips and refuses a wrong password', async () => {
    const encoded = await hashPassword('correct horse battery staple')
    expect(encoded).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    expect(await verifyPassword('correct horse battery staple', encoded)).toBe(true)
    expect(await verifyPassword('correct horse battery stapler', encoded)).toBe(false)
    expect(await verifyPassword('', encoded)).toBe(false)
  })

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'))
  })

  it('treats a malformed or over-costly stored value as a mismatch', async () => {
    for (const bad of ['', 'bcrypt$x', 'scrypt$16384$8$1$$', 'scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==']) {
      expect(await verifyPassword('x', bad)).toBe(false)
    }
  })

  it('has a dummy hash with the real parameters that nothing verifies against', async () => {
    expect(DUMMY_HASH.startsWith('scrypt$16384$8$1$')).toBe(true)
    expect(await verifyAgainstDummy('anything')).toBe(false)
  })

  it('generates 24-character base64url passwords', () => {
    const a = generatePassword()
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(generatePassword()).not.toBe(a)
  })
})
