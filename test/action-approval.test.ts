import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchApproved } from '../src/approvals/dispatch.js';
import { decideApproval, expireApprovals } from '../src/approvals/service.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import type { Db } from '../src/db/types.js';
import { apiRequest, makeApiTenant, requestDeploy, type ApiTenant } from './helpers/api.js';
import { createPgDatabase } from './helpers/db.js';
import { startAction, startFakeGitHub, type FakeGitHub } from './helpers/github.js';
import { pollUntil } from './helpers/proc.js';
import { startServe, type ServedApi } from './helpers/server.js';

// request-approval: the action submits a Class C action and polls while the test decides it.

let db: Db;
let url: string;
let drop: () => Promise<void>;
let t: ApiTenant;
let gh: FakeGitHub;
let serve: ServedApi;
const DISPATCH_TOKEN = 'ghp_levqorServerDispatchToken';
const workspace = mkdtempSync(join(tmpdir(), 'levqor-action-approval-'));
const FAST = { 'poll-interval-seconds': '0.05', 'max-poll-interval-seconds': '0.2' };

beforeAll(async () => {
  ({ url, drop } = await createPgDatabase('levqor_aappr', { template: true }));
  db = await openDatabase({ DATABASE_URL: url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 4, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 });
  t = await makeApiTenant(db, { ci: 'all', lead: 'all' }, 'shop');
  gh = await startFakeGitHub(DISPATCH_TOKEN);
  serve = await startServe({
    DATABASE_URL: url,
    LEVQOR_GITHUB_DISPATCH_TOKEN: DISPATCH_TOKEN,
    LEVQOR_GITHUB_API_URL: gh.url,
    LEVQOR_GITHUB_DISPATCH_REPOS: 'acme/deployer',
  });
});
afterAll(async () => {
  await serve.stop();
  await gh.close();
  await db.close();
  await drop();
  rmSync(workspace, { recursive: true, force: true });
});

/** Polls for the request the action submits; fails at once with the action's output if it exits first. */
async function submitted(action: ReturnType<typeof startAction>, summary: string): Promise<string> {
  let exited: Awaited<typeof action.done> | undefined;
  void action.done.then((r) => (exited = r));
  return pollUntil(
    async () => {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM approval_queue WHERE summary = $1', [summary]);
      if (!rows[0] && exited) throw new Error(`the action exited ${exited.code} before submitting:\n${exited.stdout}${exited.stderr}`);
      return rows[0]?.id;
    },
    { what: `the approval request "${summary}"`, attempts: 400 },
  );
}

/** Starts the action and returns it with the approval it submitted (found in the database). */
async function requestViaAction(title: string, inputs: Record<string, string> = {}) {
  const action = startAction({
    inputs: {
      command: 'request-approval',
      'database-url': url,
      title,
      details: 'v2.3.1 to production',
      payload: '{"version":"2.3.1"}',
      ...FAST,
      ...inputs,
    },
    env: { GITHUB_ACTOR: 'release-bot', GITHUB_SHA: 'a'.repeat(40) },
    workspace,
  });
  return { action, id: await submitted(action, title) };
}

