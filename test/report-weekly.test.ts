import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/lib/errors.js';
import {
  collectWeeklyData,
  generateWeeklyReport,
  generateWeeklyReportJson,
  renderWeeklyReport,
  type WeeklyData,
} from '../src/reports/weekly.js';
import { createTenant, type TenantRow } from '../src/tenants/queries.js';
import { BACKENDS, type TestDb } from './helpers/db.js';
import { FIXED_NOW, gfmTables, lexGfm, seedReportFixture, W43_FROM, W43_TO } from './report-fixture.js';

const outputs: Record<string, string> = {};

describe.each(BACKENDS)('weekly report on $name', ({ name, open }) => {
  let t: TestDb;
  let acme: TenantRow;
  beforeAll(async () => {
    t = await open();
    acme = await seedReportFixture(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('renders the fixed history as the committed snapshot, the same on every call', async () => {
    const md = await generateWeeklyReport(t.db, { tenantId: acme.id, now: FIXED_NOW });
    expect(md).toMatchSnapshot();
    expect(await generateWeeklyReport(t.db, { tenantId: acme.id, week: '2025-W43', now: FIXED_NOW + 86_400 * 3 })).toBe(md);
    outputs[name] = md;
  });

  it('is valid GFM whose tables parse as tables with the expected columns', async () => {
    const md = await generateWeeklyReport(t.db, { tenantId: acme.id, now: FIXED_NOW });
    const tokens = lexGfm(md);
    expect(tokens.filter((tk) => tk.type === 'html')).toEqual([]);
    const tables = gfmTables(md);
    expect(tables.map((tb) => tb.header[0])).toEqual([
      'metric',
      'workflow',
      'workflow',
      'requested',
      'class',
      'reason',
      'scheduler process',
    ]);
    const summary = tables[0];
    expect(summary?.rows.find((r) => r[0] === 'runs')).toEqual(['runs', '100', '50', '+100.0 %']);
    // A pipe in an error message stays inside its cell.
    const failing = tables[1];
    expect(failing?.rows[0]?.[0]).toBe('partner-webhook');
    expect(failing?.rows[0]).toHaveLength(6);
    expect(failing?.rows[0]?.[5]).toContain('gateway');
    expect(tables[5]?.rows).toEqual(
      [
        ['Not authorized', '3'],
        ['wrong \\| list', '1'],
      ].map(([r, c]) => [r?.replace('\\|', '|'), c]),
    );
  });

  it('computes the week from independent counts, in the tenant time zone', async () => {
    const data = await collectWeeklyData(t.db, { tenantId: acme.id, now: FIXED_NOW });
    expect(data.week).toBe('2025-W43');
    expect([data.from, data.to]).toEqual([W43_FROM, W43_TO]);
    const { rows } = await t.db.query<{ total: number; failed: number; ok: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*) FILTER (WHERE status = 'succeeded')::int AS ok
       FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3`,
      [acme.id, W43_FROM, W43_TO],
    );
    expect(data.runs).toMatchObject({ runs: rows[0]?.total, failed: rows[0]?.failed, succeeded: rows[0]?.ok });
    expect(data.approvals).toMatchObject({
      requested: 13,
      approved: 6,
      rejected: 4,
      expired: 2,
      pending: 1,
      by_class: { A: 101, B: 4, C: 13 },
    });
    // Median of the 10 decided requests' latencies (600 … 32400 s and 1200 … 4800 s): (3600 + 3600) / 2.
    expect(data.approvals.median_decision_seconds).toBe(3600);
  });

  it('states each recommendation with the number that triggered it', async () => {
    const json = await generateWeeklyReportJson(t.db, { tenantId: acme.id, week: '2025-W43' });
    const recs = json.recommendations as { rule: string; message: string; evidence: { value: number; threshold: number } }[];
    expect(recs.map((r) => r.rule)).toEqual([
      'failure-rate',
      'workflow-failing',
      'p95-growth',
      'expired-approvals',
      'rejected-approvals',
      'schedule-lag',
    ]);
    const rate = recs.find((r) => r.rule === 'failure-rate');
    expect(rate?.message).toContain('12.5 % is above the 5.0 % target (12 of 96 finished runs failed)');
    expect(rate?.evidence.threshold).toBe(0.05);
    expect(recs.find((r) => r.rule === 'workflow-failing')?.message).toContain('`partner-webhook` failed 8 of 20');
    for (const r of recs) expect(r.evidence.value).toBeGreaterThanOrEqual(r.evidence.threshold);
  });

  it('reports an empty week without failing, and says so', async () => {
    const empty = await createTenant(t.db, `empty-${name}`, 'America/New_York');
    const md = await generateWeeklyReport(t.db, { tenantId: empty.id, week: '2025-W43' });
    expect(md).toContain('No failed runs this week.');
    expect(md).toContain('No finished runs, so no failure rate this week.');
    expect(md).toContain('None: every rule is within its threshold.');
    expect(md).toMatch(/Monday 2025-10-20 00:00 to Monday 2025-10-27 00:00 \(America\/New_York\)/);
    expect(gfmTables(md)[0]?.rows.find((r) => r[0] === 'runs')).toEqual(['runs', '0', '0', '0.0 %']);
  });

  it('refuses a week that does not exist, naming it', async () => {
    await expect(generateWeeklyReport(t.db, { tenantId: acme.id, week: '2025-W53' })).rejects.toThrow(/2025 has no week 53/);
    await expect(generateWeeklyReport(t.db, { tenantId: acme.id, week: '2025-43' })).rejects.toBeInstanceOf(AppError);
  });
});

describe('weekly report rendering', () => {
  it('is the same on both backends', () => {
    expect(outputs.postgres).toBeDefined();
    expect(outputs.pglite).toBe(outputs.postgres);
  });

  it('escapes table-breaking text from workflow names and errors', () => {
    const data: WeeklyData = {
      tenant: 'x',
      timezone: 'UTC',
      week: '2025-W01',
      from: 0,
      to: 604_800,
      previous_week: '2024-W52',
      as_of: 604_800,
      runs: { runs: 1, succeeded: 0, failed: 1, stopped: 0, in_progress: 0, p50_seconds: 1, p95_seconds: 1 },
      previous_runs: { runs: 0, succeeded: 0, failed: 0, stopped: 0, in_progress: 0, p50_seconds: null, p95_seconds: null },
      workflows: [
        {
          workflow: 'w',
          runs: 1,
          succeeded: 0,
          failed: 1,
          p50_seconds: 1,
          p95_seconds: 1,
          max_seconds: 1,
          last_error: 'a | b\n| c | d |\n<script>',
          last_failed_at: 10,
        },
      ],
      approvals: {
        requested: 0,
        approved: 0,
        rejected: 0,
        expired: 0,
        pending: 0,
        median_decision_seconds: null,
        p95_decision_seconds: null,
        by_class: { A: 1, B: 0, C: 0 },
      },
      previous_approvals: {
        requested: 0,
        approved: 0,
        rejected: 0,
        expired: 0,
        pending: 0,
        median_decision_seconds: null,
        p95_decision_seconds: null,
        by_class: { A: 0, B: 0, C: 0 },
      },
      reject_reasons: [],
      scheduler: { scheduled_runs: 0, lag_p50_seconds: null, lag_p95_seconds: null, lag_max_seconds: null, active_schedules: 0 },
      scheduler_instances: [],
    };
    const md = renderWeeklyReport(data);
    const failing = gfmTables(md)[1];
    expect(failing?.rows).toHaveLength(1);
    expect(failing?.rows[0]?.[5]).toContain('a | b | c | d |');
    expect(lexGfm(md).some((tk) => tk.type === 'html')).toBe(false);
  });
});
