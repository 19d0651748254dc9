import { describe, expect, it } from 'vitest';
import { actionClass, rerequestAction } from '../src/approvals/actions.js';
import { requestDeploy } from './helpers/api.js';
import { decisionProblem } from '../src/approvals/policy.js';
import { decideApproval } from '../src/approvals/service.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { listApprovals } from '../src/approvals/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { runTick } from '../src/scheduler/tick.js';
import { applyWorkflow } from '../src/workflows/queries.js';
import { workflowSchema } from '../src/workflows/schema.js';
import { useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';

describe('approval loopholes stay closed', () => {
  const t = useTestDb();

  it.each([
    ['deploy', 'A', 'C'],
    ['deploy', undefined, 'C'],
    ['log', undefined, 'A'],
    ['log', 'C', 'C'],
    ['set_workflow_active', 'A', 'B'],
    ['http', 'A', 'C'],
  ] as const)('an action of type %s declared %s is Class %s (never lowered)', (type, declared, expected) => {
    expect(actionClass(type, declared)).toBe(expected);
  });

  it('refuses a group name posing as a decider', () => {
    const policy = { ...DEFAULT_POLICY, approvers: ['group:oncall'], groups: { oncall: ['slack:U1'] } };
    expect(decisionProblem(policy, { requested_by: 'token:x' }, 'group:oncall')).toMatch(/names a group/);
    expect(decisionProblem(policy, { requested_by: 'token:x' }, 'slack:U1')).toBeUndefined();
  });

  it('lets a rejected action be asked again once, even when asked twice at the same time', async () => {
    const tenant = await makeTenant(t.db);
    const a = await requestDeploy(t.db, tenant.id, { summary: 'ship', payload: {}, actor: 'token:dev' });
    await decideApproval(t.db, {
      id: a.id,
      tenantId: tenant.id,
      decision: 'reject',
      actor: 'token:lead',
      channel: 'api',
      reason: 'not yet',
    });
    const results = await Promise.allSettled([0, 1, 2].map(() => rerequestAction(t.db, a.id, tenant.id, 'token:dev', 'api')));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code: string }).code)).toEqual([
      'conflict',
      'conflict',
    ]);
    await expect(rerequestAction(t.db, a.id, tenant.id, 'token:dev', 'api')).rejects.toMatchObject({ code: 'conflict' });
  });

  it("starts one linked run for a workflow step's rejected request, even when asked three times at the same time", async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, { name: 'again', steps: [{ type: 'http', url: 'https://example.com/x' }] });
    const { runId, outcome } = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'cli:dev' });
    if (outcome?.kind !== 'parked') throw new Error(`expected the run to park, got ${outcome?.kind ?? 'nothing'}`);
    await decideApproval(t.db, {
      id: outcome.approvalId,
      tenantId: tenant.id,
      decision: 'reject',
      actor: 'token:lead',
      channel: 'api',
      reason: 'no',
    });
    const results = await Promise.allSettled([0, 1, 2].map(() => rerequestAction(t.db, outcome.approvalId, tenant.id, 'token:dev', 'api')));
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(made).toEqual([
      { kind: 'run', run: expect.objectContaining({ previous_id: outcome.approvalId, previous_run_id: runId }) as unknown },
    ]);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code: string }).code)).toEqual([
      'conflict',
      'conflict',
    ]);
    const { rows } = await t.db.query('SELECT id FROM workflow_runs WHERE workflow_id = $1', [wf.id]);
    expect(rows).toHaveLength(2);
  });

  it("requests a scheduled run's approval in the name of the workflow's author, who cannot approve it", async () => {
    const tenant = await makeTenant(t.db);
    await t.db.transaction((tx) =>
      applyWorkflow(
        tx,
        tenant.id,
        workflowSchema.parse({
          name: 'authored',
          steps: [{ type: 'http', url: 'https://example.com/x' }],
          schedule_config: { enabled: true, interval_minutes: 60 },
        }),
        'token:author',
      ),
    );
    await runTick(testSchedulerDeps(t.db));
    const [req] = await listApprovals(t.db, tenant.id, 'pending', 5);
    expect(req?.requested_by).toBe('token:author');
    await expect(
      decideApproval(t.db, { id: req!.id, tenantId: tenant.id, decision: 'approve', actor: 'token:author', channel: 'api' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const ok = await decideApproval(t.db, {
      id: req!.id,
      tenantId: tenant.id,
      decision: 'approve',
      actor: 'token:reviewer',
      channel: 'api',
    });
    expect(ok.outcome).toBe('approved');
  });
});
