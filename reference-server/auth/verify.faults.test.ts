/**
 * The verifier-level forgery faults (reference-server/faults/forgery.ts), each shown to be real: the
 * clean verifier refuses the token, the verifier with that one fault accepts it. The end-to-end proof
 * that the forgery suite catches each fault is test/self-audit-forgery.test.ts.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHmac } from 'node:crypto'
import { exportJWK, exportSPKI, generateKeyPair } from 'jose'
import { beforeEach, describe, expect, it } from 'vitest'
import { createKeyStore, type KeyStore } from './keys.js'
import { AUDIENCE, ISSUER, accessHeader, b64, forge, signRaw, userPayload } from './testkit.js'
import { createVerifier } from './verify.js'

let keys: KeyStore
const verifier = (...faults: string[]) => createVerifier({ keys, issuer: ISSUER, audience: AUDIENCE, maxTokenAgeSeconds: 900, isRevoked: async () => false, faults: new Set(faults) })

async function cleanRefusesFaultyAccepts(fault: string, token: string): Promise<void> {
  await expect(verifier().verify(`Bearer ${token}`)).rejects.toThrow()
  await expect(verifier(fault).verify(`Bearer ${token}`)).resolves.toMatchObject({ kind: 'user' })
}

beforeEach(async () => {
  keys = await createKeyStore({ retireAfterSeconds: 900 })
})

describe('forgery faults in the verifier', () => {
  it('alg-none-accepted', async () => {
    await cleanRefusesFaultyAccepts('alg-none-accepted', `${b64({ alg: 'nOnE', typ: 'at+jwt' })}.${b64(userPayload())}.AAAA`)
  })

  it('signature-not-checked', async () => {
    const [h, , s] = (await forge(keys)).split('.')
    await cleanRefusesFaultyAccepts('signature-not-checked', `${h}.${b64(userPayload({ roles: ['account:admin'] }))}.${s}`)
  })

  it('hs256-with-public-key', async () => {
    const pem = await exportSPKI(keys.verificationKey(keys.signingKey().kid)!.publicKey)
    const input = `${b64(accessHeader(keys, { alg: 'HS256' }))}.${b64(userPayload())}`
    await cleanRefusesFaultyAccepts('hs256-with-public-key', `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`)
  })

  it('exp-not-checked', async () => {
    const now = Math.floor(Date.now() / 1000)
    await cleanRefusesFaultyAccepts('exp-not-checked', await forge(keys, userPayload({ iat: now - 1000, exp: now - 100 })))
  })

  it('iss-aud-not-checked', async () => {
    await cleanRefusesFaultyAccepts('iss-aud-not-checked', await forge(keys, userPayload({ iss: 'https://elsewhere.test', aud: 'https://other.test' })))
  })

  it('id-token-as-access-token', async () => {
    const now = Math.floor(Date.now() / 1000)
    const p = userPayload({ token_use: 'id', aud: 'tenant-audit-cli', iat: now, exp: now + 300 })
    delete p.jti
    delete p.scope
    delete p.client_id
    await cleanRefusesFaultyAccepts('id-token-as-access-token', await forge(keys, p, accessHeader(keys, { typ: 'JWT' })))
  })

  it('embedded-jwk-trusted', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true })
    const jwk = await exportJWK(attacker.publicKey)
    await cleanRefusesFaultyAccepts('embedded-jwk-trusted', await signRaw(attacker.privateKey, accessHeader(keys, { kid: 'attacker', jwk }), userPayload()))
  })

  it('jku-fetched-and-trusted (loopback only)', async () => {
    const attacker = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker' }
    const server = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    try {
      const jku = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
      await cleanRefusesFaultyAccepts('jku-fetched-and-trusted', await signRaw(attacker.privateKey, accessHeader(keys, { kid: 'attacker', jku }), userPayload()))
      // Even with the fault, nothing but loopback is fetched.
      const remote = await signRaw(attacker.privateKey, accessHeader(keys, { kid: 'attacker', jku: 'http://192.0.2.1/jwks.json' }), userPayload())
      await expect(verifier('jku-fetched-and-trusted').verify(`Bearer ${remote}`)).rejects.toThrow()
    } finally {
      server.close()
    }
  })

  it('duplicate-claims-first-wins: tenancy from the first copy, the signature check from the last', async () => {
    const victim = userPayload()
    const attacker = userPayload()
    const raw = JSON.stringify(victim).replace(/\}$/, `,"sub":"${String(attacker.sub)}","account_id":"${String(attacker.account_id)}"}`)
    const token = await forge(keys, raw as unknown as object)
    await expect(verifier().verify(`Bearer ${token}`)).rejects.toThrow()
    await expect(verifier('duplicate-claims-first-wins').verify(`Bearer ${token}`)).resolves.toMatchObject({ sub: victim.sub, accountId: victim.account_id })
  })
})
