import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { HarnessError } from './errors.js'
import { compileFieldPath } from './field-path.js'

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable NAME (credentials are never written in a profile)')

/** A field's place in the deployment's audit event: JSON Pointer (`/a/b`) or JMESPath (anything else). */
const fieldPath = z.string().min(1).superRefine((expr, ctx) => {
  try {
    compileFieldPath(expr)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
  }
})
/** A field the deployment's events may not carry: `null` says so, and the comparisons that need it are left out. */
const optionalField = (reference: string) => fieldPath.nullable().default(reference)
const spellings = (reference: string) => z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).default([reference])

/**
 * Where each field the audit checks read is in the deployment's audit event, and how its chain is
 * hashed. The defaults are the reference server's shape written out.
 */
const auditEventsSchema = z.object({
  fields: z.object({
    requestId: fieldPath.default('/metadata/correlationUid').describe('The request id the deployment echoes in X-Request-Id (correlation id).'),
    time: fieldPath.default('/time').describe('When it happened: RFC 3339 text, or epoch seconds / milliseconds.'),
    action: fieldPath.default('/action').describe('The x-tenancy action of the operation.'),
    outcome: fieldPath.default('/outcome'),
    actorKind: fieldPath.default('/actor/kind').describe('User, principal or anonymous, as spelled in `actorKinds`.'),
    actorId: optionalField('/actor/uid'),
    actorAccountId: optionalField('/actor/accountId'),
    accountId: fieldPath.default('/accountId').describe("The trail the event is in: the caller's account (tenant); absent or null = the platform trail."),
    workspaceId: optionalField('/actor/workspaceId').describe("The caller's workspace."),
    status: optionalField('/http/status').describe('The HTTP status of the answer.'),
    method: optionalField('/http/method'),
    route: optionalField('/http/route').describe('The OpenAPI path template of the operation.'),
    targetType: optionalField('/target/type'),
    targetId: optionalField('/target/uid'),
    targetAccountId: optionalField('/target/accountId').describe("The tenant the request named (a cross-tenant attempt's victim)."),
    targetWorkspaceId: optionalField('/target/workspaceId'),
    userAgent: optionalField('/src/userAgent'),
    id: optionalField('/id').describe("The event's own id."),
    seq: optionalField('/seq').describe('Position in its trail, from 1.'),
    prevHash: optionalField('/prevHash'),
    hash: optionalField('/hash'),
    count: optionalField('/count').describe('How many requests an aggregated event stands for.'),
  }).strict().prefault({}),
  actorKinds: z.object({
    user: spellings('user'), principal: spellings('principal'), anonymous: spellings('anonymous'),
  }).strict().prefault({}).describe("The deployment's spellings of each actor kind (compared as text: 1 matches \"1\")."),
  outcomes: z.object({
    success: spellings('success'), failure: spellings('failure'),
  }).strict().prefault({}).describe('Spellings of each outcome, e.g. failure: [failure, denied, error].'),
  chain: z.object({
    recipe: z.enum(['rfc8785', 'prev-plus-canonical', 'none']).default('rfc8785')
      .describe('rfc8785: SHA-256 of the RFC 8785 canonical JSON of the event without its hash; prev-plus-canonical: SHA-256 of the previous hash followed by that canonical JSON; none: the chain checks are skipped.'),
    hashField: z.string().startsWith('/').default('/hash').describe('JSON Pointer of the field holding the hash, removed before hashing.'),
    encoding: z.enum(['hex', 'base64', 'base64url']).default('hex'),
    unverifiable: z.enum(['skip', 'finding']).optional()
      .describe('When no hash read verifies under any recipe the harness knows: skip the audit checks (the recipe is unknown) or report the chain as broken. Default: finding for the reference shape, skip otherwise.'),
  }).strict().prefault({}),
}).strict()

/**
 * A target profile: how to reach one deployment and how far the harness may go with it. Credentials
 * appear only as environment-variable names. `fixtures/targets/target.schema.json` is generated from
 * this schema (`npm run schema`) for editor completion.
 */
