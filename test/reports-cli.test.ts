import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningClis, parseJson, runCli } from './helpers/cli.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';

// The guide's reporting commands as a user runs them: `levqor demo`, `report weekly`,
// `analytics`, `marketing run`, as processes against one Postgres database.

describe('levqor demo, report, analytics and marketing (processes, Postgres)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openPgTestDb();
  });
  afterAll(async () => {
    await killRunningClis();
    await t.close();
  });
  const env = () => ({ DATABASE_URL: t.url ?? '' });

  it('fills a history that the report, analytics and the marketing cycle then read', async () => {
    const demo = await runCli(['demo', '--weeks', '2', '--json'], { env: env() });
    expect(demo.code, demo.stderr).toBe(0);
    const filled = parseJson<{ tenant: string; weeks: number; runs: number; approvals: number }>(demo);
    expect(filled).toMatchObject({ tenant: 'demo', weeks: 2 });
    expect(filled.runs).toBeGreaterThan(100);
    expect(filled.approvals).toBeGreaterThan(0);

    const md = await runCli(['report', 'weekly'], { env: env() });
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# Levqor weekly report: demo, \d{4}-W\d{2}$/m);
    expect(md.stdout).toMatch(/\| .* \|/);

    const json = await runCli(['report', 'weekly', '--format', 'json'], { env: env() });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(report).length).toBeGreaterThan(2);

    const analytics = await runCli(['analytics', '--days', '14', '--json'], { env: env() });
    expect(analytics.code, analytics.stderr).toBe(0);
    const a = JSON.parse(analytics.stdout) as { tenants: { tenant: string; totals: { runs: number } }[] };
    expect(a.tenants.find((x) => x.tenant === 'demo')?.totals.runs).toBeGreaterThan(0);

    const marketing = await runCli(['marketing', 'run', '--dry-run', '--json'], { env: env() });
    expect(marketing.code, marketing.stderr).toBe(0);
    expect((JSON.parse(marketing.stdout) as { tenants: { tenant: string }[] }).tenants.map((x) => x.tenant)).toContain('demo');
    const { rows } = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM approval_queue WHERE status = 'pending' AND action_type = 'email'",
    );
    expect(rows[0]?.n).toBe(0); // a dry run proposes nothing
  });

  it('bad input: an ISO week the year does not have, an unknown format, days out of range (exit 2, named)', async () => {
    const week = await runCli(['report', 'weekly', '--week', '2025-W53'], { env: env() });
    expect(week.code).toBe(2);
    expect(week.stderr).toContain('2025-W53');
    const format = await runCli(['report', 'weekly', '--format', 'pdf'], { env: env() });
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/format/);
    const days = await runCli(['analytics', '--days', '0'], { env: env() });
    expect(days.code).toBe(2);
    expect(days.stderr).toMatch(/days/);
  });
});
