import { CompactEncrypt, generateKeyPair } from 'jose'
import { randomBytes } from 'node:crypto'
import { attempt, victimClaims } from '../../harness/forge/scene.js'
import { b64u } from '../../harness/forge/jwt.js'
import { forgeryCheck, throwawaySession, victimWorkspace, noMemberReason } from './shared.js'

/**
 * CTX-01, CTX-02, CTX-06 to CTX-08: a throwaway member of the victim's workspace logs in; its ID token
 * and its refresh token are presented as access tokens on the victim's route (its own access token is
 * the control). Then a JWE, nested JWTs and the JSON serialisation carrying the victim's claims.
 */
export const tokenType = forgeryCheck({
  name: 'token-type',
  title: 'An ID token, refresh token, JWE, nested JWT or JSON-serialised JWS is accepted as an access token',
  docs: 'forgery.md CTX-01 (ID token), CTX-02 (refresh token), CTX-06 (JWE), CTX-07 (nested JWT), CTX-08 (JSON serialisation, CVE-2022-39227); RFC 8725 §2.8, §3.12; faults id-token-as-access-token, refresh-token-as-access-token',
  async attack(scene) {
    const got = await throwawaySession(scene.ctx, victimWorkspace(scene), 'editor', `${victimWorkspace(scene).label}.throwaway-forgery`)
    if (!got) return noMemberReason(scene.ctx)
    const { session } = got
    const control = await scene.ctx.as(got.member).get(scene.readPath)
    if (control.status < 200 || control.status > 299) return `the throwaway member's own access token was refused on a read (${control.status}): no control`
    if (session.id_token) await attempt(scene, { name: "a member's ID token", catalog: 'CTX-01', token: session.id_token, expect: 'reject' })
    if (session.refresh_token) await attempt(scene, { name: "a member's refresh token", catalog: 'CTX-02', token: session.refresh_token, expect: 'reject' })
    if (!session.id_token && !session.refresh_token) return 'the token endpoint returned neither an ID token nor a refresh token'

    const claims = JSON.stringify(victimClaims(scene))
    const rsa = await generateKeyPair('RSA-OAEP-256')
    const jwe = await new CompactEncrypt(Buffer.from(claims)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' }).encrypt(rsa.publicKey)
    await attempt(scene, { name: 'JWE (RSA-OAEP-256) of the victim\'s claims', catalog: 'CTX-06', token: jwe, expect: 'reject' })
    const dir = await new CompactEncrypt(Buffer.from(claims)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(randomBytes(32))
    await attempt(scene, { name: "JWE (dir) of the victim's claims", catalog: 'CTX-06', token: dir, expect: 'reject' })

    const [h, , s] = scene.attackerToken.segments
    const inner = `${h}.${b64u(claims)}.${s}`
    await attempt(scene, { name: 'outer alg none, cty JWT, around a tampered inner token', catalog: 'CTX-07', token: `${b64u({ alg: 'none', cty: 'JWT' })}.${b64u(inner)}.`, expect: 'reject' })
    await attempt(scene, { name: "outer alg none, cty JWT, around the member's valid access token", catalog: 'CTX-07', token: `${b64u({ alg: 'none', cty: 'JWT' })}.${b64u(session.access_token)}.`, expect: 'reject' })

    const flattened = JSON.stringify({ protected: h, payload: b64u(claims), signature: s })
    await attempt(scene, { name: 'flattened JSON serialisation', catalog: 'CTX-08', authorization: `Bearer ${flattened}`, expect: 'reject' })
    const polyglot = JSON.stringify({ [`${h}.${b64u(claims)}.`]: '', protected: h, payload: scene.attackerToken.segments[1], signature: s })
    await attempt(scene, { name: 'compact + JSON polyglot (CVE-2022-39227 shape)', catalog: 'CTX-08', authorization: `Bearer ${polyglot}`, expect: 'reject' })
  },
})
