// The run lifecycle's one claim, one settle and one lease guard (src/runs/lifecycle-queries.ts,
// src/runs/claim-queries.ts), statement by statement: a run is written only by the scheduler
// holding its lease, or its batch claim.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { claimSlots, recoverExpiredClaims, writeClaimedRun, type ScheduledRun } from '../src/runs/claim-queries.js';
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
import { healthFacts } from '../src/health/queries.js';
import { getRun, getRunEvents, listRuns } from '../src/runs/queries.js';
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
    expect(await heartbeatRuns(t.db, 'other', 60, [])).toBe(0);
    expect(await settleRuns(t.db, 'other', settle)).toEqual({ finished: new Set(), released: 0 });
    expect(await getRun(t.db, done)).toMatchObject({ status: 'running', lease_owner: 'holder', step_index: 0 });
    expect((await getRunEvents(t.db, done)).map((e) => e.type)).toEqual(['run_started']);

    // The holder: one statement finishes one run, releases the other, writes both runs' events.
    expect(await heartbeatRuns(t.db, 'holder', 60, [])).toBe(2);
    expect(await settleRuns(t.db, 'holder', settle)).toEqual({ finished: new Set([done]), released: 1 });
    expect(await getRun(t.db, done)).toMatchObject({ status: 'succeeded', lease_owner: null, step_index: 1, context: { vars: { x: 1 } } });
    expect(await getRun(t.db, back)).toMatchObject({ status: 'queued', lease_owner: null, lease_expires_at: null });
    expect((await getRunEvents(t.db, done)).map((e) => e.type)).toEqual(['run_started', 'step_retrying', 'run_finished']);
    expect((await getRunEvents(t.db, back)).map((e) => e.type)).toEqual(['run_started', 'step_retrying', 'step_started']);

    // Settled is settled: the same statement again writes nothing.
    expect(await settleRuns(t.db, 'holder', settle)).toEqual({ finished: new Set(), released: 0 });
  });
});

