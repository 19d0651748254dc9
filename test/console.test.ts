import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeToken } from '../src/auth/queries.js';
import { resolveSession } from '../src/auth/sessions.js';
import { startRun } from '../src/scheduler/manual.js';
import { makeApiTenant, startApi, type ApiTenant, type TestApi } from './helpers/api.js';
import { approvalState, csrfOf, getPage, postForm, requestApproval, signInCookie } from './helpers/console.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeWorkflow } from './helpers/fixtures.js';

describe.each(BACKENDS)('console on $name', ({ open }) => {
  const t = useTestDb(open);
  let api: TestApi;
  let tenant: ApiTenant;

  beforeAll(async () => {
    api = await startApi(t.db);
    tenant = await makeApiTenant(
      t.db,
      { ops: 'all', lead: 'all', viewer: ['approvals:read', 'runs:read', 'workflows:read'], gone: 'all', requester: ['actions:write'] },
      'console',
    );
  });
  afterAll(() => api.close());

  it('shows the sign-in form without a session, and the queue after signing in', async () => {
    const anon = await getPage(api.baseUrl, '/console/approvals', '');
    expect(anon.html).toContain('action="/dashboard/login"');
    expect(anon.html).toContain('name="next" value="/console/approvals"');
    const cookie = await signInCookie(api.baseUrl, tenant.token('ops'));
    expect(cookie).toMatch(/^levqor_session=lvs_/);
    const page = await getPage(api.baseUrl, '/console/approvals', cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-[^']+'; style-src/);
    expect(page.html).not.toMatch(/\son[a-z]+=/i);
    expect(page.html).toContain('Pending requests, oldest first');
  });

  it('approves once on a double submit, and rejects only with a valid reason', async () => {
    const first = await requestApproval(api.baseUrl, tenant.token('requester'), 'double submit');
    const cookie = await signInCookie(api.baseUrl, tenant.token('ops'));
    const csrf = csrfOf((await getPage(api.baseUrl, '/console/approvals', cookie)).html);
    const path = `/console/approvals/${first}/approve`;
    const [a, b] = await Promise.all([postForm(api.baseUrl, path, cookie, { csrf }), postForm(api.baseUrl, path, cookie, { csrf })]);
    expect([a.status, b.status].sort()).toEqual([303, 409]);
    expect(await approvalState(t.db, first)).toMatchObject({ status: 'approved', processed_by: 'token:ops' });
    const votes = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM approval_votes WHERE approval_id = $1', [first]);
    expect(votes.rows[0]?.n).toBe(1);
    const done = await getPage(api.baseUrl, `/console/approvals?decided=${first}`, cookie);
    expect(done.html).toContain('double submit: approved by token:ops');

    const second = await requestApproval(api.baseUrl, tenant.token('requester'), 'needs a reason');
    const rpath = `/console/approvals/${second}/reject`;
    const empty = await postForm(api.baseUrl, rpath, cookie, { csrf, reason: '   ' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('a rejection needs a reason');
    // Too long: refused naming the reason, and what was typed comes back in that row's field.
    const long = await postForm(api.baseUrl, rpath, cookie, { csrf, reason: `${'🚫'.repeat(500)}!` });
    expect(long.status).toBe(400);
    const longHtml = await long.text();
    expect(longHtml).toContain('reason: at most 500 characters (got 501)');
    expect(longHtml).toMatch(new RegExp(`id="reason-${second}"[^>]* value="${'🚫'.repeat(500)}!" aria-invalid="true"`));
    // Far over any limit: still a reason error, not a refused form.
    const huge = await postForm(api.baseUrl, rpath, cookie, { csrf, reason: 'y'.repeat(5000) });
    expect(huge.status).toBe(400);
    expect(await huge.text()).toContain('reason: at most 500 characters (got 5000)');
    // 500 emoji are 500 code points: a valid reason (maxlength would have cut it at 250).
    expect((await postForm(api.baseUrl, rpath, cookie, { csrf, reason: `not tonight ${'🚫'.repeat(488)}` })).status).toBe(303);
    expect(await approvalState(t.db, second)).toMatchObject({ status: 'rejected', reason: `not tonight ${'🚫'.repeat(488)}` });
    const history = await getPage(api.baseUrl, '/console/approvals?status=rejected', cookie);
    expect(history.html).toContain('not tonight');
    expect(history.html).toContain(`/console/approvals/${second}/rerequest`);
  });

  it("re-requesting a workflow step's rejected request goes to the linked new run that asks again", async () => {
    const wf = await makeWorkflow(t.db, tenant.tenant.id, {
      name: 'console-again',
      steps: [{ type: 'http', url: 'https://example.com/hook' }],
    });
    const { outcome } = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'token:requester' });
    if (outcome?.kind !== 'parked') throw new Error('expected the run to ask');
    const cookie = await signInCookie(api.baseUrl, tenant.token('ops'));
    const csrf = csrfOf((await getPage(api.baseUrl, '/console/approvals', cookie)).html);
    expect(
      (await postForm(api.baseUrl, `/console/approvals/${outcome.approvalId}/reject`, cookie, { csrf, reason: 'not now' })).status,
    ).toBe(303);
    const again = await postForm(api.baseUrl, `/console/approvals/${outcome.approvalId}/rerequest`, cookie, { csrf });
    expect(again.status).toBe(303);
    const location = again.headers.get('location') ?? '';
    expect(location).toMatch(/^\/console\/runs\/[0-9a-f-]{36}$/);
    const page = await getPage(api.baseUrl, location, cookie);
    expect(page.status).toBe(200);
    expect(page.html).toContain('console-again');
  });

  it('refuses a post without the session CSRF token or from another site', async () => {
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), 'csrf target');
    const cookie = await signInCookie(api.baseUrl, tenant.token('ops'));
    const csrf = csrfOf((await getPage(api.baseUrl, '/console/approvals', cookie)).html);
    const path = `/console/approvals/${id}/approve`;
    expect((await postForm(api.baseUrl, path, cookie, {})).status).toBe(403);
    expect((await postForm(api.baseUrl, path, cookie, { csrf: 'x'.repeat(csrf.length) })).status).toBe(403);
    expect((await postForm(api.baseUrl, path, cookie, { csrf }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Another session's token is not this session's.
    const other = csrfOf((await getPage(api.baseUrl, '/console/approvals', await signInCookie(api.baseUrl, tenant.token('lead')))).html);
    expect((await postForm(api.baseUrl, path, cookie, { csrf: other })).status).toBe(403);
    expect(await approvalState(t.db, id)).toMatchObject({ status: 'pending' });
  });

  it('shows a token without approvals:decide the queue read-only and refuses its decisions', async () => {
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), 'read only');
    const cookie = await signInCookie(api.baseUrl, tenant.token('viewer'));
    const page = await getPage(api.baseUrl, '/console/approvals', cookie);
    expect(page.html).toContain('id="read-only"');
    expect(page.html).toContain(`data-approval-id="${id}"`);
    expect(page.html).not.toContain(`/console/approvals/${id}/approve`);
    expect(page.html).not.toContain('name="csrf"');
    // Even with the session's own CSRF token (read from the database), the server refuses.
    const session = await resolveSession(t.db, decodeURIComponent(cookie.split('=')[1] ?? ''));
    const csrf = session?.csrf ?? '';
    expect(csrf).not.toBe('');
    const res = await postForm(api.baseUrl, `/console/approvals/${id}/approve`, cookie, { csrf });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('lacks the approvals:decide scope');
    expect(await approvalState(t.db, id)).toMatchObject({ status: 'pending' });
  });

  it('ends a session when it signs out (the others of its token live on), and every session when its token is revoked', async () => {
    const cookie = await signInCookie(api.baseUrl, tenant.token('gone'));
    const other = await signInCookie(api.baseUrl, tenant.token('gone'));
    expect((await getPage(api.baseUrl, '/console/approvals/pending.json', cookie)).status).toBe(200);
    const out = await postForm(api.baseUrl, '/dashboard/logout', cookie, {});
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^levqor_session=; .*Max-Age=0/);
    expect((await getPage(api.baseUrl, '/console/approvals/pending.json', cookie)).status).toBe(401);
    expect((await getPage(api.baseUrl, '/console/approvals/pending.json', other)).status).toBe(200);
    const again = await signInCookie(api.baseUrl, tenant.token('gone'));
    expect((await getPage(api.baseUrl, '/console/approvals/pending.json', again)).status).toBe(200);
    expect(await revokeToken(t.db, tenant.tenant.id, 'gone')).toBe(true);
    expect((await getPage(api.baseUrl, '/console/approvals/pending.json', again)).status).toBe(401);
    expect((await getPage(api.baseUrl, '/console/approvals/pending.json', other)).status).toBe(401);
    expect((await getPage(api.baseUrl, '/console/approvals', again)).html).toContain('Your session has ended');
  });

  it('lists a decision made through the API as gone from the pending feed', async () => {
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), 'api side');
    const cookie = await signInCookie(api.baseUrl, tenant.token('ops'));
    const before = (await (await fetch(`${api.baseUrl}/console/approvals/pending.json`, { headers: { cookie } })).json()) as {
      ids: string[];
    };
    expect(before.ids).toContain(id);
    await api.request('POST', `/api/approvals/${id}/approve`, { token: tenant.token('lead') });
    const after = (await (await fetch(`${api.baseUrl}/console/approvals/pending.json`, { headers: { cookie } })).json()) as {
      ids: string[];
    };
    expect(after.ids).not.toContain(id);
  });

  it('escapes hostile summaries and payloads', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'';
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), hostile, { note: '</pre><script>alert(3)</script>' });
    const cookie = await signInCookie(api.baseUrl, tenant.token('ops'));
    const { html } = await getPage(api.baseUrl, '/console/approvals', cookie);
    expect(html).toContain(`data-approval-id="${id}"`);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });
});
