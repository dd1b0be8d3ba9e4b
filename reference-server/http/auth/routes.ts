import express, { type Express, type Request, type Response } from 'express'
import { z } from 'zod'
import type { ServerDeps } from '../types.js'
import { mountPublic } from '../route.js'
import { OAuthError, issueLoginTokens, issueTokens, passwordGrant, type TokenResponse, refreshGrant, revokeFamily, hashRefresh } from './grants.js'
import { isAuthError } from '../../auth/errors.js'
import { hasNul } from '../nul.js'
import { recordLoginFailure } from '../../audit/recorder.js'

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
const tokenRequest = z.discriminatedUnion('grant_type', [
  z.object({ grant_type: z.literal('password'), username: z.string().trim().toLowerCase().min(1).max(254), password: z.string().min(1).max(1024), workspace_id: uuid.optional() }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1).max(512) }),
])
const revokeRequest = z.object({ token: z.string().min(1).max(8192), token_type_hint: z.enum(['access_token', 'refresh_token']).optional() })

/** How long a revoked grant's access tokens can still be presented: their lifetime plus the verifier's leeway. */
const grantLifetime = (deps: ServerDeps) => deps.settings.accessTtlSeconds + deps.settings.clockToleranceSeconds

function oauthError(res: Response, err: OAuthError): void {
  res.status(400).set('Cache-Control', 'no-store').json({ error: err.error, error_description: err.description })
}

function readTokenRequest(req: Request) {
  const body: unknown = req.body
  if (!body || typeof body !== 'object' || hasNul(body)) throw new OAuthError('invalid_request', 'Send a form or JSON body.')
  const grant = (body as { grant_type?: unknown }).grant_type
  if (grant !== 'password' && grant !== 'refresh_token') throw new OAuthError('unsupported_grant_type', 'Use grant_type password or refresh_token.')
  const parsed = tokenRequest.safeParse(body)
  if (!parsed.success) throw new OAuthError('invalid_request', 'The request is missing a parameter or has an invalid one.')
  return parsed.data
}

