import { randomBytes } from 'node:crypto'
import type { HttpAdapter, HttpResponse } from '../adapters/http.js'
import { HarnessError } from '../core/errors.js'
import type { TargetProfile } from '../core/profile.js'

/** Secrets the harness handles during one audit; every report is scrubbed of them before it is written. */
export class Secrets {
  private readonly values = new Set<string>()
  add(value: string | undefined): string | undefined {
    if (value && value.length >= 4) this.values.add(value)
    return value
  }
  list(): string[] {
    return [...this.values]
  }
}

export function newPassword(): string {
  return `Ta-${randomBytes(15).toString('base64url')}`
}

export function fail(step: string, res: HttpResponse): never {
  const detail = res.body.slice(0, 200).replace(/\s+/g, ' ')
  throw new HarnessError('ERR_PROVISION_FAILED', `${step}: the target answered ${res.status}${detail ? ` (${detail})` : ''}`)
}

/**
 * Logs in through the profile's token endpoint with the OAuth 2.0 password grant (form-encoded,
 * RFC 6749 §4.3) and returns the access token. A wrong answer is a provisioning failure (exit 2).
 */
export async function login(http: HttpAdapter, profile: TargetProfile, secrets: Secrets | undefined, username: string, password: string, workspaceId?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'password', username, password })
  if (workspaceId && profile.auth.workspaceParam) form.set(profile.auth.workspaceParam, workspaceId)
  const res = await http.send({
    method: 'POST',
    path: profile.auth.tokenEndpoint,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  })
  const token = (res.json as { access_token?: unknown } | undefined)?.access_token
  if (res.status !== 200 || typeof token !== 'string') fail(`login of ${username}`, res)
  secrets?.add((res.json as { refresh_token?: string }).refresh_token)
  secrets?.add((res.json as { id_token?: string }).id_token)
  secrets?.add(token)
  return token
}

/** The bootstrap principal's credentials, from the environment variables the profile names. */
export function bootstrapCredentials(profile: TargetProfile, env: NodeJS.ProcessEnv = process.env): { username: string; password: string } {
  const { usernameEnv, passwordEnv } = profile.auth.bootstrap
  const username = env[usernameEnv]
  const password = env[passwordEnv]
  if (!username || !password) {
    throw new HarnessError('ERR_PROFILE_INVALID', `set ${!username ? usernameEnv : passwordEnv} to the bootstrap principal's ${!username ? 'username' : 'password'} (the profile names it; credentials never go in a profile)`)
  }
  return { username, password }
}