describe('command: request-approval', () => {
  it('waits for an approval given while it polls, then outputs decision and approver', async () => {
    const { action, id } = await requestViaAction('Deploy shop 2.3.1');
    const row = await db.query<{ impact_class: string; action_type: string; requested_by: string; payload: Record<string, unknown> }>(
      'SELECT impact_class, action_type, requested_by, payload FROM approval_queue WHERE id = $1',
      [id],
    );
    expect(row.rows[0]).toMatchObject({ impact_class: 'C', action_type: 'deploy', requested_by: 'github:release-bot' });
    expect(row.rows[0]?.payload).toMatchObject({
      version: '2.3.1',
      title: 'Deploy shop 2.3.1',
      details: 'v2.3.1 to production',
      github: { repository: 'acme/shop' },
    });
    await decideApproval(db, { id, tenantId: t.tenant.id, decision: 'approve', actor: 'slack:U0LEAD', channel: 'slack' });
    const r = await action.done;
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({ 'approval-id': id, decision: 'approved', approver: 'slack:U0LEAD', reason: '' });
    expect(r.summary).toContain('Deploy shop 2.3.1: approved');
  });

  it('fails on a rejection, with the reason in the log and the outputs', async () => {
    const { action, id } = await requestViaAction('Deploy shop 2.3.2');
    await decideApproval(db, {
      id,
      tenantId: t.tenant.id,
      decision: 'reject',
      actor: 'cli:carol',
      channel: 'cli',
      reason: 'freeze until Monday',
    });
    const r = await action.done;
    expect(r.code).toBe(1);
    expect(r.outputs).toMatchObject({ decision: 'rejected', approver: 'cli:carol', reason: 'freeze until Monday' });
    expect(r.errors).toContain(`::error::approval ${id} rejected by cli:carol: freeze until Monday`);
  });

  it('fails when the request expires while it waits', async () => {
    const { action, id } = await requestViaAction('Deploy shop 2.3.3');
    await db.query('UPDATE approval_queue SET expires_at = extract(epoch FROM now()) - 1 WHERE id = $1', [id]);
    await expireApprovals(db);
    const r = await action.done;
    expect(r.code).toBe(1);
    expect(r.outputs.decision).toBe('expired');
    // Whichever notices first: the server's expiry sweep, or the action seeing the deadline pass.
    expect(r.outputs.reason).toMatch(/^no decision before (\d{4}-\d\d-\d\dT|it expired)/);
    expect(r.errors.at(-1)).toMatch(new RegExp(`^::error::approval ${id} expired: no decision before`));
  });

  it('gives up after timeout-minutes, leaving the request pending', async () => {
    const { action, id } = await requestViaAction('Deploy shop 2.3.4', { 'timeout-minutes': '0.005' });
    const r = await action.done;
    expect(r.code).toBe(1);
    expect(r.outputs.decision).toBe('pending');
    expect(r.errors.at(-1)).toBe(`::error::no decision on approval ${id} within 0.005 minute(s); it is still pending`);
  });

  it('works through the REST API (api-url + api-token) without database access', async () => {
    const action = startAction({
      inputs: { command: 'request-approval', 'api-url': serve.baseUrl, 'api-token': t.token('ci'), title: 'Deploy via API', ...FAST },
      workspace,
    });
    const id = await submitted(action, 'Deploy via API');
    const decided = await apiRequest(serve.baseUrl, 'POST', `/api/approvals/${id}/approve`, { token: t.token('lead') });
    expect(decided.status).toBe(200);
    const r = await action.done;
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({ decision: 'approved', approver: 'token:lead' });
    expect(r.stdout.split('\n').filter((l) => l.includes(t.token('ci')) && !l.startsWith('::add-mask::'))).toEqual([]);
  });

  it('without waiting: submits and exits; on approval `levqor serve` sends one repository_dispatch', async () => {
    const { action, id } = await requestViaAction('Deploy shop 2.4.0', {
      wait: 'false',
      'dispatch-event-type': 'deploy-approved',
      'dispatch-repository': 'acme/deployer',
    });
    const r = await action.done;
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ 'approval-id': id, decision: 'pending' });
    expect(gh.dispatches).toEqual([]);
    await decideApproval(db, { id, tenantId: t.tenant.id, decision: 'approve', actor: 'slack:U0LEAD', channel: 'slack' });
    const sent = await pollUntil(
      () => Promise.resolve(gh.dispatches.find((d) => (d.client_payload as { approval_id?: string }).approval_id === id)),
      { what: `the repository_dispatch\n${serve.proc.tail(30)}`, attempts: 400 },
    );
    expect(sent).toMatchObject({
      repo: 'acme/deployer',
      event_type: 'deploy-approved',
      client_payload: { approver: 'slack:U0LEAD', payload: { version: '2.3.1', title: 'Deploy shop 2.4.0' } },
    });
    expect(gh.calls.find((c) => c.path === '/repos/acme/deployer/dispatches')?.authorization).toBe(`token ${DISPATCH_TOKEN}`);
    const audit = await pollUntil(
      async () =>
        (
          await db.query<{ action: string }>("SELECT action FROM audit_log WHERE subject = $1 AND actor = 'levqor:dispatch'", [
            `approval:${id}`,
          ])
        ).rows[0],
      { what: 'the audit entry' },
    );
    expect(audit.action).toBe('approval.dispatched');
    // Claimed once: another sweep (a second server) sends nothing more.
    const again = await dispatchApproved(db, { token: DISPATCH_TOKEN, apiUrl: gh.url, allowedRepos: [] }, {
      info: () => undefined,
      warn: () => undefined,
    } as never);
    expect(again).toEqual({ sent: 0, failed: 0 });
    expect(gh.dispatches.filter((d) => (d.client_payload as { approval_id?: string }).approval_id === id)).toHaveLength(1);
  });

  it('without waiting, the pipeline hears "no" too: one dispatch for a rejection, one for an expiry, none for old news', async () => {
    const sentFor = (id: string) =>
      pollUntil(() => Promise.resolve(gh.dispatches.find((d) => (d.client_payload as { approval_id?: string }).approval_id === id)), {
        what: `the repository_dispatch for ${id}\n${serve.proc.tail(30)}`,
        attempts: 400,
      });
    const rejected = await requestViaAction('Deploy shop 2.5.0', {
      wait: 'false',
      'dispatch-repository': 'acme/deployer',
      'dispatch-rejected-event-type': 'deploy-refused',
    });
    const r = await rejected.action.done;
    expect(r.code).toBe(0);
    expect(r.summary).toContain('<code>deploy-refused</code> when rejected, <code>levqor-expired</code> when it expires');
    await decideApproval(db, {
      id: rejected.id,
      tenantId: t.tenant.id,
      decision: 'reject',
      actor: 'slack:U0LEAD',
      channel: 'slack',
      reason: 'change freeze',
    });
    expect(await sentFor(rejected.id)).toMatchObject({
      repo: 'acme/deployer',
      event_type: 'deploy-refused',
      client_payload: { decision: 'rejected', approver: 'slack:U0LEAD', reason: 'change freeze', payload: { title: 'Deploy shop 2.5.0' } },
    });

    const expired = await requestViaAction('Deploy shop 2.5.1', { wait: 'false', 'dispatch-repository': 'acme/deployer' });
    expect((await expired.action.done).code).toBe(0);
    await db.query('UPDATE approval_queue SET expires_at = extract(epoch FROM now()) - 1 WHERE id = $1', [expired.id]);
    await expireApprovals(db);
    expect(await sentFor(expired.id)).toMatchObject({
      event_type: 'levqor-expired',
      client_payload: { decision: 'expired', approver: 'levqor:expiry' },
    });

    // Decided two days ago (an upgrade, a long outage): not announced now.
    const old = await requestDeploy(db, t.tenant.id, {
      summary: 'old news',
      payload: { dispatch: { repository: 'acme/deployer', event_type: 'go' } },
    });
    await db.query(
      `UPDATE approval_queue SET status = 'rejected', processed_by = 'cli:carol', reason = 'old',
         processed_at = extract(epoch FROM now()) - 172800 WHERE id = $1`,
      [old.id],
    );
    const quiet = { info: () => undefined, warn: () => undefined } as never;
    expect(await dispatchApproved(db, { token: DISPATCH_TOKEN, apiUrl: gh.url, allowedRepos: [] }, quiet)).toEqual({ sent: 0, failed: 0 });
    const ids = new Set([rejected.id, expired.id, old.id]);
    expect(
      gh.dispatches.filter((d) => ids.has((d.client_payload as { approval_id: string }).approval_id)).map((d) => d.event_type),
    ).toEqual(['deploy-refused', 'levqor-expired']);
  });

  it('a dispatch to a repository outside LEVQOR_GITHUB_DISPATCH_REPOS is refused and audited', async () => {
    const a = await requestDeploy(db, t.tenant.id, {
      summary: 'elsewhere',
      payload: { dispatch: { repository: 'evil/repo', event_type: 'go' } },
    });
    await decideApproval(db, { id: a.id, tenantId: t.tenant.id, decision: 'approve', actor: 'cli:lead', channel: 'cli' });
    const audit = await pollUntil(
      async () =>
        (
          await db.query<{ detail: { error: string } }>(
            "SELECT detail FROM audit_log WHERE subject = $1 AND action = 'approval.dispatch_failed'",
            [`approval:${a.id}`],
          )
        ).rows[0],
      { what: 'the dispatch_failed audit entry', attempts: 400 },
    );
    expect(audit.detail.error).toBe('payload.dispatch.repository: evil/repo is not in LEVQOR_GITHUB_DISPATCH_REPOS');
    expect(gh.dispatches.some((d) => d.repo === 'evil/repo')).toBe(false);
  });
});
