// Upgrading to the run timeline (migration 0011, issue 13): a database filled under the previous
// schema, where every event of a run was a workflow_events row, reads the same afterwards, and
// runs the old schema left unfinished continue on the new one with one ordered timeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations.generated.js';
import type { Queryable } from '../src/db/types.js';
import { getRunEvents } from '../src/runs/queries.js';
import type { EventRow } from '../src/runs/types.js';
import { keptInLedger } from '../src/workflows/run-state.js';
import { parseJson, runCli } from './helpers/cli.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';

const BEFORE_TIMELINE = migrations.findIndex((m) => m.name === 'run_timeline');

/** The previous reader of a run's events (src/runs/queries.ts before migration 0011), verbatim. */
async function previousRunEvents(db: Queryable, runId: string): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT id::text AS id, run_id, workflow_id, type, step_index, payload, created_at
     FROM workflow_events WHERE run_id = $1 ORDER BY workflow_events.id`,
    [runId],
  );
  return rows;
}

const T0 = 1_790_000_000;

/**
 * What the previous scheduler wrote, statement for statement in shape: a scheduled Class A run
 * (run_started, step_started, step_finished, run_finished, two of them in one millisecond), a
 * run that waited for an approval and failed after it, a run recovered from a dead scheduler,
 * and a manual run still queued.
 */
async function fillPreviousSchema(db: Queryable): Promise<Record<'scheduled' | 'approved' | 'recovered' | 'queued', string>> {
  const {
    rows: [tenant],
  } = await db.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('acme') RETURNING id`);
  const tid = tenant?.id as string;
  const {
    rows: [wf],
  } = await db.query<{ id: string }>(
    `INSERT INTO workflows (tenant_id, name, steps, schedule_config) VALUES ($1, 'nightly', '[{"type":"noop"},{"type":"http","url":"https://example.com/hook"}]', '{"enabled": false}') RETURNING id`,
    [tid],
  );
  const wid = wf?.id as string;
  const run = async (status: string, trigger: string, slot: number | null, error: string | null, attempt = 1) => {
    const {
      rows: [r],
    } = await db.query<{ id: string }>(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, attempt, error, started_by)
       VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $3 IN ('queued', 'running', 'waiting_approval') THEN NULL ELSE $6::float8 + 2 END, $7, $8, $9) RETURNING id`,
      [tid, wid, status, trigger, slot, T0 + (slot ?? 0) / 1000, attempt, error, trigger === 'schedule' ? null : 'cli:alice'],
    );
    return r?.id as string;
  };
  const events = async (runId: string, list: [string, number | null, Record<string, unknown>, number][]) => {
    for (const [type, step, payload, at] of list) {
      await db.query(
        `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [tid, runId, wid, type, step, JSON.stringify(payload), at],
      );
    }
  };
  const scheduled = await run('succeeded', 'schedule', 60_000, null);
  await events(scheduled, [
    ['run_started', null, { trigger: 'schedule', scheduled_for: 60_000, owner: 'scheduler:a' }, T0 + 0.1],
    ['step_started', 0, { type: 'noop', impact_class: 'A', attempt: 1 }, T0 + 0.2],
    ['step_finished', 0, { output: null }, T0 + 0.2],
    ['run_finished', null, { status: 'succeeded' }, T0 + 0.3],
  ]);
  const approved = await run('failed', 'manual', null, 'step 2 (http): connection refused');
  await events(approved, [
    ['run_started', null, { trigger: 'manual', by: 'cli:alice' }, T0 + 1],
    ['step_started', 0, { type: 'noop', impact_class: 'A', attempt: 1 }, T0 + 1.1],
    ['step_finished', 0, { output: null }, T0 + 1.1],
    ['step_started', 1, { type: 'http', impact_class: 'C', attempt: 1 }, T0 + 1.2],
    ['approval_requested', 1, { approval_id: 'a1', summary: 'nightly: POST https://example.com/hook' }, T0 + 1.2],
    ['run_resumable', 1, { status: 'queued', approval_id: 'a1', by: 'slack:U1' }, T0 + 30],
    ['step_started', 1, { type: 'http', impact_class: 'C', attempt: 1 }, T0 + 31],
    ['approval_used', 1, { approval_id: 'a1', approved_by: 'slack:U1' }, T0 + 31],
    ['step_failed', 1, { error: 'connection refused', code: 'step_failed' }, T0 + 31.5],
    ['run_finished', null, { status: 'failed', error: 'step 2 (http): connection refused' }, T0 + 31.5],
  ]);
  const recovered = await run(
    'failed',
    'schedule',
    120_000,
    'lease expired: the scheduler running it (scheduler:b) stopped before the run finished',
    2,
  );
  await events(recovered, [
    ['run_started', null, { trigger: 'schedule', scheduled_for: 120_000, owner: 'scheduler:b' }, T0 + 2],
    ['run_requeued', null, { status: 'queued', attempt: 2 }, T0 + 9],
    ['step_started', 0, { type: 'noop', impact_class: 'A', attempt: 2 }, T0 + 10],
    ['run_finished', null, { status: 'failed', error: 'lease expired' }, T0 + 14],
  ]);
  const queued = await run('queued', 'manual', null, null);
  await events(queued, [['run_started', null, { trigger: 'manual', by: 'cli:alice' }, T0 + 40]]);
  await db.query(`UPDATE workflows SET steps = '[{"type":"noop"},{"type":"transform","name":"sum","set":{"total":2}}]' WHERE id = $1`, [
    wid,
  ]);
  return { scheduled, approved, recovered, queued };
}

