import { attempt } from '../../harness/forge/scene.js'
import { forgeryCheck } from './shared.js'

/**
 * RPL-01 and tenancy from unverified input: the attacker's own valid token on the victim's update and
 * read routes, then again with the victim's account and workspace in request headers a gateway might
 * add (`X-Account-Id`, `X-Workspace-Id`, `X-Tenant-Id`). Tenancy comes from the verified token only:
 * 401, or the profile's denial status, and no change.
 */
export const tenantBinding = forgeryCheck({
  name: 'tenant-binding',
  title: "A valid token acts in another tenant (cross-tenant replay, tenant taken from request headers)",
  docs: 'forgery.md RPL-01 (cross-tenant replay), RPL-03 (tenant disagrees with the path: headers); RFC 8725 §2.7; fault tenant-from-unverified-header',
  async attack(scene) {
    const token = scene.attacker.token
    const read = { method: scene.read.method.toUpperCase(), path: scene.readPath }
    await attempt(scene, { name: "attacker's valid token on the victim's object", catalog: 'RPL-01', token, expect: 'deny' })
    await attempt(scene, { name: "attacker's valid token reading the victim's object", catalog: 'RPL-01', token, expect: 'deny', at: read })
    const { accountId, workspaceId } = scene.target
    const headerSets: Record<string, string>[] = [
      { 'x-account-id': accountId!, 'x-workspace-id': workspaceId! },
      { 'x-tenant-id': accountId!, 'x-account-id': accountId!, 'x-workspace-id': workspaceId!, 'x-forwarded-tenant': accountId! },
    ]
    for (const headers of headerSets) {
      const name = `attacker's valid token with ${Object.keys(headers).join(', ')} naming the victim's tenant`
      await attempt(scene, { name, catalog: 'RPL-03', token, headers, expect: 'deny' })
      await attempt(scene, { name: `${name} (read)`, catalog: 'RPL-03', token, headers, expect: 'deny', at: read })
    }
  },
})
