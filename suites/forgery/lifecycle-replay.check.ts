import { ANONYMOUS } from '../../harness/core/topology.js'
import { attempt } from '../../harness/forge/scene.js'
import { decode, highS, nonCanonical } from '../../harness/forge/jwt.js'
import { removeMember, setRole } from '../../harness/engine/members.js'
import { forgeryCheck, throwawaySession, victimWorkspace, noMemberReason } from './shared.js'

/**
 * RPL-04 to RPL-06: throwaway members of the victim's workspace log in. One token is revoked through the
 * contract's revocation endpoint (`auth.revoke`) and replayed as is, re-encoded and, for ES256, as its
 * high-S twin; one member's refresh token is revoked and its access token replayed (RFC 7009 §2.1: the
 * grant ends with it); one member is demoted to viewer and one removed, and their old tokens replayed.
 */
const REVOCATION_MISSING = 'the contract has no token-revocation operation (an auth-context action such as tokens.revoke; set vocabulary.actions.tokenRevocation if it has another name)'

export const lifecycleReplay = forgeryCheck({
  name: 'lifecycle-replay',
  title: 'A revoked token, or the token of a demoted or removed member, still works',
  docs: 'forgery.md RPL-04 (reuse after revocation), RPL-05 (revocation bypass by re-encoding, ENC-03/ENC-04 high-S), RPL-06 (membership removed or demoted); faults revoked-tokens-accepted, revoke-keeps-grant-access',
  applies: ({ contract }) => (contract.byRole('token-revocation').length > 0 ? undefined : REVOCATION_MISSING),
  async attack(scene) {
    const { ctx } = scene
    const revoke = ctx.contract.byRole('token-revocation')[0]
    if (!revoke) return REVOCATION_MISSING
    const ws = victimWorkspace(scene)
    const got = await throwawaySession(ctx, ws, 'editor', `${ws.label}.throwaway-revoked`)
    if (!got) return noMemberReason(ctx)
    const token = got.session.access_token
    const control = await ctx.as(got.member).get(scene.readPath)
    if (control.status < 200 || control.status > 299) return `the throwaway member's token was refused before revocation (${control.status}): no control`
    const res = await ctx.as(ANONYMOUS).send({ method: revoke.method.toUpperCase(), path: revoke.path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString() })
    if (res.status >= 300) return `the revocation endpoint refused the member's own token (${res.status})`
    ctx.retire(token) // the adapter must never renew or substitute a revoked token
    await attempt(scene, { name: 'revoked access token replayed', catalog: 'RPL-04', token, expect: 'reject' })
    for (const v of nonCanonical(token)) await attempt(scene, { name: `revoked token, ${v.name}`, catalog: 'RPL-05, ENC-03', authorization: `Bearer ${v.token}`, expect: 'reject' })
    const d = decode(token)
    const twin = d && d.header.alg === 'ES256' ? highS(d.segments[2]) : undefined
    if (twin) await attempt(scene, { name: 'revoked token, high-S twin of its signature', catalog: 'RPL-05, ENC-04', token: `${d!.segments[0]}.${d!.segments[1]}.${twin}`, expect: 'reject' })

    // Revoking the grant (its refresh token) ends the access tokens issued under it too (RFC 7009 §2.1;
    // Cognito's RevokeToken, RPL-04's source, does the same through origin_jti).
    const granted = await throwawaySession(ctx, ws, 'editor', `${ws.label}.throwaway-grant-revoked`)
    const refresh = granted?.session.refresh_token
    if (granted && refresh) {
      const access = granted.session.access_token
      const r = await ctx.as(ANONYMOUS).send({ method: revoke.method.toUpperCase(), path: revoke.path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: refresh, token_type_hint: 'refresh_token' }).toString() })
      if (r.status < 300) {
        ctx.retire(access)
        await attempt(scene, { name: 'access token of a grant whose refresh token was revoked', catalog: 'RPL-04', token: access, expect: 'reject' })
      }
    }

    const demoted = await throwawaySession(ctx, ws, 'editor', `${ws.label}.throwaway-demoted`)
    if (demoted && (await setRole(ctx, demoted.member, 'viewer'))?.status === 200) {
      ctx.retire(demoted.session.access_token)
      await attempt(scene, { name: 'token of a member demoted to viewer', catalog: 'RPL-06', token: demoted.session.access_token, expect: 'deny' })
    }
    const removed = await throwawaySession(ctx, ws, 'editor', `${ws.label}.throwaway-removed`)
    const gone = removed && (await removeMember(ctx, removed.member))
    if (removed && gone && gone.status < 300) {
      ctx.retire(removed.session.access_token)
      await attempt(scene, { name: 'token of a removed member', catalog: 'RPL-06', token: removed.session.access_token, expect: 'deny' })
    }
  },
})
