// The run lifecycle's one claim, one settle and one lease guard (src/runs/lifecycle-queries.ts),
// statement by statement: a run is written only by the scheduler holding its lease.
import { describe, expect, it } from 'vitest';
import {
  appendTimeline,
  checkpointRun,
  claimQueuedRuns,
  heartbeatRuns,
  insertQueuedRun,
  parkRun,
  settleRuns,
  type RunFinish,
} from '../src/runs/lifecycle-queries.js';
import { getRun, getRunEvents } from '../src/runs/queries.js';
import type { TimelineEntry } from '../src/runs/types.js';
import { getWorkflowByName, type WorkflowRow } from '../src/workflows/queries.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';

describe.each(BACKENDS)('run lifecycle on $name', ({ open }) => {
  const t = useTestDb(open);

  async function queued(n: number): Promise<{ wf: WorkflowRow; ids: string[] }> {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, { name: 'lifecycle', steps: [{ type: 'noop' }] });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        await t.db.transaction((tx) =>
          insertQueuedRun(tx, { tenant_id: tenant.id, workflow_id: wf.id, trigger: 'manual', actor: 'cli:test', notify: false }),
        ),
      );
    }
    return { wf, ids };
  }

  const entry = (type: string, at: number): TimelineEntry => ({ type, step_index: null, payload: {}, created_at: at });

  it('claims queued runs once, each with its workflow row, and one run by id', async () => {
    const { wf, ids } = await queued(3);
    const [one] = await claimQueuedRuns<WorkflowRow>(t.db, { owner: 'a', leaseSeconds: 60, limit: 10, onlyId: ids[2] });
    expect(one?.run).toMatchObject({ id: ids[2], status: 'running', lease_owner: 'a', trigger: 'manual', started_by: 'cli:test' });
    expect(one?.workflow).toEqual(await getWorkflowByName(t.db, wf.tenant_id, 'lifecycle'));
    const rest = await claimQueuedRuns<WorkflowRow>(t.db, { owner: 'b', leaseSeconds: 60, limit: 10 });
    expect(rest.map((c) => c.run.id).sort()).toEqual([ids[0], ids[1]].sort());
    expect(rest.every((c) => c.run.lease_owner === 'b' && c.workflow.id === wf.id)).toBe(true);
    expect(await claimQueuedRuns(t.db, { owner: 'c', leaseSeconds: 60, limit: 10 })).toEqual([]);
    expect((await getRunEvents(t.db, ids[0] as string)).map((e) => e.type)).toEqual(['run_started']);
  });

  it('lets only the lease holder checkpoint, append, park, heartbeat and settle', async () => {
    const { wf, ids } = await queued(2);
    const [done, back] = ids as [string, string];
    await claimQueuedRuns(t.db, { owner: 'holder', leaseSeconds: 60, limit: 10 });
    const finish: RunFinish = {
      id: done,
      status: 'succeeded',
      step_index: 1,
      context: { vars: { x: 1 } },
      error: null,
      finished_at: 2_000_000_000,
      timeline: [entry('run_finished', 2_000_000_000)],
    };
    const events = [done, back].map((run_id, i) => ({
      tenant_id: wf.tenant_id,
      run_id,
      workflow_id: wf.id,
      type: 'step_retrying',
      step_index: 0,
      payload: { i },
      created_at: 2_000_000_000 - 1,
    }));
    const settle = { finishes: [finish], releases: [{ id: back, timeline: [entry('step_started', 2_000_000_000)] }], events };

    // Another owner: nothing is written, not even the events.
    expect(await checkpointRun(t.db, 'other', { id: done, stepIndex: 1, context: {} })).toBe(false);
    expect(await appendTimeline(t.db, 'other', done, [entry('x', 1)])).toBe(false);
    expect(await parkRun(t.db, 'other', { id: done, stepIndex: 0, context: {} })).toBe(false);
    expect(await heartbeatRuns(t.db, 'other', 60)).toBe(0);
    expect(await settleRuns(t.db, 'other', settle)).toEqual({ finished: new Set(), released: 0 });
    expect(await getRun(t.db, done)).toMatchObject({ status: 'running', lease_owner: 'holder', step_index: 0 });
    expect((await getRunEvents(t.db, done)).map((e) => e.type)).toEqual(['run_started']);

    // The holder: one statement finishes one run, releases the other, writes both runs' events.
    expect(await heartbeatRuns(t.db, 'holder', 60)).toBe(2);
    expect(await settleRuns(t.db, 'holder', settle)).toEqual({ finished: new Set([done]), released: 1 });
    expect(await getRun(t.db, done)).toMatchObject({ status: 'succeeded', lease_owner: null, step_index: 1, context: { vars: { x: 1 } } });
    expect(await getRun(t.db, back)).toMatchObject({ status: 'queued', lease_owner: null, lease_expires_at: null });
    expect((await getRunEvents(t.db, done)).map((e) => e.type)).toEqual(['run_started', 'step_retrying', 'run_finished']);
    expect((await getRunEvents(t.db, back)).map((e) => e.type)).toEqual(['run_started', 'step_retrying', 'step_started']);

    // Settled is settled: the same statement again writes nothing.
    expect(await settleRuns(t.db, 'holder', settle)).toEqual({ finished: new Set(), released: 0 });
  });
});
