import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { revokeToken } from '../src/auth/queries.js';
import { createAuthenticator, createToken, generateToken } from '../src/auth/tokens.js';
import { submitAction } from '../src/approvals/actions.js';
import type { ApprovalRow } from '../src/approvals/types.js';
import { startRun } from '../src/scheduler/manual.js';
import { deployAction, makeApiTenant, startApi, useTestApi, type ApiTenant, type DecisionJson } from './helpers/api.js';
import type { Queryable } from '../src/db/types.js';
import { BACKENDS } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeWorkflow } from './helpers/fixtures.js';

/** Every route that needs a token, with a request that would otherwise be valid. */
const PROTECTED: [string, string, unknown?][] = [
  ['GET', '/api/approvals'],
  ['GET', '/api/approvals/00000000-0000-4000-8000-000000000000'],
  ['POST', '/api/approvals/00000000-0000-4000-8000-000000000000/approve', {}],
  ['POST', '/api/approvals/00000000-0000-4000-8000-000000000000/reject', { reason: 'no' }],
  ['POST', '/api/approvals/00000000-0000-4000-8000-000000000000/rerequest'],
  ['POST', '/api/actions', deployAction()],
  ['GET', '/api/workflows'],
  ['GET', '/api/workflows/report'],
  ['PUT', '/api/workflows/report', { name: 'report', steps: [{ type: 'noop' }] }],
  ['POST', '/api/workflows/report/run'],
  ['GET', '/api/runs'],
  ['GET', '/api/runs/00000000-0000-4000-8000-000000000000'],
  ['GET', '/api/audit'],
];

/**
 * POSTs `size` bytes of JSON with a Content-Length and no Expect header the way a simple client
 * does: the whole request is written first, and only then is the answer read. What it gets
 * back, or how the connection failed.
 */
async function postThenRead(
  url: URL,
  token: string,
  size: number,
): Promise<{ status?: number; head: string; body: string; error?: string }> {
  const body = Buffer.from(JSON.stringify({ action_type: 'deploy', summary: 'big', payload: { blob: 'x'.repeat(size) } }));
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const socket = net.connect(Number(url.port), url.hostname);
  socket.pause();
  await once(socket, 'connect');
  const writeError = await new Promise<Error | undefined>((resolve) => {
    socket.once('error', resolve);
    socket.write(Buffer.concat([Buffer.from(head), body]), (err) => resolve(err ?? undefined));
  });
  const chunks: Buffer[] = [];
  const readError = await new Promise<Error | undefined>((resolve) => {
    if (socket.destroyed) return resolve(writeError);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(undefined));
    socket.once('error', resolve);
    socket.once('close', () => resolve(undefined));
    socket.resume();
  });
  socket.destroy();
  const text = Buffer.concat(chunks).toString('utf8');
  const [responseHead = '', responseBody = ''] = text.split('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(responseHead)?.[1];
  const error = writeError ?? readError;
  return { status: status ? Number(status) : undefined, head: responseHead, body: responseBody, error: error?.message };
}

