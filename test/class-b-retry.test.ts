// A Class B step's transaction writes the step's effect, its audit entry, the run's checkpoint and
// the events buffered so far, all or nothing (issue 26 part 3). When Postgres rolls it back, no
// buffered event may be lost: a serialization failure or deadlock is retried like any retryable
// step failure, and a failure that is not retried still records the step's start.
import { afterEach, describe, expect, it } from 'vitest';
import { getRunEvents } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { getWorkflowByName } from '../src/workflows/queries.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';

describe.each(BACKENDS)('a rolled-back Class B transaction on $name', ({ open }) => {
  const t = useTestDb(open);

  /**
   * Makes the insert of a step_finished event raise `errcode` `times` times (a sequence counts
   * the attempts: unlike a table, it is not rolled back with the transaction that failed).
   */
  async function failStepFinished(errcode: string, times: number): Promise<void> {
    await t.db.query(`CREATE SEQUENCE step_finished_attempts`);
    await t.db.query(`
      CREATE FUNCTION fail_step_finished() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'step_finished' AND nextval('step_finished_attempts') <= ${times} THEN
          RAISE EXCEPTION 'forced by the test' USING ERRCODE = '${errcode}';
        END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(
      `CREATE TRIGGER fail_step_finished BEFORE INSERT ON workflow_events FOR EACH ROW EXECUTE FUNCTION fail_step_finished()`,
    );
  }

  afterEach(async () => {
    await t.db.query('DROP TRIGGER IF EXISTS fail_step_finished ON workflow_events');
    await t.db.query('DROP FUNCTION IF EXISTS fail_step_finished()');
    await t.db.query('DROP SEQUENCE IF EXISTS step_finished_attempts');
  });

  async function pauser(maxAttempts: number) {
    const tenant = await makeTenant(t.db);
    await makeWorkflow(t.db, tenant.id, { name: 'target', steps: [{ type: 'noop' }] });
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'pauser',
      steps: [{ type: 'set_workflow_active', workflow: 'target', active: false, max_attempts: maxAttempts, backoff_ms: 0 }],
    });
    return { tenant, wf };
  }

  const auditActions = async (tenantId: string) =>
    (await t.db.query<{ action: string }>('SELECT action FROM audit_log WHERE tenant_id = $1 ORDER BY id', [tenantId])).rows.map(
      (r) => r.action,
    );

  it('retries a serialization failure and records every event once, with one audit entry', async () => {
    const { tenant, wf } = await pauser(3);
    await failStepFinished('40001', 1);
    const result = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'test' });
    expect(result.outcome).toMatchObject({ kind: 'finished', finish: { status: 'succeeded' } });
    const events = await getRunEvents(t.db, result.runId);
    expect(events.map((e) => e.type)).toEqual(['run_started', 'step_started', 'step_retrying', 'step_finished', 'run_finished']);
    expect(events.find((e) => e.type === 'step_retrying')?.payload).toMatchObject({
      attempt: 1,
      error: expect.stringContaining('SQLSTATE 40001') as unknown,
    });
    // The first attempt's pause and audit entry were rolled back with it: the second wrote them once.
    expect(await auditActions(tenant.id)).toEqual(['workflow.pause']);
    expect(await getWorkflowByName(t.db, tenant.id, 'target')).toMatchObject({ is_active: false });
  });

  it('retries a deadlock the same way', async () => {
    const { wf } = await pauser(2);
    await failStepFinished('40P01', 1);
    const result = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'test' });
    expect(result.outcome).toMatchObject({ kind: 'finished', finish: { status: 'succeeded' } });
    expect((await getRunEvents(t.db, result.runId)).map((e) => e.type)).toEqual([
      'run_started',
      'step_started',
      'step_retrying',
      'step_finished',
      'run_finished',
    ]);
  });

  it('fails a step whose transaction keeps failing, keeping its start and writing nothing of it', async () => {
    const { tenant, wf } = await pauser(1);
    await failStepFinished('23514', 5);
    const result = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'test' });
    expect(result.outcome).toMatchObject({ kind: 'finished', finish: { status: 'failed' } });
    const events = await getRunEvents(t.db, result.runId);
    expect(events.map((e) => e.type)).toEqual(['run_started', 'step_started', 'step_failed', 'run_finished']);
    expect(events.find((e) => e.type === 'step_failed')?.payload).toMatchObject({
      error: expect.stringContaining('forced by the test') as unknown,
    });
    expect(await auditActions(tenant.id)).toEqual([]);
    expect(await getWorkflowByName(t.db, tenant.id, 'target')).toMatchObject({ is_active: true });
  });
});
