import { describe, expect, it } from 'vitest';
import { getRunEvents, listRuns } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { runTick } from '../src/scheduler/tick.js';
import { dbNow, getWorkflowByName } from '../src/workflows/queries.js';
import { BACKENDS, openPgTestDb, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeDue, makeTenant, makeWorkflow } from './helpers/fixtures.js';
import { pollUntil } from './helpers/proc.js';

describe.each(BACKENDS)('scheduler tick on $name', ({ open }) => {
  const t = useTestDb(open);

  const eventTypes = async (runId: string) => (await getRunEvents(t.db, runId)).map((e) => e.type);

  it('runs a due interval workflow once, records its events and advances the schedule', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'interval',
      steps: [
        { type: 'transform', name: 'calc', set: { greeting: 'hello {{workflow.name}}' } },
        { type: 'log', message: '{{vars.greeting}} from {{run.id}}' },
      ],
      schedule_config: { enabled: true, interval_minutes: 5 },
    });
    const slot = wf.next_run_at as number;
    const deps = testSchedulerDeps(t.db);
    const summary = await runTick(deps);
    expect(summary).toMatchObject({ claimed: 1, succeeded: 1, failed: 0 });
    const [run] = await listRuns(t.db, { workflowId: wf.id, limit: 10 });
    expect(run).toMatchObject({
      status: 'succeeded',
      trigger: 'schedule',
      scheduled_for: slot,
      step_index: 2,
      error: null,
      lease_owner: null,
    });
    expect(run?.context.vars).toEqual({ greeting: 'hello interval' });
    expect(await eventTypes(run!.id)).toEqual([
      'run_started',
      'step_started',
      'step_finished',
      'step_started',
      'step_finished',
      'run_finished',
    ]);
    const events = await getRunEvents(t.db, run!.id);
    expect(events[4]?.payload).toMatchObject({ output: { message: `hello interval from ${run!.id}` } });
    const after = await getWorkflowByName(t.db, tenant.id, 'interval');
    expect(after?.next_run_at).toBe(slot + 300);
    expect(after?.last_run_at).toBeGreaterThanOrEqual(slot);
    expect((await runTick(deps)).claimed).toBe(0);
  });

  it('never claims inactive, disabled or not-yet-due workflows', async () => {
    const tenant = await makeTenant(t.db);
    const paused = await makeWorkflow(t.db, tenant.id, {
      name: 'paused',
      is_active: false,
      steps: [{ type: 'noop' }],
      schedule_config: { enabled: true, interval_minutes: 1 },
    });
    const off = await makeWorkflow(t.db, tenant.id, { name: 'off', steps: [{ type: 'noop' }], schedule_config: { enabled: false } });
    const later = await makeWorkflow(t.db, tenant.id, {
      name: 'later',
      steps: [{ type: 'noop' }],
      schedule_config: { enabled: true, cron: '0 0 1 1 *' },
    });
    await t.db.query('UPDATE workflows SET next_run_at = extract(epoch FROM now()) - 10 WHERE id = ANY($1::uuid[]) AND id <> $2', [
      [paused.id, off.id, later.id],
      later.id,
    ]);
    expect(paused.next_run_at).toBeNull();
    expect(later.next_run_at).toBeGreaterThan(await dbNow(t.db));
    const summary = await runTick(testSchedulerDeps(t.db));
    expect(summary.claimed).toBe(0);
    const runs = await t.db.query('SELECT 1 FROM workflow_runs WHERE workflow_id = ANY($1::uuid[])', [[paused.id, off.id, later.id]]);
    expect(runs.rows).toHaveLength(0);
  });

  it.each([
    { policy: 'latest', runs: 1 },
    { policy: 'all', runs: 7 },
    { policy: 'none', runs: 0 },
  ] as const)(
    'after an hour without a scheduler, catch_up $policy runs $runs slot(s) and plans the next one in the future',
    async ({ policy, runs }) => {
      const tenant = await makeTenant(t.db);
      const wf = await makeWorkflow(t.db, tenant.id, {
        name: `catch-${policy}`,
        steps: [{ type: 'noop' }],
        schedule_config: { enabled: true, interval_minutes: 10, catch_up: policy },
      });
      // Slots every 600 s from an hour ago: 7 are due, the newest already 400 s late (past the 300 s grace of "none").
      const due = await makeDue(t.db, wf.id, 3600 + 400);
      const summary = await runTick(testSchedulerDeps(t.db));
      expect(summary.succeeded).toBe(runs);
      const { rows } = await t.db.query<{ scheduled_for: number }>(
        'SELECT scheduled_for FROM workflow_runs WHERE workflow_id = $1 ORDER BY scheduled_for',
        [wf.id],
      );
      expect(rows).toHaveLength(runs);
      if (policy === 'all') expect(rows.map((r) => r.scheduled_for)).toEqual(Array.from({ length: 7 }, (_, k) => due + k * 600));
      if (policy === 'latest') expect(rows[0]?.scheduled_for).toBe(due + 6 * 600);
      const after = await getWorkflowByName(t.db, tenant.id, wf.name);
      expect(after?.next_run_at).toBe(due + 7 * 600);
      const skipped = await t.db.query<{ payload: { count: number } }>(
        "SELECT payload FROM workflow_events WHERE workflow_id = $1 AND type = 'slot_skipped'",
        [wf.id],
      );
      expect(skipped.rows.reduce((n, r) => n + r.payload.count, 0)).toBe(7 - runs);
    },
  );

  it('skips a slot while the previous run of the workflow is still in progress (overlap: skip)', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'overlap',
      steps: [{ type: 'noop' }],
      schedule_config: { enabled: true, interval_minutes: 5 },
    });
    await t.db.query(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, lease_owner, lease_expires_at)
       VALUES ($1, $2, 'running', 'manual', 'someone-else', extract(epoch FROM now()) + 3600)`,
      [tenant.id, wf.id],
    );
    const due = await makeDue(t.db, wf.id, 1);
    const summary = await runTick(testSchedulerDeps(t.db));
    expect(summary).toMatchObject({ claimed: 0, skipped: 1 });
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs WHERE workflow_id = $1', [wf.id]);
    expect(rows[0]?.n).toBe(1);
    const after = await getWorkflowByName(t.db, tenant.id, 'overlap');
    expect(after?.next_run_at).toBe(due + 300);
    const ev = await t.db.query<{ payload: { reason: string } }>(
      "SELECT payload FROM workflow_events WHERE workflow_id = $1 AND type = 'slot_skipped'",
      [wf.id],
    );
    expect(ev.rows[0]?.payload.reason).toMatch(/overlap/);
  });

  it('runs Class B steps at once and writes them to audit_log', async () => {
    const tenant = await makeTenant(t.db);
    await makeWorkflow(t.db, tenant.id, {
      name: 'target',
      steps: [{ type: 'noop' }],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'pauser',
      steps: [{ type: 'set_workflow_active', workflow: 'target', active: false }],
    });
    const result = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'test' });
    expect(result.outcome).toMatchObject({ kind: 'finished', finish: { status: 'succeeded' } });
    const target = await getWorkflowByName(t.db, tenant.id, 'target');
    expect(target).toMatchObject({ is_active: false, next_run_at: null });
    const audit = await t.db.query<{ action: string; actor: string; detail: unknown }>(
      'SELECT action, actor, detail FROM audit_log WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(audit.rows).toEqual([{ action: 'workflow.pause', actor: `run:${result.runId}`, detail: { workflow: 'target', active: false } }]);
    expect(await eventTypes(result.runId)).toEqual(['run_started', 'step_started', 'step_finished', 'run_finished']);
  });

  it('fails a run whose step fails, naming the step, and counts it as failed', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'broken',
      steps: [
        { type: 'log', message: 'first' },
        { type: 'set_workflow_active', name: 'pause-ghost', workflow: 'ghost', active: false },
        { type: 'log', message: 'never' },
      ],
      schedule_config: { enabled: true, interval_minutes: 5 },
    });
    const summary = await runTick(testSchedulerDeps(t.db));
    expect(summary).toMatchObject({ claimed: 1, succeeded: 0, failed: 1 });
    const [run] = await listRuns(t.db, { workflowId: wf.id, limit: 1 });
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe('step 2 (set_workflow_active "pause-ghost"): workflow "ghost" not found');
    expect(await eventTypes(run!.id)).toEqual([
      'run_started',
      'step_started',
      'step_finished',
      'step_started',
      'step_failed',
      'run_finished',
    ]);
  });

  it('recovers a run whose scheduler died: retried while attempts remain, then failed', async () => {
    const tenant = await makeTenant(t.db);
    const retry = await makeWorkflow(t.db, tenant.id, { name: 'retry-me', max_run_attempts: 2, steps: [{ type: 'noop' }] });
    const once = await makeWorkflow(t.db, tenant.id, { name: 'fail-me', steps: [{ type: 'noop' }] });
    const orphan = (wfId: string) =>
      t.db.query<{ id: string }>(
        `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, lease_owner, lease_expires_at)
         VALUES ($1, $2, 'running', 'manual', 'scheduler:dead:1:x', extract(epoch FROM now()) - 1) RETURNING id`,
        [tenant.id, wfId],
      );
    const r1 = (await orphan(retry.id)).rows[0]!.id;
    const r2 = (await orphan(once.id)).rows[0]!.id;
    const summary = await runTick(testSchedulerDeps(t.db));
    expect(summary.recovered).toBe(2);
    const rows = await t.db.query<{ id: string; status: string; attempt: number; error: string | null }>(
      'SELECT id, status, attempt, error FROM workflow_runs WHERE id = ANY($1::uuid[])',
      [[r1, r2]],
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    expect(byId.get(r1)).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(byId.get(r2)).toMatchObject({ status: 'failed', attempt: 1 });
    expect(byId.get(r2)?.error).toMatch(/lease expired.*scheduler:dead:1:x/);
    const stillRunning = await t.db.query("SELECT 1 FROM workflow_runs WHERE status = 'running' AND tenant_id = $1", [tenant.id]);
    expect(stillRunning.rows).toHaveLength(0);
  });

  it('queues a manual run for a scheduler with --enqueue, and the next tick runs it', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, { name: 'manual', steps: [{ type: 'noop' }] });
    const deps = testSchedulerDeps(t.db);
    const queued = await startRun(deps, wf, { enqueue: true, trigger: 'manual', actor: 'test' });
    expect(queued.outcome).toBeUndefined();
    const summary = await runTick(deps);
    expect(summary).toMatchObject({ claimed: 1, succeeded: 1 });
    const [run] = await listRuns(t.db, { workflowId: wf.id, limit: 1 });
    expect(run).toMatchObject({ id: queued.runId, status: 'succeeded', trigger: 'manual', scheduled_for: null });
  });
});

describe('claims per batch (Postgres: a second connection acts mid-batch)', () => {
  it('a workflow deleted while its claimed run is in flight costs the rest of the batch nothing', async () => {
    const t = await openPgTestDb();
    try {
      const tenant = await makeTenant(t.db);
      const steps = [{ type: 'delay' as const, ms: 600 }];
      const kept = await makeWorkflow(t.db, tenant.id, { name: 'kept', steps, schedule_config: { enabled: true, interval_minutes: 5 } });
      const gone = await makeWorkflow(t.db, tenant.id, { name: 'gone', steps, schedule_config: { enabled: true, interval_minutes: 5 } });
      const tick = runTick(testSchedulerDeps(t.db));
      // Once the batch is claimed (its claim row exists, no run row yet), the workflow goes.
      await pollUntil(async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM scheduler_claims')).rows[0]?.n === 1, {
        what: 'the batch claim',
      });
      await t.db.query('DELETE FROM workflows WHERE id = $1', [gone.id]);
      const summary = await tick;
      expect(summary).toMatchObject({ claimed: 2 });
      // The other run is recorded by the batch's settle, once, on its first attempt: not left to
      // lease recovery (which would run it again).
      expect(await listRuns(t.db, { workflowId: kept.id, limit: 10 })).toMatchObject([{ status: 'succeeded', attempt: 1 }]);
      expect((await t.db.query('SELECT 1 FROM workflow_runs WHERE workflow_id = $1', [gone.id])).rowCount).toBe(0);
      expect((await t.db.query('SELECT 1 FROM scheduler_claims')).rowCount).toBe(0);
    } finally {
      await t.close();
    }
  });
});
