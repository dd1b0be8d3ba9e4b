import { defineCheck } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { foreignReadExamples, foreignReads } from '../../fixtures/arbitraries/foreign.js'
import { findingFor } from './policy-matrix.check.js'

/**
 * Another tenant's object, read with a token of this tenant, through the object's own workspace
 * path (RESTler NamespaceRule R1, Akto REPLACE_AUTH_TOKEN K1, 42Crunch BOLA swap C1): every read
 * and list operation, every user, every object of another workspace or account. Judged two-sided,
 * so an account admin's legitimate sibling-workspace read is not a finding. Every kind of user's
 * plainest foreign reads go first (foreignReadExamples), then the --runs drawn ones.
 */
export const crossTenantRead = defineCheck<CheckContext>({
  id: 'access/cross-tenant-read',
  suite: 'access',
  title: "Object readable with another tenant's token",
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 R1, K1, C1; tenancy-audit-ratelimit.md §1.5 (7)',
  async run(ctx) {
    // The fixed reads first (foreignReadExamples: every kind of user, every read, a sibling's and another account's object), then the draw.
    const examples = foreignReadExamples(ctx)
    const result = await ctx.property(foreignReads(ctx), (probe) => ctx.probe(probe), (r) => r.judgement.problems.length === 0, { examples, numRuns: ctx.fc.numRuns + examples.length })
    return {
      findings: await ctx.findingsFrom(result, async (probe) => {
        const r = await ctx.probe(probe)
        return r.judgement.problems.length ? findingFor(ctx, r, 'foreign object') : undefined
      }),
    }
  },
})
