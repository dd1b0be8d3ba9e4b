/**
 * A small but hostile report for renderer tests: every check status, findings
 * with markup, quotes, pipes and control characters in target-controlled fields,
 * a matrix with a missing pair, and one planted secret to prove scrubbing.
 */
import { createFinding } from '../core/finding.js'
import type { AuditReport } from '../core/run-result.js'

/** A value that must never appear in any written report when passed as a secret. */
export const PLANTED_SECRET = 'hunter2-Planted&Secret"42'

/** The nasty string used in messages: XML/HTML metacharacters, a pipe, and control characters. */
export const NASTY = `<script>alert("x")</script> & 'quoted' | pipe \u0001\u0007 bell`

/** Builds a fresh fixture report (fresh so tests may mutate it). */
export function fixtureReport(): AuditReport {
  const leak = createFinding({
    seq: 1,
    checkId: 'access/cross-tenant-read',
    severity: 'critical',
    title: "Object readable with another tenant's token",
    message: `editor of account A read a document of account B: ${NASTY}`,
    cwe: 639,
    owasp: 'API1:2023',
    dedupKey: 'documents.read|editor|other-account',
    actor: 'editor@account-a',
    victim: 'account-b/workspace-1',
    operation: { method: 'GET', pathTemplate: '/app/v1/workspaces/{workspaceId}/documents/{documentId}' },
    evidence: {
      request: {
        method: 'GET',
        url: 'http://127.0.0.1:4010/app/v1/workspaces/7f1c/documents/9a2b',
        headers: { authorization: 'Bearer <redacted>', 'x-request-id': 'req-1' },
      },
      response: {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: `{"id":"9a2b","title":"canary-B-1 </pre><b>","body":"${PLANTED_SECRET.replace(/"/g, '\\"')}"}`,
      },
    },
    repro: {
      seed: 42,
      path: '0:1:1',
      counterexample: { intruder: 'editor@account-a', object: { id: '9a2b', note: '<&>' } },
      curl: "curl -sS -i 'http://127.0.0.1:4010/app/v1/workspaces/7f1c/documents/9a2b' -H \"Authorization: Bearer $TOKEN\"",
    },
  })
  const alg = createFinding({
    seq: 2,
    checkId: 'forgery/alg-none',
    severity: 'high',
    title: 'Unsigned token accepted',
    message: 'token with alg=none accepted | status 200',
    cwe: 347,
    owasp: 'API2:2023',
    dedupKey: 'alg-none|GET /me',
  })
  const low = createFinding({
    seq: 3,
    checkId: 'access/cross-tenant-read',
    severity: 'low',
    title: 'Existence revealed',
    message: 'foreign id answered 403 instead of 404',
    cwe: 204,
    owasp: 'API1:2023',
    dedupKey: 'documents.read|viewer|other-account|403',
  })
  return {
    schemaVersion: 1,
    run: {
      id: 'run-0001',
      startedAt: '2025-01-02T03:04:05.000Z',
      durationMs: 12_345,
      seed: 42,
      target: { name: 'reference <clean>', baseUrl: 'http://127.0.0.1:4010' },
      faults: ['skip-workspace-check'],
      requests: 321,
    },
    checks: [
      { id: 'access/cross-tenant-read', suite: 'access', title: "Object readable with another tenant's token", severity: 'critical', status: 'failed', findings: 2, requests: 200, durationMs: 5000, cwe: 639, owasp: 'API1:2023' },
      { id: 'access/private-notes', suite: 'access', title: 'Private notes readable by others', severity: 'high', status: 'passed', findings: 0, requests: 80, durationMs: 2000, cwe: 639, owasp: 'API1:2023' },
      { id: 'forgery/alg-none', suite: 'forgery', title: 'Unsigned token accepted', severity: 'high', status: 'failed', findings: 1, requests: 40, durationMs: 300 },
      { id: 'ratelimit/per-tenant', suite: 'ratelimit', title: 'Rate limit keyed per tenant', severity: 'medium', status: 'skipped', findings: 0, requests: 0, durationMs: 1, reason: `target has no rate limits ${NASTY}` },
      { id: 'audit/hash-chain', suite: 'audit', title: 'Audit trail hash chain intact', severity: 'medium', status: 'error', findings: 0, requests: 1, durationMs: 10, reason: 'audit.list operation missing from contract' },
    ],
    findings: [leak, alg, low],
    matrix: [
      { actorKind: 'editor', column: 'app:own-workspace', verdict: 'allowed', probes: 10 },
      { actorKind: 'editor', column: 'app:other-account', verdict: 'leaked', probes: 12 },
      { actorKind: 'viewer', column: 'app:own-workspace', verdict: 'allowed', probes: 8 },
      { actorKind: 'viewer', column: 'app:other-account', verdict: 'denied', probes: 9 },
      { actorKind: 'admin', column: 'dashboard:own-workspace', verdict: 'wrongly-denied', probes: 3 },
      { actorKind: 'anonymous', column: 'portal', verdict: 'denied', probes: 2 },
    ],
  }
}
