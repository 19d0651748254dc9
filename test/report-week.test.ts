import { describe, expect, it } from 'vitest';
import { formatIsoWeek, parseIsoWeek, previousIsoWeek, weekBounds } from '../src/reports/week.js';
import { collectWeeklyData } from '../src/reports/weekly.js';
import { createTenant } from '../src/tenants/queries.js';
import { openPgliteTestDb } from './helpers/db.js';

const utc = (s: string) => Date.parse(s) / 1000;

describe('ISO weeks in a time zone', () => {
  it.each([
    // The week the clocks go back in London has 169 hours; the week they go forward 167.
    ['2025-W43', 'Europe/London', '2025-10-19T23:00:00Z', '2025-10-27T00:00:00Z', 169],
    ['2025-W13', 'Europe/London', '2025-03-24T00:00:00Z', '2025-03-30T23:00:00Z', 167],
    ['2025-W44', 'Europe/London', '2025-10-27T00:00:00Z', '2025-11-03T00:00:00Z', 168],
    ['2025-W45', 'America/New_York', '2025-11-03T05:00:00Z', '2025-11-10T05:00:00Z', 168],
    ['2025-W44', 'America/New_York', '2025-10-27T04:00:00Z', '2025-11-03T05:00:00Z', 169],
    ['2026-W01', 'UTC', '2025-12-29T00:00:00Z', '2026-01-05T00:00:00Z', 168],
    ['2020-W53', 'Asia/Kolkata', '2020-12-27T18:30:00Z', '2021-01-03T18:30:00Z', 168],
  ])('%s in %s is [%s, %s), %i hours', (week, tz, from, to, hours) => {
    const b = weekBounds(parseIsoWeek(week), tz);
    expect(b).toEqual({ from: utc(from), to: utc(to) });
    expect((b.to - b.from) / 3600).toBe(hours);
  });

  it.each([
    // Monday 00:30 local on the day after the change is already the new week.
    ['2025-10-27T00:30:00Z', 'Europe/London', '2025-W43'],
    ['2025-10-26T23:30:00Z', 'Europe/London', '2025-W42'],
    ['2025-10-19T23:30:00Z', 'Europe/London', '2025-W42'],
    ['2025-10-19T22:30:00Z', 'Europe/London', '2025-W41'],
    ['2021-01-03T12:00:00Z', 'UTC', '2020-W52'],
  ])('at %s in %s the last complete week is %s', (now, tz, week) => {
    expect(formatIsoWeek(previousIsoWeek(utc(now), tz))).toBe(week);
  });

  it.each(['2025-W00', '2025-W54', '2025-W53', '25-W01', '2025W01', ''])('refuses %j', (text) => {
    expect(() => parseIsoWeek(text)).toThrow(/week/);
  });
});

describe('runs either side of a DST change fall in the local week', () => {
  it('counts runs by Europe/London midnight, not UTC midnight', async () => {
    const t = await openPgliteTestDb();
    try {
      const london = await createTenant(t.db, 'london', 'Europe/London');
      const utcTenant = await createTenant(t.db, 'utc', 'UTC');
      for (const tenant of [london, utcTenant]) {
        const { rows } = await t.db.query<{ id: string }>(
          `INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'w', '[]') RETURNING id`,
          [tenant.id],
        );
        // 23:30 UTC on Sunday 19 Oct is 00:30 BST on Monday 20 (W43 in London, W42 in UTC);
        // 23:30 UTC on Sunday 26 Oct is 23:30 GMT the same Sunday (W43 in both).
        for (const at of ['2025-10-19T22:30:00Z', '2025-10-19T23:30:00Z', '2025-10-26T23:30:00Z', '2025-10-27T00:30:00Z']) {
          await t.db.query(
            `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at, finished_at) VALUES ($1, $2, 'succeeded', 'manual', $3::float8, $3::float8 + 1)`,
            [tenant.id, rows[0]?.id, utc(at)],
          );
        }
      }
      const inLondon = await collectWeeklyData(t.db, { tenantId: london.id, week: '2025-W43' });
      const inUtc = await collectWeeklyData(t.db, { tenantId: utcTenant.id, week: '2025-W43' });
      expect(inLondon.runs.runs).toBe(2);
      expect(inUtc.runs.runs).toBe(1);
      expect(inLondon.previous_runs.runs).toBe(1);
      expect(inUtc.previous_runs.runs).toBe(2);
    } finally {
      await t.close();
    }
  });
});
