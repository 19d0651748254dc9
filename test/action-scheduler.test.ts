import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open.js';
import { generateWeeklyReport } from '../src/reports/weekly.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import type { Db } from '../src/db/types.js';
import { defaultAlertThresholds } from '../src/health/alert-rules.js';
import { setAlertRule } from '../src/health/alerts.js';
import { createPgDatabase } from './helpers/db.js';
import { runAction } from './helpers/github.js';
import { insertDueWorkflows, insertTenant } from './helpers/proc.js';

// `command: scheduler` is `levqor scheduler --once` on a GitHub schedule, against Postgres.

let db: Db;
let url: string;
let drop: () => Promise<void>;
let tenantId: string;
const workspace = mkdtempSync(join(tmpdir(), 'levqor-action-sched-'));

beforeAll(async () => {
  ({ url, drop } = await createPgDatabase('levqor_asched', { template: true }));
  db = await openDatabase({ DATABASE_URL: url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 4, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 });
  tenantId = await insertTenant(db, 'acme');
});
afterAll(async () => {
  await db.close();
  await drop();
  rmSync(workspace, { recursive: true, force: true });
});

describe('command: scheduler', () => {
  it('runs every due workflow once, records the tick, and reports it', async () => {
    const ids = await insertDueWorkflows(db, tenantId, {
      prefix: 'nightly',
      count: 3,
      steps: [{ type: 'log', message: 'hello from {{workflow.name}}' }],
    });
    const r = await runAction({ inputs: { command: 'scheduler', 'database-url': url }, workspace });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.result).toBe('pass');
    expect(JSON.parse(r.outputs.report ?? '{}')).toMatchObject({ claimed: 3, succeeded: 3, failed: 0 });
    expect(r.summary).toContain('<h3>✅ Levqor scheduler tick</h3>');
    expect(r.stdout).toMatch(/^info tick .*claimed=3/m);
    const runs = await db.query<{ workflow_id: string; status: string; trigger: string }>(
      'SELECT workflow_id, status, trigger FROM workflow_runs WHERE tenant_id = $1',
      [tenantId],
    );
    expect(runs.rows.map((x) => x.workflow_id).sort()).toEqual([...ids].sort());
    expect(runs.rows.every((x) => x.status === 'succeeded')).toBe(true);
    // The tick is recorded for `levqor doctor` and health, as `levqor scheduler --once` records it.
    const instances = await db.query<{ id: string; stopped_at: number | null }>('SELECT id, stopped_at FROM scheduler_instances');
    expect(instances.rows).toHaveLength(1);
    expect(instances.rows[0]?.id).toMatch(/^scheduler:/);
    expect(instances.rows[0]?.stopped_at).not.toBeNull();

    // Nothing is due any more: a second tick claims nothing.
    const again = await runAction({ inputs: { command: 'scheduler', 'database-url': url }, workspace });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.outputs.report ?? '{}')).toMatchObject({ claimed: 0 });
  });

  it('fails the step when a run fails, as `levqor scheduler --once` exits 1', async () => {
    await insertDueWorkflows(db, tenantId, {
      prefix: 'broken',
      steps: [{ type: 'set_workflow_active', workflow: 'ghost', active: false }],
    });
    const r = await runAction({ inputs: { command: 'scheduler', 'database-url': url }, workspace });
    expect(r.code).toBe(1);
    expect(r.outputs.result).toBe('fail');
    expect(r.errors.at(-1)).toBe('::error::1 run(s) failed (levqor runs list --status failed shows them)');
  });

  it("evaluates the tenant's alert rules after its tick, as `levqor scheduler --once` does", async () => {
    const defaults = defaultAlertThresholds({ schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50 });
    await setAlertRule(db, tenantId, 'approval_queue_depth', { threshold: 0, by: 'test' }, defaults);
    await db.query(
      `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, expires_at)
       VALUES ($1, 'email', 'C', 'send', '{}', 'h', 'pending', 'test', extract(epoch FROM now()) + 3600)`,
      [tenantId],
    );
    const r = await runAction({ inputs: { command: 'scheduler', 'database-url': url }, workspace });
    expect(r.stdout).toContain('alert firing: 1 approvals pending (threshold 0)');
    const { rows } = await db.query<{ kind: string; status: string }>('SELECT kind, status FROM alerts WHERE tenant_id = $1', [tenantId]);
    expect(rows).toEqual([{ kind: 'approval_queue_depth', status: 'firing' }]);
  });

  it('needs database-url, and names it', async () => {
    const r = await runAction({ inputs: { command: 'scheduler' }, workspace });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual(['::error::input database-url: required for command: scheduler']);
  });
});

describe('command: report', () => {
  it('writes the weekly report (generateWeeklyReport) to the job summary and the markdown output', async () => {
    const week = '2026-W47';
    const expected = await generateWeeklyReport(db, { tenantId, week });
    const r = await runAction({ inputs: { command: 'report', 'database-url': url, tenant: 'acme', week }, workspace });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.markdown).toBe(expected);
    expect(r.summary).toContain(expected);
    expect(expected).toContain(week);
  });

  it('refuses a week that is not an ISO week', async () => {
    const r = await runAction({ inputs: { command: 'report', 'database-url': url, week: 'last week' }, workspace });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual(['::error::input week: must be an ISO week like 2026-W05 (got "last week")']);
  });
});