describe('upgrading a database filled by the previous schema to the run timeline (Postgres)', () => {
  let t: TestDb;
  let runs: Awaited<ReturnType<typeof fillPreviousSchema>>;
  const before = new Map<string, EventRow[]>();
  const env = () => ({ DATABASE_URL: t.url, LEVQOR_LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    expect(BEFORE_TIMELINE).toBeGreaterThan(0);
    t = await openPgTestDb({ migrate: false });
    await migrate(t.db, migrations.slice(0, BEFORE_TIMELINE));
    runs = await fillPreviousSchema(t.db);
    for (const id of Object.values(runs)) before.set(id, await previousRunEvents(t.db, id));
    await migrate(t.db, migrations);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every run recorded before reads exactly as before, event for event', async () => {
    for (const [id, events] of before) {
      expect(events.length).toBeGreaterThan(0);
      expect(await getRunEvents(t.db, id)).toEqual(events);
    }
  });

  it('levqor runs show gives the same timeline as the previous reader, in text and JSON', async () => {
    const json = await runCli(['runs', 'show', runs.approved, '--json', '--tenant', 'acme'], { env: env() });
    expect(json.code, json.stderr).toBe(0);
    const shown = parseJson<{ status: string; events: EventRow[] }>(json);
    expect(shown?.status).toBe('failed');
    expect(shown?.events).toEqual(before.get(runs.approved));
    const text = await runCli(['runs', 'show', runs.recovered, '--tenant', 'acme'], { env: env() });
    expect(text.code, text.stderr).toBe(0);
    const order = ['run_started', 'run_requeued', 'step_started', 'run_finished'];
    const positions = order.map((type) => text.stdout.search(new RegExp(`^\\S+\\s+${type}\\b`, 'm')));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('a run queued under the previous schema runs on the new one: its old start, then its new entries, in one order', async () => {
    const r = await runCli(['scheduler', '--once'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const events = await getRunEvents(t.db, runs.queued);
    expect(events.map((e) => e.type)).toEqual([
      'run_started',
      'step_started',
      'step_finished',
      'step_started',
      'step_finished',
      'run_finished',
    ]);
    expect(events[0]).toEqual(before.get(runs.queued)?.[0]);
    // The new entries live on the run's row, not in workflow_events.
    expect(events.slice(1).every((e) => e.id.startsWith('t'))).toBe(true);
    expect(events.at(-1)?.payload).toEqual({ status: 'succeeded' });
    expect(events[4]?.payload).toEqual({ output: { total: 2 } });
    for (let i = 1; i < events.length; i++) expect(events[i]?.created_at).toBeGreaterThan(events[i - 1]?.created_at as number);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_events WHERE run_id = $1', [runs.queued]);
    expect(rows[0]?.n).toBe(1);
  });
});

describe('where an event is kept', () => {
  it.each([
    ['run_started', null, false],
    ['step_started', 'A', false],
    ['step_finished', 'A', false],
    ['run_finished', null, false],
    ['step_started', 'B', true],
    ['step_finished', 'B', true],
    ['step_started', 'C', true],
    ['step_finished', 'C', true],
    ['step_failed', 'A', true],
    ['step_retrying', 'A', true],
    ['approval_requested', 'C', true],
    ['approval_used', 'C', true],
  ] as const)('%s of a Class %s step: in workflow_events %s', (type, cls, ledger) => {
    expect(keptInLedger(type, cls)).toBe(ledger);
  });
});