export const profileSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).describe('Shown in reports.'),
    baseUrl: z.url().describe('Where the deployment answers, e.g. https://staging.example.com'),
    contract: z.string().min(1).default('/openapi.json')
      .describe('The annotated OpenAPI 3.1 document: a path on the target (starting with /) or a file relative to this profile.'),
    auth: z.object({
      tokenEndpoint: z.string().startsWith('/').default('/auth/token')
        .describe('OAuth 2.0 token endpoint (form-encoded password grant). Every login through it is kept as a session whose access token is renewed before it expires (expires_in, else the JWT exp): with the refresh grant when the deployment returned a refresh token, else a new login.'),
      workspaceParam: z.string().min(1).optional().describe('Form field that picks the login workspace (reference: workspace_id).'),
      refreshFamilyLifetimeSeconds: z.number().int().positive().optional()
        .describe('Absolute lifetime of a login\'s refresh tokens (the family of rotations from one password grant), counted from the login: no refresh after it may succeed. forgery/refresh-family-lifetime waits it out when it is at most 120 s (a test deployment), and is skipped otherwise or when absent.'),
      bootstrap: z.object({
        usernameEnv: envName.default('BOOTSTRAP_PRINCIPAL_EMAIL'),
        passwordEnv: envName.default('BOOTSTRAP_PRINCIPAL_PASSWORD'),
      }).strict().prefault({}),
    }).strict().prefault({}),
    claims: z.object({
      accountId: z.string().default('account_id'),
      workspaceId: z.string().default('workspace_id'),
      roles: z.string().default('roles'),
      platformRole: z.string().default('platform_role'),
      roleFormat: z.enum(['prefixed', 'plain']).default('prefixed')
        .describe('prefixed: ["workspace:editor","account:admin"]; plain: ["editor","account_admin"]'),
    }).strict().prefault({}),
    vocabulary: z.object({
      resources: z.object({
        account: z.string().min(1).optional(),
        workspace: z.string().min(1).optional(),
        user: z.string().min(1).optional(),
        principal: z.string().min(1).optional(),
        audit: z.string().min(1).optional(),
      }).strict().optional().describe('The x-tenancy resource that plays each role, e.g. { account: tenants, workspace: spaces, user: members }; inferred from synonyms and the Portal\'s structure when absent.'),
      actions: z.object({
        tokenRevocation: z.string().min(1).optional().describe('e.g. tokens.revoke'),
        keySet: z.string().min(1).optional().describe('The JWKS read, e.g. jwks.read'),
      }).strict().optional(),
      roles: z.object({
        viewer: z.string().min(1).optional(),
        editor: z.string().min(1).optional(),
        admin: z.string().min(1).optional(),
        account_admin: z.string().min(1).optional(),
        platform_admin: z.string().min(1).optional(),
        support: z.string().min(1).optional(),
      }).strict().optional().describe('How x-tenancy.allow (and the role values sent when provisioning) spell each policy role, e.g. { viewer: reader, editor: writer }.'),
    }).strict().prefault({}).describe('The deployment\'s names for the roles the harness needs (one vocabulary layer); `tenant-audit inspect` prints what was stated and what was inferred.'),
    pathParams: z.object({
      account: z.string().optional(),
      workspace: z.string().optional(),
    }).strict().prefault({}).describe('Path parameter names that carry tenant ids; learned from the read operations of the account and workspace resources when absent.'),
    tenants: z.object({
      mode: z.enum(['provision', 'fixtures']).default('provision')
        .describe('provision: create tenants through the Portal and remove them after; fixtures: use existing ones from `fixtures`.'),
      fixtures: z.string().optional().describe('Bring-your-own-tenants file (YAML/JSON), relative to this profile.'),
    }).strict().prefault({}),
    denial: z.object({
      statuses: z.array(z.union([z.literal(403), z.literal(404)])).min(1).default([403, 404])
        .describe('Statuses that count as a denial of a foreign object: [404] for strict non-disclosure.'),
    }).strict().prefault({}),
    forgery: z.object({
      testIssuer: z.object({
        privateJwkEnv: envName.describe('Variable holding the private JWK (with kid and alg: ES256 or RS256) of a key the deployment trusts for its issuer; the forgery checks sign tokens with bad claims with it.'),
      }).strict().optional()
        .describe('A test-issuer key the deployment trusts (on Cognito: a test pool with a pre-token-generation trigger). Without it the claim checks are skipped.'),
      maxClockSkewSeconds: z.number().int().min(0).default(300)
        .describe('Largest clock skew (leeway) an expired token may be accepted with.'),
    }).strict().prefault({}),
    budget: z.object({
      maxRequests: z.number().int().positive().default(50_000),
      requestsPerSecond: z.number().positive().optional().describe('Cap on the request rate; unlimited when absent.'),
      timeoutMs: z.number().int().positive().default(10_000),
      retries: z.number().int().min(0).max(5).default(2).describe('Retries on connection errors only; throttled answers are handled by `throttle`.'),
      concurrency: z.number().int().min(1).max(64).default(8)
        .describe('Most requests in flight at once across the whole run (provisioning, checks, teardown). The budget, requestsPerSecond and throttling apply across all of them; `run --concurrency N` overrides it. 1 sends one request at a time.'),
    }).strict().prefault({}),
    throttle: z.object({
      maxRetries: z.number().int().min(0).max(50).default(8)
        .describe('How many times one request is resent after a throttled answer (429, or 503 with Retry-After) before the audit stops with ERR_TARGET_THROTTLED. Every resend counts against the budget and the rate cap.'),
      maxWaitMs: z.number().int().min(0).max(3_600_000).default(120_000)
        .describe('Most milliseconds one request may wait in all (Retry-After, the rate-limit headers\' reset, or exponential backoff; and pacing holds) before the audit stops with ERR_TARGET_THROTTLED.'),
    }).strict().prefault({})
      .describe('Throttling is the target\'s business, not a finding: throttled answers are waited out and resent, and RateLimit / RateLimit-Policy (draft-11), RateLimit-Remaining/-Reset and X-RateLimit-* headers pace the requests of the same tenant. Only the rate-limit suite\'s probes see a 429.'),
    rateLimit: z.object({
      quotaField: z.string().min(1).default('rateLimit')
        .describe('Field of the Portal accounts.update body that sets an account quota (an object with a per-second rate and a burst); the rate-limit checks set small quotas on accounts they create.'),
      knownQuota: z.object({
        requests: z.number().int().positive(),
        windowSeconds: z.number().int().positive(),
      }).strict().optional()
        .describe('The quota every account has, for deployments where the harness cannot set one: the checks then spend it on the provisioned accounts (keep it small).'),
      loginAttempts: z.number().int().positive().max(500).default(60)
        .describe('Failed logins from one address the brute-force check sends at most before it expects a 429.'),
    }).strict().prefault({}),
    audit: z.object({
      eventsWithinMs: z.number().int().positive().default(5_000),
      events: auditEventsSchema.prefault({}),
    }).strict().prefault({}),
  })
  .strict()

export type TargetProfile = z.infer<typeof profileSchema>
export type VocabularySpec = TargetProfile['vocabulary']
export type ProfileInput = z.input<typeof profileSchema>

/** Validates a parsed profile; the error names the first bad field in one line. */
export function parseProfile(input: unknown, source = 'profile'): TargetProfile {
  const parsed = profileSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length ? issue.path.join('.') : '(top level)'
    throw new HarnessError('ERR_PROFILE_INVALID', `${source}: ${where}: ${issue.message}`)
  }
  return parsed.data
}

export interface LoadedProfile {
  profile: TargetProfile
  /** Directory the profile's relative paths are resolved against. */
  dir: string
  file: string
}

/** Reads a YAML or JSON profile file. */
export function loadProfile(file: string): LoadedProfile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new HarnessError('ERR_PROFILE_INVALID', `cannot read target profile ${file}: ${(err as Error).message}`)
  }
  let data: unknown
  try {
    data = parseYaml(text)
  } catch (err) {
    throw new HarnessError('ERR_PROFILE_INVALID', `${file}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`)
  }
  return { profile: parseProfile(data, file), dir: dirname(resolve(file)), file: resolve(file) }
}
