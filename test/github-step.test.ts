// The `github` step (issue 27 part 3): a Class C GitHub call a runbook needs, validated like
// every step, held for approval with exactly what will be called, and sent once afterwards with
// the server's credential (never the workflow's), through the SSRF guard, against the fake GitHub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../src/approvals/service.js';
import { getRun } from '../src/runs/queries.js';
import { runQueuedNow, startRun } from '../src/scheduler/manual.js';
import { workflowSchema } from '../src/workflows/schema.js';
import { useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';
import { startFakeGitHub, type FakeGitHub } from './helpers/github.js';

const TOKEN = 'ghp_levqorServerToken';

describe('github step', () => {
  const t = useTestDb();
  let gh: FakeGitHub;
  let env: Record<string, string>;
  beforeAll(async () => {
    gh = await startFakeGitHub(TOKEN);
    env = { LEVQOR_GITHUB_API_URL: gh.url, LEVQOR_GITHUB_DISPATCH_TOKEN: TOKEN, LEVQOR_HTTP_ALLOW: '127.0.0.1' };
  });
  afterAll(() => gh.close());

  /** Starts a one-step run of `wf`, which asks for approval, and approves that request. */
  async function startAndApprove(deps: ReturnType<typeof testSchedulerDeps>, wf: Parameters<typeof startRun>[1]): Promise<string> {
    const { runId } = await startRun(deps, wf, { enqueue: false, trigger: 'manual', actor: 'cli:ops' });
    const { rows } = await t.db.query<{ id: string }>(`SELECT id FROM approval_queue WHERE run_id = $1`, [runId]);
    await decideApproval(t.db, { id: rows[0]?.id as string, decision: 'approve', actor: 'cli:lead', channel: 'cli' });
    return runId;
  }

  const issues = (steps: unknown[]) => {
    const r = workflowSchema.safeParse({ name: 'gh', steps });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('validates each operation: the fields it needs, and none it does not use', () => {
    expect(
      issues([{ type: 'github', repository: 'acme/app', operation: 'dispatch_workflow', workflow: 'deploy.yml', ref: 'main' }]),
    ).toEqual([]);
    expect(issues([{ type: 'github', repository: 'acme/app', operation: 'dispatch_workflow', workflow: 'deploy.yml' }])).toEqual([
      'steps.0.ref: required by operation dispatch_workflow',
    ]);
    expect(issues([{ type: 'github', repository: 'acme/app', operation: 'create_issue', title: 'x', state: 'success' }])).toEqual([
      'steps.0.state: not used by operation create_issue',
    ]);
    expect(issues([{ type: 'github', repository: 'acme', operation: 'comment', issue: 'twelve', body: 'x' }])).toEqual([
      'steps.0.repository: owner/repo',
      'steps.0.issue: a positive integer or a {{template}} that renders to one',
    ]);
    expect(issues([{ type: 'github', repository: 'acme/app', operation: 'merge_everything' }])[0]).toMatch(/^steps\.0\.operation: /);
    // A credential has no place in the step: it is the server's.
    expect(issues([{ type: 'github', repository: 'acme/app', operation: 'create_issue', title: 'x', token: 'ghp_x' }])[0]).toMatch(/token/);
  });

  it('holds the call for approval showing what will be called, then sends it once with the server credential', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'incident',
      steps: [
        {
          type: 'github',
          name: 'open',
          repository: 'acme/ops',
          operation: 'create_issue',
          title: 'Checkout is down',
          labels: ['incident'],
        },
        { type: 'github', repository: 'acme/ops', operation: 'comment', issue: '{{steps.open.number}}', body: 'Paging on-call' },
        {
          type: 'github',
          repository: 'acme/app',
          operation: 'dispatch_workflow',
          workflow: 'rollback.yml',
          ref: 'main',
          inputs: { to: 'v1.2.2' },
        },
      ],
    });
    const deps = testSchedulerDeps(t.db, env);
    const { runId } = await startRun(deps, wf, { enqueue: false, trigger: 'manual', actor: 'cli:ops' });
    const pending = async () =>
      (
        await t.db.query<{ id: string; summary: string; payload: Record<string, unknown> }>(
          `SELECT id, summary, payload FROM approval_queue WHERE run_id = $1 AND status = 'pending'`,
          [runId],
        )
      ).rows[0];

    const first = await pending();
    expect(first?.summary).toBe('incident: GitHub create issue in acme/ops: "Checkout is down"');
    expect(first?.payload).toEqual({
      type: 'github',
      name: 'open',
      repository: 'acme/ops',
      operation: 'create_issue',
      title: 'Checkout is down',
      labels: ['incident'],
    });
    expect(gh.calls.filter((c) => c.method === 'POST')).toEqual([]);
    await decideApproval(t.db, { id: first?.id as string, decision: 'approve', actor: 'cli:lead', channel: 'cli' });
    await runQueuedNow(deps, runId);

    // The comment is approved with the issue number the first call returned, rendered in.
    const second = await pending();
    expect(second?.summary).toMatch(/^incident: GitHub comment in acme\/ops on #\d+$/);
    const issueNumber = (await getRun(t.db, runId))?.context.steps?.open as { number: number; url: string };
    expect(second?.payload).toMatchObject({ operation: 'comment', issue: issueNumber.number });
    await decideApproval(t.db, { id: second?.id as string, decision: 'approve', actor: 'cli:lead', channel: 'cli' });
    await runQueuedNow(deps, runId);

    const third = await pending();
    expect(third?.summary).toBe('incident: GitHub dispatch workflow in acme/app: rollback.yml on main');
    await decideApproval(t.db, { id: third?.id as string, decision: 'approve', actor: 'cli:lead', channel: 'cli' });
    await runQueuedNow(deps, runId);
    // A second resume finds nothing left to send.
    await runQueuedNow(deps, runId);

    const posts = gh.calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.path)).toEqual([
      '/repos/acme/ops/issues',
      `/repos/acme/ops/issues/${issueNumber.number}/comments`,
      '/repos/acme/app/actions/workflows/rollback.yml/dispatches',
    ]);
    expect(posts.every((c) => c.authorization === `token ${TOKEN}`)).toBe(true);
    expect(posts[0]?.body).toEqual({ title: 'Checkout is down', labels: ['incident'] });
    expect(posts[1]?.body).toEqual({ body: 'Paging on-call' });
    expect(posts[2]?.body).toEqual({ ref: 'main', inputs: { to: 'v1.2.2' } });
    const run = await getRun(t.db, runId);
    expect(run).toMatchObject({ status: 'succeeded', step_index: 3 });
    expect(run?.context.steps?.open).toMatchObject({ operation: 'create_issue', repository: 'acme/ops', status: 201 });
  });

  it('fails the step naming the call when GitHub refuses it, and does not retry a server error', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'deploy',
      steps: [{ type: 'github', repository: 'acme/broken', operation: 'create_deployment', ref: 'v2', environment: 'production' }],
    });
    gh.failWith(/^\/repos\/acme\/broken\/deployments$/, 502, 1);
    const deps = testSchedulerDeps(t.db, env);
    const runId = await startAndApprove(deps, wf);
    await runQueuedNow(deps, runId);
    expect(gh.calls.filter((c) => c.path === '/repos/acme/broken/deployments')).toHaveLength(1);
    expect(await getRun(t.db, runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/GitHub POST \/repos\/acme\/broken\/deployments: 502 /) as unknown,
    });
  });

  it('reaches GitHub only where an http step may: the SSRF guard applies without an allowance', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'guarded',
      steps: [{ type: 'github', repository: 'acme/app', operation: 'repository_dispatch', event_type: 'go' }],
    });
    const deps = testSchedulerDeps(t.db, { LEVQOR_GITHUB_API_URL: gh.url, LEVQOR_GITHUB_DISPATCH_TOKEN: TOKEN });
    const runId = await startAndApprove(deps, wf);
    const before = gh.calls.length;
    await runQueuedNow(deps, runId);
    expect(gh.calls.length).toBe(before);
    expect((await getRun(t.db, runId))?.error).toMatch(/127\.0\.0\.1/);
  });
});
