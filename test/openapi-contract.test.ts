// The OpenAPI document as a contract: `levqor serve` (the built CLI, real Postgres) is called on
// every operation the document lists, with valid requests and with each failure it documents,
// and every real reply (status, media type, body) is checked against the document with a JSON
// Schema validator. An operation or a documented status the test does not reach fails it, so a
// new route cannot go unchecked. `redocly lint` (offline, no telemetry) must find nothing.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, deployAction, type ApiResponse, type RequestOptions } from './helpers/api.js';
import { killRunningClis, REPO_ROOT, runCli, startCli } from './helpers/cli.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { startIssuer, type Issuer } from './helpers/oidc.js';
import { createReplyChecker, type OpenApiDocument } from './helpers/openapi.js';
import { pollUntil } from './helpers/proc.js';

const RATE_LIMIT = 1000;
const BODY_LIMIT = 2048;
const SERVE = { timeout: 300_000 };
/** A keyless GitHub Actions identity whose trust policy allows `deploy` only. */
const KEYLESS = { repository: 'acme/app', ref: 'refs/heads/main', actor: 'octocat', sha: 'c'.repeat(40) };

describe('the OpenAPI document against `levqor serve`', SERVE, () => {
  let t: TestDb;
  let base = '';
  let doc: OpenApiDocument;
  const tokens: Record<string, string> = {};
  const observed = new Map<string, Set<string>>();
  let checkReply: ReturnType<typeof createReplyChecker>;
  let issuer: Issuer;

  beforeAll(async () => {
    t = await openPgTestDb();
    issuer = await startIssuer();
    const env = { DATABASE_URL: t.url };
    const tenant = await runCli(['tenant', 'create', 'contract'], { env });
    expect(tenant.code, tenant.stderr).toBe(0);
    for (const [name, scopes] of [
      ['ops', undefined],
      ['lead', undefined],
      ['burst', undefined],
      ['watch', undefined],
      ['writer', 'events:write'],
      ['reader', 'runs:read'],
    ] as const) {
      const made = await runCli(['token', 'create', '--tenant', 'contract', '--name', name, ...(scopes ? ['--scopes', scopes] : [])], {
        env,
      });
      expect(made.code, made.stderr).toBe(0);
      tokens[name] = /lvq_[A-Za-z0-9_-]{43}/.exec(made.stdout)?.[0] ?? '';
      expect(tokens[name], made.stdout).not.toBe('');
    }
    const trusted = await runCli(
      ['github', 'trust', 'add', '--repo', KEYLESS.repository, '--ref', KEYLESS.ref, '--action-type', 'deploy', '--tenant', 'contract'],
      { env },
    );
    expect(trusted.code, trusted.stderr).toBe(0);
    const serve = startCli(['serve', '--port', '0', '--interval', '3600'], {
      env: {
        ...env,
        LEVQOR_API_RATE_LIMIT: String(RATE_LIMIT),
        LEVQOR_API_BODY_LIMIT_BYTES: String(BODY_LIMIT),
        LEVQOR_GITHUB_OIDC_ISSUER: issuer.url,
        LEVQOR_SECRET_KEY: 'contract-test-secret-key-0123456789abcdef',
      },
    });
    const line = await serve.waitForLine('levqor API listening on', 120_000);
    base = /levqor API listening on (http:\/\/[^\s"]+)/.exec(line)?.[1] ?? '';
    expect(base).not.toBe('');
    doc = (await apiRequest<OpenApiDocument>(base, 'GET', '/api/openapi.json')).json;
    checkReply = createReplyChecker(doc);
  });
  afterAll(async () => {
    await killRunningClis();
    await issuer?.close();
    await t.close();
  });

  /** One request, its reply checked against the document; the statuses seen are kept per operation. */
  async function call<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const res = await apiRequest<T>(base, method, path, opts);
    const key = checkReply(method, path, res);
    const status = String(res.status);
    const seen = observed.get(key) ?? new Set<string>();
    seen.add(status);
    observed.set(key, seen);
    return res;
  }

  const as = (name: string, extra: RequestOptions = {}): RequestOptions => ({ token: tokens[name], ...extra });
  const runEnded = (runId: string, statuses: string[]) =>
    pollUntil(
      async () => {
        const res = await call<{ status: string }>('GET', `/api/runs/${runId}`, as('watch'));
        return statuses.includes(res.json.status) ? res.json : undefined;
      },
      { what: `run ${runId} to be ${statuses.join(' or ')}`, attempts: 600, intervalMs: 100 },
    );

  it('is clean under `redocly lint` (recommended rules, offline, no telemetry)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'levqor-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(doc));
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          join(REPO_ROOT, 'node_modules/@redocly/cli/bin/cli.js'),
          'lint',
          file,
          '--config',
          join(REPO_ROOT, 'redocly.yaml'),
          '--format',
          'json',
        ],
        { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' } },
      );
      const report = JSON.parse(stdout) as { totals: Record<string, number>; problems: unknown[] };
      expect(report.problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every operation answers each documented status as the document describes it', async () => {
    // Public: probes, health, the document.
    for (const path of ['/healthz', '/readyz', '/api/health/summary', '/api/scaling', '/api/alerts', '/metrics', '/api/openapi.json']) {
      expect((await call('GET', path, as('ops'))).status, path).toBe(200);
    }

    // A tenant's summary (its token); a token that is no token is refused, not taken for none.
    expect((await call('GET', '/api/health/summary', { token: 'lvq_not-a-token' })).status).toBe(401);

    // Workflows: created (201), updated (200), listed, shown, run (202), its run shown and listed.
    const flow = { name: 'oa-flow', steps: [{ type: 'noop' }] };
    expect((await call('PUT', '/api/workflows/oa-flow', as('ops', { body: flow }))).status).toBe(201);
    expect((await call('PUT', '/api/workflows/oa-flow', as('ops', { body: { ...flow, description: 'a noop' } }))).status).toBe(200);
    expect((await call('GET', '/api/workflows', as('ops'))).status).toBe(200);
    expect((await call('GET', '/api/workflows/oa-flow', as('ops'))).status).toBe(200);
    const queued = await call<{ run_id: string }>('POST', '/api/workflows/oa-flow/run', as('ops'));
    expect(queued.status).toBe(202);
    await runEnded(queued.json.run_id, ['succeeded']);
    expect((await call('GET', '/api/runs?workflow=oa-flow&limit=5', as('ops'))).status).toBe(200);
    expect((await call('GET', '/api/runs/not-a-uuid', as('ops'))).status).toBe(404);
    expect((await call('GET', '/api/runs?workflow=no-such-workflow', as('ops'))).status).toBe(404);
    expect((await call('PUT', '/api/workflows/oa-flow', as('ops', { body: { ...flow, name: 'other' } }))).status).toBe(400);

    // Approvals: submitted (201), listed, shown, approved (200), decided again (409), rejected and asked again (201).
    const first = await call<{ id: string }>('POST', '/api/actions', as('ops', { body: deployAction('deploy oa 1') }));
    expect(first.status).toBe(201);
    expect((await call('GET', '/api/approvals?limit=1', as('ops'))).status).toBe(200);
    expect((await call('GET', `/api/approvals/${first.json.id}`, as('ops'))).status).toBe(200);
    expect((await call('POST', `/api/approvals/${first.json.id}/approve`, as('lead', { body: { reason: 'ok' } }))).status).toBe(200);
    expect((await call('POST', `/api/approvals/${first.json.id}/approve`, as('lead'))).status).toBe(409);
    expect((await call('POST', `/api/approvals/${first.json.id}/reject`, as('lead', { body: { reason: 'late' } }))).status).toBe(409);
    expect((await call('POST', `/api/approvals/${first.json.id}/rerequest`, as('ops'))).status).toBe(409);
    const second = await call<{ id: string }>('POST', '/api/actions', as('ops', { body: deployAction('deploy oa 2') }));
    expect((await call('POST', `/api/approvals/${second.json.id}/reject`, as('lead', { body: { reason: 'not now' } }))).status).toBe(200);
    expect((await call('POST', `/api/approvals/${second.json.id}/rerequest`, as('ops'))).status).toBe(201);
    expect((await call('POST', '/api/actions', as('ops', { body: {} }))).status).toBe(400);

    // Bulk decisions: one reason, a result per id (200 decided, 404 unknown, 409 decided before).
    const third = await call<{ id: string }>('POST', '/api/actions', as('ops', { body: deployAction('deploy oa 3') }));
    const bulk = await call<{ decided: number; failed: number; results: { id: string; status: number }[] }>(
      'POST',
      '/api/approvals/decide',
      as('lead', { body: { ids: [third.json.id, randomUUID(), first.json.id], decision: 'reject', reason: 'batch' } }),
    );
    expect(bulk.status, bulk.text).toBe(200);
    expect(bulk.json.results.map((r) => r.status)).toEqual([200, 404, 409]);
    expect([bulk.json.decided, bulk.json.failed]).toEqual([1, 2]);
    expect((await call('POST', '/api/approvals/decide', as('lead', { body: { ids: [third.json.id], decision: 'reject' } }))).status).toBe(
      400,
    );

    // Keyless (GitHub Actions OIDC): the trust policy's action types only (403 otherwise); an
    // unverified token is 401 in the one error shape.
    const keyless = { token: await issuer.sign(KEYLESS) };
    expect((await call('POST', '/api/actions', { ...keyless, body: deployAction('deploy keyless') })).status).toBe(201);
    const refused = await call<{ message: string }>('POST', '/api/actions', {
      ...keyless,
      body: { ...deployAction(), action_type: 'db.drop' },
    });
    expect([refused.status, refused.json.message]).toEqual([403, expect.stringContaining('action type "db.drop" is not allowed')]);
    const pr = { repository: 'acme/app', pull_request: 7, head_sha: 'a'.repeat(40), base_sha: 'b'.repeat(40), files: ['migrations/1.sql'] };
    expect((await call('POST', '/api/gate/critical-files', { ...keyless, body: pr })).status).toBe(403);
    const gateState = await call<{ state: string }>('POST', '/api/gate/critical-files', as('ops', { body: pr }));
    expect([gateState.status, gateState.json.state]).toEqual([200, 'pending']);
    const foreign = await call<{ message: string }>('GET', '/api/workflows', {
      token: await issuer.sign({ ...KEYLESS, repository: 'acme/other' }),
    });
    expect([foreign.status, foreign.json.message]).toEqual([401, expect.stringContaining('trusted by no tenant')]);

    // Secrets: stored (never returned), listed, removed; a literal credential in a workflow is 400
    // unless overridden.
    const stored = await call<Record<string, unknown>>('PUT', '/api/secrets/OA_TOKEN', as('ops', { body: { value: 's3cret-value' } }));
    expect(stored.status, stored.text).toBe(200);
    expect(stored.text).not.toContain('s3cret-value');
    const listed = await call('GET', '/api/secrets', as('ops'));
    expect([listed.status, listed.text.includes('OA_TOKEN'), listed.text.includes('s3cret-value')]).toEqual([200, true, false]);
    expect((await call('DELETE', '/api/secrets/OA_TOKEN', as('ops'))).status).toBe(200);
    const inline = {
      name: 'oa-inline',
      steps: [{ type: 'http', url: 'https://partner.example.com/x', headers: { Authorization: 'Bearer sk_live_oa0123456789' } }],
    };
    const inlineRefused = await call('PUT', '/api/workflows/oa-inline', as('ops', { body: inline }));
    expect([inlineRefused.status, inlineRefused.text.includes('sk_live_oa0123456789')]).toEqual([400, false]);
    expect((await call('PUT', '/api/workflows/oa-inline?allow_inline_credentials=true', as('ops', { body: inline }))).status).toBe(201);

    // A workflow step's request, rejected: asking again queues a linked run (202).
    const gate = { name: 'oa-gate', steps: [{ type: 'http', name: 'call', url: 'https://partner.example.com/hook' }] };
    expect((await call('PUT', '/api/workflows/oa-gate', as('ops', { body: gate }))).status).toBe(201);
    const gated = await call<{ run_id: string }>('POST', '/api/workflows/oa-gate/run', as('ops'));
    await runEnded(gated.json.run_id, ['waiting_approval']);
    const stepRequest = (
      await call<{ approvals: { id: string; run_id: string | null }[] }>('GET', '/api/approvals', as('ops'))
    ).json.approvals.find((a) => a.run_id === gated.json.run_id);
    expect(stepRequest).toBeDefined();
    const stepId = stepRequest?.id ?? '';
    expect((await call('POST', `/api/approvals/${stepId}/reject`, as('lead', { body: { reason: 'no' } }))).status).toBe(200);
    await runEnded(gated.json.run_id, ['rejected']);
    expect((await call('POST', `/api/approvals/${stepId}/rerequest`, as('ops'))).status).toBe(202);

    // People: added (201), taken (409), shown, listed, edited, linked (an identity held by another: 409),
    // unlinked, removed; the directory settings read and set.
    const oaPerson = { handle: 'oa-alice', display_name: 'OA Alice', email: 'oa-alice@example.com', identities: ['token:lead'] };
    expect((await call('POST', '/api/people', as('ops', { body: oaPerson }))).status).toBe(201);
    expect((await call('POST', '/api/people', as('ops', { body: oaPerson }))).status).toBe(409);
    expect((await call('POST', '/api/people', as('ops', { body: { handle: 'oa-bob', display_name: 'OA Bob' } }))).status).toBe(201);
    expect((await call('GET', '/api/people', as('ops'))).status).toBe(200);
    expect((await call('GET', '/api/people/oa-alice', as('ops'))).status).toBe(200);
    expect((await call('PUT', '/api/people/oa-alice', as('ops', { body: { role: 'admin' } }))).status).toBe(200);
    expect((await call('PUT', '/api/people/oa-bob', as('ops', { body: { email: 'oa-alice@example.com' } }))).status).toBe(409);
    expect((await call('POST', '/api/people/oa-bob/identities', as('ops', { body: { identity: 'token:lead' } }))).status).toBe(409);
    expect((await call('POST', '/api/people/oa-bob/identities', as('ops', { body: { identity: 'slack:UOABOB' } }))).status).toBe(200);
    expect((await call('DELETE', `/api/people/oa-bob/identities/${encodeURIComponent('slack:UOABOB')}`, as('ops'))).status).toBe(200);
    expect((await call('DELETE', '/api/people/oa-bob', as('ops'))).status).toBe(200);
    expect((await call('GET', '/api/people-settings', as('ops'))).status).toBe(200);
    expect((await call('PUT', '/api/people-settings', as('ops', { body: { slack_autolink: true } }))).status).toBe(200);

    // Audit, analytics, engagement events.
    expect((await call('GET', '/api/audit?limit=1', as('ops'))).status).toBe(200);
    expect((await call('GET', '/api/analytics?days=30', as('ops'))).status).toBe(200);
    expect((await call('POST', '/api/events', as('ops', { body: { events: [{ user_id: 'u1', event: 'signup' }] } }))).status).toBe(202);

    // The failures every operation documents, driven by the document itself.
    const unknownId = randomUUID();
    const validBody: Record<string, unknown> = {
      rejectApproval: { reason: 'no' },
      applyWorkflow: { name: 'no-such-workflow', steps: [{ type: 'noop' }] },
      submitAction: deployAction(),
      recordEvents: { events: [{ user_id: 'u1', event: 'signup' }] },
      decideApprovals: { ids: [unknownId], decision: 'approve' },
      gateCriticalFiles: { repository: 'acme/app', pull_request: 1, head_sha: 'a'.repeat(40), base_sha: 'b'.repeat(40), files: ['x'] },
      setSecret: { value: 'v' },
      addPerson: { handle: 'oa-carol', display_name: 'OA Carol' },
      editPerson: { role: 'viewer' },
      linkIdentity: { identity: 'slack:UOANOBODY' },
      setPeopleSettings: { slack_autolink: false },
    };
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const verb = method.toUpperCase();
        const name = template.startsWith('/api/secrets/') ? 'NO_SUCH_SECRET' : 'no-such-workflow';
        const path = template
          .replace('{id}', unknownId)
          .replace('{name}', name)
          .replace('{handle}', 'no-such-person')
          .replace('{identity}', encodeURIComponent('slack:UOANOBODY'));
        const body = validBody[op.operationId];
        const statuses = Object.keys(op.responses);
        if (statuses.includes('401')) {
          // A token the operation may do without ({} among its security) is refused only when bad.
          const optional = op.security.some((s) => Object.keys(s).length === 0);
          const noToken = optional ? { token: 'lvq_not-a-token' } : {};
          expect((await call(verb, path, { ...noToken, body })).status, `${verb} ${template} without a (good) token`).toBe(401);
          const scope = op.security[0]?.bearer?.[0];
          if (scope) expect((await call(verb, path, as(scope === 'events:write' ? 'reader' : 'writer', { body }))).status).toBe(403);
        }
        // (GET /api/runs answers 404 for its workflow filter: tried above.)
        if (statuses.includes('404') && op.operationId !== 'listRuns') {
          expect((await call(verb, path, as('ops', { body }))).status, `${verb} ${path}`).toBe(404);
        }
        if (statuses.includes('413')) {
          const big = JSON.stringify({ padding: 'x'.repeat(BODY_LIMIT) });
          expect((await call(verb, path, as('ops', { rawBody: big, headers: { 'content-type': 'application/json' } }))).status).toBe(413);
        }
        if (statuses.includes('415')) {
          expect((await call(verb, path, as('ops', { rawBody: '<a/>', headers: { 'content-type': 'application/xml' } }))).status).toBe(415);
        }
        if (statuses.includes('400')) {
          // A strict query refuses an unknown parameter; a path parameter has a length cap; a body must be JSON.
          const bad = op.parameters?.some((p) => p.in === 'query') ? `${path}?zz_unknown=1` : template.replace(/\{\w+\}/, 'x'.repeat(200));
          const res =
            verb === 'GET'
              ? await call(verb, bad, as('ops'))
              : await call(verb, path, as('ops', { rawBody: '{', headers: { 'content-type': 'application/json' } }));
          expect(res.status, `${verb} ${template} with bad input`).toBe(400);
        }
      }
    }

    // The rate limit (its own token, its own bucket): 429 in the documented shape.
    let limited: ApiResponse<unknown> | undefined;
    for (let i = 0; i < 2 * RATE_LIMIT + 1 && !limited; i++) {
      const res = await call('GET', '/api/workflows', as('burst'));
      if (res.status === 429) limited = res;
    }
    expect(limited?.status).toBe(429);

    // Nothing in the document went untried: every operation, every status below 500 (the 503s of
    // /readyz and /api/health/summary, with the database down, are checked in test/health.test.ts).
    const missing: string[] = [];
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${template}`;
        for (const status of Object.keys(op.responses)) {
          if (status.startsWith('5') || (status === '429' && key !== 'GET /api/workflows')) continue;
          if (!observed.get(key)?.has(status)) missing.push(`${key} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(observed.size).toBe(Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0));
  });
});