describe.each(BACKENDS)('batch claims on $name', ({ open }) => {
  const t = useTestDb(open);

  /** Two due workflows claimed by `owner` in one claim row; returns the claim and its runs. */
  async function claimTwo(owner: string, opts: { leaseSeconds?: number; maxRunAttempts?: number } = {}) {
    // Claim times here are made up (long past): the claims of the tests before would read as expired.
    await t.db.query('DELETE FROM scheduler_claims');
    const tenant = await makeTenant(t.db);
    const wfs: WorkflowRow[] = [];
    for (const name of ['one', 'two']) {
      const wf = await makeWorkflow(t.db, tenant.id, { name, steps: [{ type: 'noop' }] });
      await t.db.query('UPDATE workflows SET next_run_at = 1000, max_run_attempts = $2 WHERE id = $1', [wf.id, opts.maxRunAttempts ?? 1]);
      wfs.push(wf);
    }
    const runs: ScheduledRun[] = wfs.map((wf) => ({ id: randomUUID(), tenant_id: tenant.id, workflow_id: wf.id, scheduled_for: 1000 }));
    const claimId = randomUUID();
    const claimed = await t.db.transaction((tx) =>
      claimSlots(tx, {
        id: claimId,
        now: 1001,
        owner,
        leaseSeconds: opts.leaseSeconds ?? 60,
        runs,
        advances: wfs.map((wf) => ({ id: wf.id, due: 1000, next: 1300, last: 1001 })),
        events: [],
      }),
    );
    return { claimId, runs, claimed, wfs };
  }

  const end = (run: ScheduledRun, status: 'succeeded' | 'queued') => ({
    ...run,
    started_at: 1001,
    status,
    step_index: status === 'queued' ? 0 : 1,
    context: {},
    error: null,
    finished_at: status === 'queued' ? null : 1002,
    timeline: [{ type: 'run_finished', step_index: null, payload: { status }, created_at: 1002 }],
  });

  it('claims a batch in one claim row, without a run row, and advances the schedules', async () => {
    const { claimId, runs, claimed, wfs } = await claimTwo('a');
    expect(claimed).toEqual(new Set(runs.map((r) => r.id)));
    const { rows } = await t.db.query<{ owner: string; run_ids: string[]; slots: number[] }>(
      'SELECT owner, run_ids, slots FROM scheduler_claims WHERE id = $1',
      [claimId],
    );
    expect(rows).toEqual([{ owner: 'a', run_ids: runs.map((r) => r.id), slots: [1000, 1000] }]);
    expect((await t.db.query('SELECT id FROM workflow_runs WHERE id = ANY($1)', [runs.map((r) => r.id)])).rows).toEqual([]);
    const next = await t.db.query<{ next_run_at: number }>('SELECT next_run_at FROM workflows WHERE id = ANY($1)', [wfs.map((w) => w.id)]);
    expect(next.rows.map((r) => r.next_run_at)).toEqual([1300, 1300]);
    // In flight, a claimed run reads as running, under the claim's lease: one run, the list, health.
    expect(await getRun(t.db, runs[0]?.id as string)).toMatchObject({ status: 'running', lease_owner: 'a', scheduled_for: 1000 });
    const tenantId = runs[0]?.tenant_id as string;
    const listed = await listRuns(t.db, { tenantId, status: 'running', limit: 10 });
    expect(listed.map((r) => [r.id, r.workflow_name, r.status]).sort()).toEqual(runs.map((r, i) => [r.id, wfs[i]?.name, 'running']).sort());
    expect((await healthFacts(t.db, tenantId)).running_runs).toBe(2);
    expect(await listRuns(t.db, { tenantId: randomUUID(), limit: 10 })).toEqual([]);
  });

  it('inserts the runs that ended once, finished, and deletes the claim; another owner writes nothing', async () => {
    const { claimId, runs } = await claimTwo('holder');
    const [done, back] = runs as [ScheduledRun, ScheduledRun];
    const events = [
      { tenant_id: done.tenant_id, run_id: done.id, workflow_id: done.workflow_id, type: 'step_retrying', created_at: 1001.5 },
    ];
    const settle = (keep: boolean) => ({
      finishes: [],
      events,
      claim: { id: claimId, ends: [end(done, 'succeeded'), end(back, 'queued')], keep },
    });
    expect(await settleRuns(t.db, 'other', settle(false))).toEqual({ finished: new Set(), released: 0 });
    expect((await t.db.query('SELECT id FROM workflow_runs WHERE id = ANY($1)', [runs.map((r) => r.id)])).rows).toEqual([]);

    expect(await settleRuns(t.db, 'holder', settle(false))).toEqual({ finished: new Set([done.id]), released: 1 });
    expect(await getRun(t.db, done.id)).toMatchObject({ status: 'succeeded', attempt: 1, lease_owner: null, finished_at: 1002 });
    expect(await getRun(t.db, back.id)).toMatchObject({ status: 'queued', finished_at: null });
    expect((await getRunEvents(t.db, done.id)).map((e) => e.type)).toEqual(['run_started', 'step_retrying', 'run_finished']);
    expect((await t.db.query('SELECT id FROM scheduler_claims')).rows).toEqual([]);
    // Settled is settled: the claim is gone, so the same statement writes nothing.
    expect(await settleRuns(t.db, 'holder', settle(false))).toEqual({ finished: new Set(), released: 0 });
  });

  it('renews a claim only while its batch is in hand (named by id), so an orphaned claim runs out its lease', async () => {
    const { claimId } = await claimTwo('holder');
    const lease = async () =>
      (await t.db.query<{ l: number }>('SELECT lease_expires_at AS l FROM scheduler_claims WHERE id = $1', [claimId])).rows[0]?.l;
    const before = await lease();
    await heartbeatRuns(t.db, 'holder', 3600, []);
    expect(await lease()).toBe(before);
    await heartbeatRuns(t.db, 'holder', 3600, [claimId]);
    expect(await lease()).toBeGreaterThan((before ?? 0) + 1000);
  });

  it('writes a claimed run as running when it must be seen, only while the claim is held', async () => {
    const { claimId, runs } = await claimTwo('holder');
    const run = { ...(runs[0] as ScheduledRun), started_at: 1001 };
    expect(await writeClaimedRun(t.db, 'other', run, claimId)).toBe(false);
    expect(await writeClaimedRun(t.db, 'holder', run, claimId)).toBe(true);
    expect(await getRun(t.db, run.id)).toMatchObject({ status: 'running', lease_owner: 'holder', step_index: 0 });
    // The slot has its run: a second write (or lease recovery) finds it taken.
    expect(await writeClaimedRun(t.db, 'holder', run, claimId)).toBe(false);
    expect((await getRunEvents(t.db, run.id)).map((e) => e.type)).toEqual(['run_started']);
  });

  it('recovers an expired claim: its unsettled runs failed (or requeued) once, a written one left to its own lease', async () => {
    const { claimId, runs } = await claimTwo('dead', { leaseSeconds: -1, maxRunAttempts: 2 });
    const [written, unsettled] = runs as [ScheduledRun, ScheduledRun];
    expect(await writeClaimedRun(t.db, 'dead', { ...written, started_at: 1001 }, claimId)).toBe(true);
    expect(await heartbeatRuns(t.db, 'dead', 60, [claimId])).toBe(1);
    // A claim whose lease is not after its claim time (handed to recovery) is not renewed.
    expect((await t.db.query('SELECT id FROM scheduler_claims WHERE lease_expires_at > 1001 + 30')).rows).toEqual([]);
    const recovered = await recoverExpiredClaims(t.db);
    expect(recovered).toEqual([
      expect.objectContaining({ id: unsettled.id, status: 'queued', attempt: 2, scheduled_for: 1000, trigger: 'schedule' }),
    ]);
    expect(recovered[0]?.error).toBe('lease expired: the scheduler running it (dead) stopped before the run finished; retrying');
    expect(await getRun(t.db, written.id)).toMatchObject({ status: 'running', lease_owner: 'dead' });
    expect((await t.db.query('SELECT id FROM scheduler_claims')).rows).toEqual([]);
    expect(await recoverExpiredClaims(t.db)).toEqual([]);
  });

  it('with a run lost mid-batch, settles the rest and ends the claim lease, so that recovery records only the lost one', async () => {
    const { claimId, runs } = await claimTwo('holder');
    const [done, lost] = runs as [ScheduledRun, ScheduledRun];
    const settled = await settleRuns(t.db, 'holder', {
      finishes: [],
      events: [],
      claim: { id: claimId, ends: [end(done, 'succeeded')], keep: true },
    });
    expect(settled).toEqual({ finished: new Set([done.id]), released: 0 });
    const recovered = await recoverExpiredClaims(t.db);
    expect(recovered.map((r) => [r.id, r.status])).toEqual([[lost.id, 'failed']]);
    expect(await getRun(t.db, done.id)).toMatchObject({ status: 'succeeded' });
  });
});
