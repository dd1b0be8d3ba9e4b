import { attempt, headerLike, victimClaims } from '../../harness/forge/scene.js'
import { b64u, nonCanonical } from '../../harness/forge/jwt.js'
import { forgeryCheck } from './shared.js'

/**
 * ENC-03, ENC-05 (byte level), ENC-08, ENC-09: non-canonical base64url spellings, a BOM, invalid UTF-8
 * and UTF-16 JSON, oversized headers and deep nesting, and structurally broken tokens. All must be a
 * clean 401 (431 or 413 for the oversized ones), never a 5xx, never an acceptance.
 */
export const malformedTokens = forgeryCheck({
  name: 'malformed-tokens',
  title: 'A malformed, non-canonical or oversized token is accepted or crashes the server',
  severity: 'high',
  docs: 'forgery.md ENC-03 (non-canonical base64url; PyJWT GHSA-hxm8-2xgr-2p9m), ENC-05 (BOM, invalid UTF-8, UTF-16), ENC-08 (oversized, nested), ENC-09 (malformed structure); RFC 8725 §2.9, §3.7; 8725bis §3.14; fault signature-not-checked',
  async attack(scene) {
    const [h, p, s] = scene.attackerToken.segments
    const claims = victimClaims(scene)
    const forged = `${h}.${b64u(claims)}.${s}`
    for (const v of nonCanonical(forged)) await attempt(scene, { name: `victim's claims, ${v.name}`, catalog: 'ENC-03', authorization: `Bearer ${v.token}`, expect: 'reject' })
    for (const v of nonCanonical(`${h}.${p}.${s}`)) await attempt(scene, { name: `attacker's valid token, ${v.name}`, catalog: 'ENC-03', authorization: `Bearer ${v.token}`, expect: 'deny' })

    const json = JSON.stringify(claims)
    const bytes: [string, Buffer][] = [
      ['UTF-8 BOM before the payload', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)])],
      ['invalid UTF-8 in the payload', Buffer.from(json.replace(/^\{/, '{"x":"\uFFFD",').replace('\uFFFD', '\u00ff'), 'latin1')],
      ['UTF-16LE payload', Buffer.from(json, 'utf16le')],
    ]
    for (const [name, payload] of bytes) await attempt(scene, { name, catalog: 'ENC-05', token: `${h}.${payload.toString('base64url')}.${s}`, expect: 'reject' })

    const big = { alsoAllowed: [400, 413, 431], severity: 'high' as const }
    await attempt(scene, { name: '8 kB token', catalog: 'ENC-08', token: `${h}.${b64u({ ...claims, pad: 'x'.repeat(6000) })}.${s}`, expect: 'reject', ...big })
    await attempt(scene, { name: '10 kB kid', catalog: 'ENC-08', token: `${b64u(headerLike(scene, { kid: 'k'.repeat(10_000) }))}.${b64u(claims)}.${s}`, expect: 'reject', ...big })
    await attempt(scene, { name: 'payload nested 2000 deep', catalog: 'ENC-08', token: `${h}.${b64u(`{"n":${'['.repeat(2000)}${']'.repeat(2000)}}`)}.${s}`, expect: 'reject', ...big })

    const structures: [string, string | undefined][] = [
      ['two segments', `${h}.${p}`], ['four segments', `${h}.${p}.${s}.${s}`], ['only dots', '..'],
      ['non-JSON header', `${b64u('not json')}.${p}.${s}`], ['header []', `${b64u('[]')}.${p}.${s}`], ['payload [1]', `${h}.${b64u('[1]')}.${s}`],
      ['payload null', `${h}.${b64u('null')}.${s}`], ['Bearer null', 'null'], ['Bearer undefined', 'undefined'], ['empty Bearer', ''],
    ]
    for (const [name, token] of structures) await attempt(scene, { name, catalog: 'ENC-09', authorization: `Bearer ${token}`, expect: 'reject' })
    await attempt(scene, { name: 'no Authorization header', catalog: 'ENC-09', expect: 'reject' })
  },
})
