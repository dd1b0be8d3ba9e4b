import { readFileSync } from 'node:fs'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { exportJWK, generateKeyPair } from 'jose'
import { attempt, headerLike, victimClaims } from '../../harness/forge/scene.js'
import { hmacToken } from '../../harness/forge/jwt.js'
import { signWith } from '../../harness/forge/issuer.js'
import { forgeryCheck } from './shared.js'

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8')

/**
 * KEY-01 to KEY-04: the token names or carries its own key — an embedded `jwk` (EC, RSA, oct), a `jku`
 * and an `x5u` pointing at the harness's loopback listener (which serves the attacker's JWKS and
 * certificate and counts hits), and a self-signed `x5c` chain. Each must be refused without a fetch.
 */
export const keyHeaders = forgeryCheck({
  name: 'key-headers',
  title: 'A token that carries or points to its own key (jwk, jku, x5u, x5c) is accepted',
  docs: 'forgery.md KEY-01 (embedded jwk, CVE-2018-0114), KEY-02 (jku + SSRF), KEY-03 (x5u), KEY-04 (x5c self-signed); RFC 8725 §3.10; faults embedded-jwk-trusted, jku-fetched-and-trusted',
  listener: true,
  async attack(scene, listener) {
    const claims = victimClaims(scene)
    const realKid = scene.attackerToken.header.kid
    const ec = await generateKeyPair('ES256', { extractable: true })
    const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ta-attacker-ec', alg: 'ES256', use: 'sig' }
    const ecKey = createPrivateKey({ key: { ...(await exportJWK(ec.privateKey)) } as never, format: 'jwk' })
    const rsa = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 })
    const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'ta-attacker-rsa', alg: 'RS256' }
    const rsaKey = createPrivateKey({ key: { ...(await exportJWK(rsa.privateKey)) } as never, format: 'jwk' })

    // KEY-01: embedded jwk, with the attacker's kid and with the real one.
    for (const kid of [ecJwk.kid, realKid]) {
      await attempt(scene, { name: `embedded EC jwk, kid ${String(kid)}`, catalog: 'KEY-01', token: signWith('ES256', ecKey, headerLike(scene, { alg: 'ES256', kid, jwk: ecJwk }), claims), expect: 'reject' })
    }
    await attempt(scene, { name: 'embedded RSA jwk', catalog: 'KEY-01', token: signWith('RS256', rsaKey, headerLike(scene, { alg: 'RS256', kid: rsaJwk.kid, jwk: rsaJwk }), claims), expect: 'reject' })
    const k = Buffer.from('tenant-audit-attacker-oct-key-32b').toString('base64url')
    await attempt(scene, { name: 'embedded oct jwk with HS256', catalog: 'KEY-01', token: hmacToken('HS256', Buffer.from(k, 'base64url'), headerLike(scene, { kid: 'ta-attacker-oct', jwk: { kty: 'oct', k } }), claims), expect: 'reject' })

    // KEY-02: jku at the listener (only ever loopback), also with the real kid and a userinfo-prefixed URL.
    const l = listener!
    l.serve('/jwks.json', { keys: [ecJwk, rsaJwk] })
    const issuerHost = new URL(String(scene.victimToken.payload.iss ?? 'https://issuer.invalid')).host || 'issuer.invalid'
    const jkus = [l.url('/jwks.json'), `http://${issuerHost}@127.0.0.1:${l.address.port}/jwks.json`]
    for (const jku of jkus) {
      for (const kid of [ecJwk.kid, realKid]) {
        await attempt(scene, { name: `jku ${jku.replace(/:\d+/, ':<listener>')}, kid ${String(kid)}`, catalog: 'KEY-02', token: signWith('ES256', ecKey, headerLike(scene, { alg: 'ES256', kid, jku }), claims), expect: 'reject' })
      }
    }

    // KEY-03 / KEY-04: the attacker's self-signed certificate, by URL and inline.
    const certPem = fixture('attacker-cert.pem')
    const certKey = createPrivateKey(fixture('attacker-key.pem'))
    l.serve('/cert.pem', certPem, 'application/pem-certificate-chain')
    await attempt(scene, { name: 'x5u at the listener', catalog: 'KEY-03', token: signWith('ES256', certKey, headerLike(scene, { alg: 'ES256', x5u: l.url('/cert.pem') }), claims), expect: 'reject' })
    const der = new X509Certificate(certPem).raw.toString('base64')
    await attempt(scene, { name: 'x5c with a self-signed certificate', catalog: 'KEY-04', token: signWith('ES256', certKey, headerLike(scene, { alg: 'ES256', x5c: [der] }), claims), expect: 'reject' })
    await attempt(scene, { name: 'x5c with a self-signed certificate, no kid', catalog: 'KEY-04', token: signWith('ES256', certKey, { ...headerLike(scene, { alg: 'ES256', x5c: [der] }), kid: undefined }, claims), expect: 'reject' })
  },
})