/** /auth/* and /.well-known/*: the token endpoint (RFC 6749), revocation (RFC 7009), discovery and JWKS. */
export function mountAuth(app: Express, deps: ServerDeps): void {
  const { settings, db } = deps
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 })

  mountPublic(app, deps, 'issueToken', async (req, res, next) => {
    await new Promise<void>((resolve, reject) => form(req, res, (err?: unknown) => (err ? reject(err) : resolve())))
    try {
      const input = readTokenRequest(req)
      // Brute force: one failure reserved before any SQL or scrypt (429 when a window is spent), refunded on success.
      if (input.grant_type === 'password') await deps.limiter.reserveLogin(req, res, input.username)
      let reuse: string | undefined
      let tokens: TokenResponse | undefined
      if (input.grant_type === 'password') {
        // The password is checked between two transactions, never inside one (passwordGrant).
        const login = { loginEmail: input.username }
        if (deps.faults.has('login-kdf-in-transaction')) {
          // The reviewed defect: lookup, KDF and issue in one transaction, the connection held while scrypt runs.
          tokens = await db.withTenant(login, async (tx) => issueLoginTokens(tx, deps,
            await passwordGrant((fn) => fn(tx), input.username, input.password, input.workspace_id, deps.faults, deps.settings.passwordCost)))
        } else {
          const subject = await passwordGrant((fn) => db.withTenant(login, fn), input.username, input.password, input.workspace_id, deps.faults, deps.settings.passwordCost)
          tokens = await db.withTenant(login, (tx) => issueLoginTokens(tx, deps, subject))
        }
      } else {
        tokens = await db.withTenant({ refreshHash: hashRefresh(input.refresh_token) }, async (tx) => {
          const r = await refreshGrant(tx, input.refresh_token, deps.faults.has('refresh-token-race'),
            deps.faults.has('refresh-family-endless') ? undefined : settings.refreshFamilyTtlSeconds)
          if ('reuse' in r) return void (reuse = r.reuse)
          return issueTokens(tx, deps, r.subject, r.familyId)
        })
      }
      if (reuse) {
        // A rotated token presented again: someone else holds a copy. Revoke the whole login.
        await db.withTenant({}, (tx) => revokeFamily(tx, reuse!, grantLifetime(deps), deps.faults.has('refresh-token-race')))
        throw new OAuthError('invalid_grant', 'The refresh token is invalid.')
      }
      if (input.grant_type === 'password') await deps.limiter.loginSucceeded(req, res, input.username)
      res.set('Cache-Control', 'no-store').json(tokens)
    } catch (err) {
      if (err instanceof OAuthError) {
        const body = req.body as { grant_type?: unknown; username?: unknown }
        if (err.error === 'invalid_grant' && body.grant_type === 'password' && typeof body.username === 'string') {
          await deps.limiter.loginFailed(req, body.username.trim().toLowerCase()).catch(() => undefined)
        }
        // A refused credential is an authentication failure: recorded (platform trail, aggregated per source).
        if (err.error === 'invalid_grant') await recordLoginFailure(deps, req, res, err.error)
        return oauthError(res, err)
      }
      next(err)
    }
  })

  mountPublic(app, deps, 'revokeToken', async (req, res, next) => {
    await new Promise<void>((resolve, reject) => form(req, res, (err?: unknown) => (err ? reject(err) : resolve())))
    const parsed = revokeRequest.safeParse(req.body)
    if (!parsed.success || hasNul(req.body)) return oauthError(res, new OAuthError('invalid_request', 'The token parameter is required.'))
    const { token } = parsed.data
    try {
      if (token.split('.').length === 3) {
        // Only a token this server would accept is revoked, by jti: unverified input is never trusted.
        const claims = await deps.verify(`Bearer ${token}`).catch((err: unknown) => (isAuthError(err) ? undefined : Promise.reject(err)))
        if (claims) {
          await db.withTenant({}, (tx) => tx.query(
            'INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, to_timestamp($2)) ON CONFLICT (jti) DO NOTHING', [claims.jti, claims.exp]))
        }
      } else {
        await db.withTenant({ refreshHash: hashRefresh(token) }, async (tx) => {
          const { rows } = await tx.query<{ family_id: string }>('SELECT family_id FROM refresh_tokens WHERE token_hash = $1', [hashRefresh(token)])
          if (rows[0]) await revokeFamily(tx, rows[0].family_id, grantLifetime(deps), deps.faults.has('refresh-token-race'))
        })
      }
      // RFC 7009 §2.2: 200 whether or not the token was valid.
      res.set('Cache-Control', 'no-store').json({})
    } catch (err) {
      next(err)
    }
  })

  mountPublic(app, deps, 'openidConfiguration', (_req, res) => {
    res.json({
      issuer: settings.issuer,
      jwks_uri: `${settings.issuer}/.well-known/jwks.json`,
      token_endpoint: `${settings.issuer}/auth/token`,
      revocation_endpoint: `${settings.issuer}/auth/revoke`,
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [deps.keys.alg],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['app', 'dashboard', 'portal'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'account_id', 'workspace_id', 'roles', 'platform_role'],
    })
  })
  mountPublic(app, deps, 'jwks', (_req, res) => void res.json(deps.keys.jwks()))
  mountPublic(app, deps, 'openapiDocument', (_req, res) => {
    if (!deps.faults.has('contract-missing-annotation')) return void res.json(deps.contract.document)
    // The bug: one operation is served without its x-tenancy annotation.
    const doc = structuredClone(deps.contract.document) as { paths: Record<string, Record<string, Record<string, unknown>>> }
    delete doc.paths['/app/v1/workspaces/{workspaceId}/notes']?.get?.['x-tenancy']
    res.json(doc)
  })
  mountPublic(app, deps, 'health', (_req, res) => void res.json({ status: 'ok' }))
}
