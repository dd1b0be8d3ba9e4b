import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { HttpAdapter } from '../adapters/http.js'
import { HarnessError } from '../core/errors.js'
import type { TargetProfile } from '../core/profile.js'
import { parseContract, type TargetContract } from '../core/contract.js'

export function adapterFor(profile: TargetProfile, baseUrl: string, spent = 0): HttpAdapter {
  return new HttpAdapter({
    baseUrl,
    maxRequests: Math.max(0, profile.budget.maxRequests - spent),
    requestsPerSecond: profile.budget.requestsPerSecond,
    timeoutMs: profile.budget.timeoutMs,
    retries: profile.budget.retries,
    concurrency: profile.budget.concurrency,
    throttle: profile.throttle,
    auth: { tokenEndpoint: profile.auth.tokenEndpoint, workspaceParam: profile.auth.workspaceParam, accountClaim: profile.claims.accountId },
  })
}

/**
 * Fetches and checks the target's contract. This is also the reachability probe: an unreachable
 * target, one that answers 5xx, or one that answers HTML instead of OpenAPI is a harness error
 * (exit 2) with one clear line, never an empty "clean" audit.
 */
export async function loadTargetContract(http: HttpAdapter, profile: TargetProfile, profileDir: string): Promise<{ document: unknown; contract: TargetContract }> {
  let document: unknown
  if (profile.contract.startsWith('/')) {
    const res = await http.send({ method: 'GET', path: profile.contract })
    if (res.status >= 500) throw new HarnessError('ERR_TARGET_BROKEN', `${http.origin}${profile.contract} answered ${res.status}: the target is failing`)
    if (res.status !== 200) throw new HarnessError('ERR_TARGET_BROKEN', `${http.origin}${profile.contract} answered ${res.status}, not the contract`)
    if (res.json === undefined) {
      const kind = /<html|<!doctype/i.test(res.body) ? 'HTML' : 'something that is not JSON'
      throw new HarnessError('ERR_TARGET_BROKEN', `${http.origin}${profile.contract} answered ${kind}, not an OpenAPI document`)
    }
    document = res.json
  } else {
    const file = resolve(profileDir, profile.contract)
    try {
      document = parseYaml(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new HarnessError('ERR_CONTRACT_INVALID', `cannot read the contract ${file}: ${(err as Error).message.split('\n')[0]}`)
    }
    // A file contract says nothing about reachability: ask the token endpoint's origin once.
    const res = await http.send({ method: 'GET', path: '/' })
    if (res.status >= 500) throw new HarnessError('ERR_TARGET_BROKEN', `${http.origin} answered ${res.status}: the target is failing`)
  }
  return { document, contract: parseContract(document, profile.vocabulary) }
}
