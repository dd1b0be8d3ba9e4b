import { attempt, victimClaims } from '../../harness/forge/scene.js'
import { b64u } from '../../harness/forge/jwt.js'
import { forgeryCheck } from './shared.js'

/**
 * LOC-01, LOC-02: tokens in two places at once (header and `access_token` query, two comma-separated
 * credentials), a token only in the query, and the error oracle: the refusals of different forgeries
 * must not tell them apart (same status, type, title and detail).
 */
export const tokenLocation = forgeryCheck({
  name: 'token-location',
  title: 'A token is taken from the query or merged from two sources, or refusals tell forgeries apart',
  severity: 'high',
  docs: 'forgery.md LOC-01 (several token sources; RFC 6750 §2, §2.3), LOC-02 (error and timing oracle, CVE-2019-7644); fault access-token-in-query',
  async attack(scene) {
    const [h, p, s] = scene.attackerToken.segments
    const forged = `${h}.${b64u(victimClaims(scene))}.${s}`
    const own = scene.attacker.token
    const ownRead = scene.ctx.contract.byResource(scene.read.resource, 'read').find((o) => o.path === scene.read.path)!
    const ownObject = scene.ctx.topology.objects.find((o) => o.resource === scene.read.resource && o.workspaceId === scene.attacker.workspaceId && !o.private)
    await attempt(scene, { name: "forged token only in ?access_token", catalog: 'LOC-01', query: { access_token: forged }, expect: 'reject' })
    await attempt(scene, { name: "attacker's token in the header, forged token in ?access_token", catalog: 'LOC-01', token: own, query: { access_token: forged }, expect: 'deny', alsoAllowed: [400] })
    await attempt(scene, { name: "two credentials in one Authorization header", catalog: 'LOC-01', authorization: `Bearer ${own}, Bearer ${forged}`, expect: 'reject', alsoAllowed: [400] })
    if (ownObject) {
      const path = scene.ctx.pathFor(ownRead, { accountId: ownObject.accountId, workspaceId: ownObject.workspaceId, object: ownObject })
      await attempt(scene, { name: "attacker's own valid token only in ?access_token, on its own object", catalog: 'LOC-01', query: { access_token: own }, expect: 'reject', at: { method: ownRead.method.toUpperCase(), path } })
    }

    // LOC-02: four different forgeries, one generic refusal.
    const variants: [string, string][] = [['tampered claims', forged], ['alg none', `${b64u({ ...scene.attackerToken.header, alg: 'none' })}.${p}.`], ['unknown kid', `${b64u({ ...scene.attackerToken.header, kid: 'ta-unknown-kid' })}.${p}.${s}`], ['not a JWT', 'not-a-token']]
    const shapes = new Map<string, string[]>()
    for (const [name, token] of variants) {
      const res = await attempt(scene, { name: `oracle: ${name}`, catalog: 'LOC-02', authorization: `Bearer ${token}`, expect: 'reject' })
      const j = (res.json ?? {}) as Record<string, unknown>
      const shape = JSON.stringify([res.status, j.type, j.title, j.detail, j.error, j.error_description, j.message])
      shapes.set(shape, [...(shapes.get(shape) ?? []), name])
    }
    if (shapes.size > 1) {
      scene.findings.push({
        message: `the refusals tell forgeries apart: ${[...shapes.values()].map((names) => names.join(' + ')).join(' vs ')} answered with different status or problem fields [LOC-02] (one generic invalid_token answer for every failure)`,
        severity: 'low', dedupKey: 'error-oracle-shapes', actor: scene.attacker.label,
      })
    }
  },
})