describe.each(BACKENDS)('API authentication, tenancy and limits on $name', ({ open }) => {
  const { t, api } = useTestApi(open);

  async function pendingAction(ten: ApiTenant, summary = 'deploy web'): Promise<ApprovalRow> {
    return submitAction(t.db, { tenantId: ten.tenant.id, actor: 'token:ops', channel: 'api', ...deployAction(summary) });
  }

  describe('401: who is asking', () => {
    it('refuses every protected route without a token, and writes nothing', async () => {
      const ten = await makeApiTenant(t.db);
      for (const [method, path, body] of PROTECTED) {
        const res = await api.request(method, path, { body });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.json).toMatchObject({ error: 'unauthorized' });
        expect(res.json.message).toContain('Bearer');
      }
      const { rows } = await t.db.query(
        'SELECT 1 FROM workflows WHERE tenant_id = $1 UNION ALL SELECT 1 FROM approval_queue WHERE tenant_id = $1',
        [ten.tenant.id],
      );
      expect(rows).toHaveLength(0);
    });

    it('refuses malformed, unknown and revoked tokens', async () => {
      const ten = await makeApiTenant(t.db, { ops: 'all', gone: 'all' });
      // Revoked before it was ever used, so no authenticator can have cached it.
      expect(await revokeToken(t.db, ten.tenant.id, 'gone')).toBe(true);
      const good = ten.token('ops');
      const cases: [string, Record<string, string>][] = [
        ['basic auth', { authorization: `Basic ${Buffer.from('ops:secret').toString('base64')}` }],
        ['Bearer without a token', { authorization: 'Bearer' }],
        ['Bearer and spaces', { authorization: 'Bearer    ' }],
        ['another scheme', { authorization: `Token ${good}` }],
        ['two tokens', { authorization: `Bearer ${good} ${good}` }],
        ['too short', { authorization: 'Bearer lvq_short' }],
        ['no prefix', { authorization: `Bearer ${good.slice(4)}` }],
        ['unknown', { authorization: `Bearer ${generateToken()}` }],
        ['truncated', { authorization: `Bearer ${good.slice(0, -1)}` }],
        ['revoked', { authorization: `Bearer ${ten.token('gone')}` }],
        ['SQL', { authorization: "Bearer lvq_' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaa" }],
      ];
      for (const [what, headers] of cases) {
        const res = await api.request('GET', '/api/approvals', { headers });
        expect(res.status, what).toBe(401);
        expect(res.json.error, what).toBe('unauthorized');
      }
      const ok = await api.request('GET', '/api/approvals', { token: good });
      expect(ok.status).toBe(200);
      // The scheme is case-insensitive, as RFC 7235 says.
      expect((await api.request('GET', '/api/approvals', { headers: { authorization: `bearer ${good}` } })).status).toBe(200);
    });

    it('a revocation takes effect for an app started after it', async () => {
      const ten = await makeApiTenant(t.db, { ops: 'all' });
      expect((await api.request('GET', '/api/approvals', { token: ten.token('ops') })).status).toBe(200);
      expect(await revokeToken(t.db, ten.tenant.id, 'ops')).toBe(true);
      const fresh = await startApi(t.db);
      try {
        const res = await fresh.request('GET', '/api/approvals', { token: ten.token('ops') });
        expect(res.status).toBe(401);
        expect(res.json.message).toContain('revoked');
      } finally {
        await fresh.close();
      }
    });

    it('the authenticator honours a revocation within its 5 s cache', async () => {
      const ten = await makeApiTenant(t.db, {});
      const { token, identity } = await createToken(t.db, ten.tenant.id, 'cached', ['approvals:read']);
      let now = 1_000_000;
      const lookup = createAuthenticator(t.db, 5_000, () => now);
      expect(await lookup(token)).toEqual(identity);
      await revokeToken(t.db, ten.tenant.id, 'cached');
      now += 4_999;
      expect(await lookup(token)).toEqual(identity);
      now += 1;
      expect(await lookup(token)).toBeUndefined();
      // A lookup records when the token was last used.
      const { rows } = await t.db.query<{ last_used_at: number | null }>('SELECT last_used_at FROM api_tokens WHERE id = $1', [
        identity.id,
      ]);
      expect(rows[0]?.last_used_at).toBeGreaterThan(0);
    });

    it('concurrent requests with an uncached token share one look-up', async () => {
      const ten = await makeApiTenant(t.db, {});
      const { token, identity } = await createToken(t.db, ten.tenant.id, 'burst', ['approvals:read']);
      let lookups = 0;
      const counting: Queryable = {
        query: <R>(sql: string, params?: readonly unknown[]) => {
          if (sql.includes('api_tokens')) lookups += 1;
          return t.db.query<R>(sql, params);
        },
        exec: (sql) => t.db.exec(sql),
      };
      const lookup = createAuthenticator(counting, 5_000, () => 1_000_000);
      const results = await Promise.all(Array.from({ length: 20 }, () => lookup(token)));
      expect(results.every((r) => r?.id === identity.id)).toBe(true);
      expect(lookups).toBe(1);
      // A failed look-up is not cached: the next request tries again.
      const failing = createAuthenticator(
        { query: () => Promise.reject(new Error('connection lost')), exec: () => Promise.resolve() },
        5_000,
      );
      await expect(Promise.all([failing(token), failing(token)])).rejects.toThrow('connection lost');
      await expect(failing(token)).rejects.toThrow('connection lost');
    });
  });

  describe('403: what the token may do', () => {
    it('a token without approvals:decide reads (200) but cannot decide (403); the request stays pending', async () => {
      const ten = await makeApiTenant(t.db, { reader: ['approvals:read'] });
      const a = await pendingAction(ten);
      const list = await api.request<{ approvals: ApprovalRow[] }>('GET', '/api/approvals', { token: ten.token('reader') });
      expect(list.status).toBe(200);
      expect(list.json.approvals.map((x) => x.id)).toEqual([a.id]);
      expect((await api.request('GET', `/api/approvals/${a.id}`, { token: ten.token('reader') })).status).toBe(200);
      for (const [path, body] of [
        [`/api/approvals/${a.id}/approve`, undefined],
        [`/api/approvals/${a.id}/reject`, { reason: 'no' }],
      ] as const) {
        const res = await api.request('POST', path, { token: ten.token('reader'), body });
        expect(res.status, path).toBe(403);
        expect(res.json).toMatchObject({ error: 'forbidden' });
        expect(res.json.message).toContain('approvals:decide');
      }
      for (const [method, path, body] of [
        ['POST', '/api/actions', deployAction()],
        ['GET', '/api/workflows', undefined],
        ['GET', '/api/audit', undefined],
      ] as const) {
        expect((await api.request(method, path, { token: ten.token('reader'), body })).status, path).toBe(403);
      }
      const { rows } = await t.db.query<{ status: string }>('SELECT status FROM approval_queue WHERE id = $1', [a.id]);
      expect(rows[0]?.status).toBe('pending');
      const votes = await t.db.query('SELECT 1 FROM approval_votes WHERE approval_id = $1', [a.id]);
      expect(votes.rows).toHaveLength(0);
    });
  });

  describe('404: another tenant', () => {
    it("another tenant's approval, run and workflow are not found (never 403), and stay unchanged", async () => {
      const mine = await makeApiTenant(t.db);
      const theirs = await makeApiTenant(t.db);
      const approval = await pendingAction(theirs, 'their deploy');
      const wf = await makeWorkflow(t.db, theirs.tenant.id, { name: 'secret', steps: [{ type: 'noop' }] });
      const { runId } = await startRun(testSchedulerDeps(t.db), wf, { enqueue: true, trigger: 'manual', actor: 'cli:them' });
      const snapshot = async () => ({
        approval: (await t.db.query('SELECT * FROM approval_queue WHERE id = $1', [approval.id])).rows,
        votes: (await t.db.query('SELECT * FROM approval_votes WHERE approval_id = $1', [approval.id])).rows,
        runs: (await t.db.query('SELECT * FROM workflow_runs WHERE workflow_id = $1 ORDER BY id', [wf.id])).rows,
        workflow: (await t.db.query('SELECT * FROM workflows WHERE id = $1', [wf.id])).rows,
        audit: (await t.db.query('SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id', [theirs.tenant.id])).rows,
        rerequests: (await t.db.query('SELECT 1 FROM approval_queue WHERE previous_id = $1', [approval.id])).rows,
      });
      const before = await snapshot();
      const attempts: [string, string, unknown?][] = [
        ['GET', `/api/approvals/${approval.id}`],
        ['POST', `/api/approvals/${approval.id}/approve`],
        ['POST', `/api/approvals/${approval.id}/reject`, { reason: 'not yours' }],
        ['POST', `/api/approvals/${approval.id}/rerequest`],
        ['GET', `/api/runs/${runId}`],
        ['GET', '/api/workflows/secret'],
        ['POST', '/api/workflows/secret/run'],
        ['GET', '/api/runs?workflow=secret'],
      ];
      for (const [method, path, body] of attempts) {
        const res = await api.request(method, path, { token: mine.token('lead'), body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.json.error).toBe('not_found');
      }
      expect(await snapshot()).toEqual(before);
      // Lists never show another tenant's rows either.
      const lists = await Promise.all(
        ['/api/approvals', '/api/workflows', '/api/runs', '/api/audit'].map((p) => api.request('GET', p, { token: mine.token('lead') })),
      );
      for (const res of lists) {
        expect(res.status).toBe(200);
        expect(res.text).not.toContain(theirs.tenant.id);
        expect(res.text).not.toContain(approval.id);
      }
      // The owner still sees and decides it.
      const own = await api.request<DecisionJson>('POST', `/api/approvals/${approval.id}/approve`, { token: theirs.token('lead') });
      expect(own.status).toBe(200);
    });
  });

  describe('409: decided already', () => {
    it('a second decision is a conflict naming the current state and who decided', async () => {
      const ten = await makeApiTenant(t.db, { ops: 'all', lead: 'all', other: 'all' });
      const a = await pendingAction(ten);
      expect((await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead') })).status).toBe(200);
      const again = await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead') });
      expect(again.status).toBe(409);
      expect(again.json).toMatchObject({ error: 'conflict' });
      expect(again.json.message).toContain('already approved (by token:lead)');
      const reject = await api.request('POST', `/api/approvals/${a.id}/reject`, {
        token: ten.token('other'),
        body: { reason: 'too late' },
      });
      expect(reject.status).toBe(409);
      expect(reject.json.message).toContain('already approved');
      const { rows } = await t.db.query<{ status: string; processed_by: string }>(
        'SELECT status, processed_by FROM approval_queue WHERE id = $1',
        [a.id],
      );
      expect(rows[0]).toEqual({ status: 'approved', processed_by: 'token:lead' });
    });

    it('of concurrent deciders exactly one wins; the others get 409', async () => {
      const names = ['d1', 'd2', 'd3', 'd4', 'd5'];
      const ten = await makeApiTenant(t.db, Object.fromEntries(names.map((n) => [n, 'all' as const])));
      const a = await pendingAction(ten);
      const results = await Promise.all(
        names.map((n, i) =>
          i % 2 === 0
            ? api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token(n) })
            : api.request('POST', `/api/approvals/${a.id}/reject`, { token: ten.token(n), body: { reason: `no from ${n}` } }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409]);
      const audit = await t.db.query('SELECT 1 FROM audit_log WHERE subject = $1', [`approval:${a.id}`]);
      expect(audit.rows).toHaveLength(1);
      const votes = await t.db.query('SELECT 1 FROM approval_votes WHERE approval_id = $1', [a.id]);
      expect(votes.rows).toHaveLength(1);
    });
  });

  describe('malformed requests are 4xx, never 500', () => {
    it('a non-JSON content type, broken JSON or a prototype-pollution key is refused', async () => {
      const ten = await makeApiTenant(t.db);
      const token = ten.token('ops');
      const form = await api.request('POST', '/api/actions', {
        token,
        rawBody: 'action_type=deploy&summary=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      expect(form.json).toMatchObject({ error: 'unsupported_media_type' });
      const text = await api.request('POST', '/api/actions', {
        token,
        rawBody: JSON.stringify(deployAction()),
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(400);
      expect(text.json.error).toBe('bad_input');
      const broken = await api.request('POST', '/api/actions', {
        token,
        rawBody: '{"action_type": "deploy",',
        headers: { 'content-type': 'application/json' },
      });
      expect(broken.status).toBe(400);
      expect(broken.json).toMatchObject({ error: 'bad_request' });
      const proto = await api.request('POST', '/api/actions', {
        token,
        rawBody: '{"action_type": "deploy", "summary": "x", "__proto__": {"admin": true}}',
        headers: { 'content-type': 'application/json' },
      });
      expect(proto.status).toBe(400);
      const emptyJson = await api.request('POST', '/api/actions', { token, rawBody: '', headers: { 'content-type': 'application/json' } });
      expect(emptyJson.status).toBe(400);
      const array = await api.request('POST', '/api/actions', { token, body: [deployAction()] });
      expect(array.status).toBe(400);
      const { rows } = await t.db.query('SELECT 1 FROM approval_queue WHERE tenant_id = $1', [ten.tenant.id]);
      expect(rows).toHaveLength(0);
    });

    it('an unknown route or method is a JSON 404', async () => {
      const ten = await makeApiTenant(t.db);
      for (const [method, path] of [
        ['GET', '/api/nothing-here?x=1'],
        ['DELETE', '/api/approvals'],
        ['GET', '/'],
      ] as const) {
        const res = await api.request(method, path, { token: ten.token('ops') });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get('content-type')).toContain('application/json');
        expect(res.json).toMatchObject({ error: 'not_found' });
        expect(res.json.message).toContain(path.split('?')[0]);
      }
    });
  });

  describe('413 and 429: limits', () => {
    it('refuses a body over bodyLimitBytes with 413 and writes nothing', async () => {
      const small = await startApi(t.db, { bodyLimitBytes: 2048 });
      try {
        const ten = await makeApiTenant(t.db);
        const fits = await small.request('POST', '/api/actions', {
          token: ten.token('ops'),
          body: deployAction('fits', { blob: 'x'.repeat(1500) }),
        });
        expect(fits.status, fits.text).toBe(201);
        const big = await small.request('POST', '/api/actions', {
          token: ten.token('ops'),
          body: deployAction('too big', { blob: 'x'.repeat(3000) }),
        });
        expect(big.status).toBe(413);
        expect(big.json).toMatchObject({ error: 'payload_too_large' });
        const { rows } = await t.db.query<{ summary: string }>('SELECT summary FROM approval_queue WHERE tenant_id = $1', [ten.tenant.id]);
        expect(rows.map((r) => r.summary)).toEqual(['fits']);
      } finally {
        await small.close();
      }
    });

    it.each([
      ['a body of 32 MB, without Expect: 100-continue', 32 * 1024 * 1024],
      ['a body just over the limit', 2049],
    ])('%s gets the 413 JSON, not a closed connection', async (_, size) => {
      const small = await startApi(t.db, { bodyLimitBytes: 2048 });
      try {
        const ten = await makeApiTenant(t.db);
        const res = await postThenRead(new URL('/api/actions', small.baseUrl), ten.token('ops'), size);
        expect(res.error, 'the client saw the connection fail').toBeUndefined();
        expect(res.status).toBe(413);
        expect(res.head.toLowerCase()).toContain('content-type: application/json');
        expect(JSON.parse(res.body)).toMatchObject({ error: 'payload_too_large', message: expect.stringContaining('2048') as unknown });
        const { rows } = await t.db.query('SELECT 1 FROM approval_queue WHERE tenant_id = $1', [ten.tenant.id]);
        expect(rows).toHaveLength(0);
      } finally {
        await small.close();
      }
    });

    it('answers 429 with Retry-After once a token exceeds rateLimitPerMinute, while another token is still served', async () => {
      const limited = await startApi(t.db, { rateLimitPerMinute: 5 });
      try {
        const ten = await makeApiTenant(t.db, { busy: 'all', calm: 'all' });
        for (let i = 0; i < 5; i++) {
          const res = await limited.request('GET', '/api/approvals', { token: ten.token('busy') });
          expect(res.status, `request ${i + 1}`).toBe(200);
        }
        const over = await limited.request('GET', '/api/approvals', { token: ten.token('busy') });
        expect(over.status).toBe(429);
        expect(over.json).toMatchObject({ error: 'rate_limited' });
        expect(over.json.message).toContain('5 requests per minute');
        const retryAfter = Number(over.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect((await limited.request('GET', '/api/approvals', { token: ten.token('calm') })).status).toBe(200);
        // Probes are never limited.
        for (let i = 0; i < 7; i++) expect((await limited.request('GET', '/healthz')).status).toBe(200);
      } finally {
        await limited.close();
      }
    });
  });
});
