import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppError } from '../src/lib/errors.js';
import { scheduleConfigSchema, type ScheduleConfig } from '../src/workflows/schema.js';
import {
  MAX_CATCH_UP_RUNS,
  NONE_GRACE_SECONDS,
  describeSchedule,
  firstRunAt,
  nextSlotAfter,
  planDueSlots,
  upcomingSlots,
} from '../src/workflows/schedule.js';

type ScheduleInput = Partial<Record<keyof ScheduleConfig, unknown>>;

/** Builds a schedule the way workflow files do, so zod fills the defaults. */
function schedule(input: ScheduleInput): ScheduleConfig {
  // The schema refuses a cron that never fires; rows stored before that rule still need safe maths.
  const { cron, ...rest } = input;
  const parsed = scheduleConfigSchema.parse({
    enabled: true,
    ...rest,
    ...(cron === '0 0 30 2 *' ? { cron: '* * * * *' } : cron === undefined ? {} : { cron }),
  });
  return cron === '0 0 30 2 *' ? { ...parsed, cron } : parsed;
}

const at = (iso: string): number => Date.parse(iso) / 1000;
const iso = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

function localDay(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t * 1000));
}

function localTime(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t * 1000));
}

/** n slots from `from`, `step` apart, computed the way the grid is (from + i * step). */
function range(from: number, step: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i * step);
}

const T = at('2026-05-01T12:00:00Z');

describe('firstRunAt', () => {
  it.each([
    { name: 'disabled interval', s: { enabled: false, interval_minutes: 5 }, now: T, last: null, want: null },
    { name: 'disabled cron', s: { enabled: false, cron: '0 9 * * 1' }, now: T, last: null, want: null },
    { name: 'interval, never run: due at once', s: { interval_minutes: 5 }, now: T, last: null, want: T },
    { name: 'interval: last run + interval', s: { interval_minutes: 5 }, now: T, last: T - 60, want: T + 240 },
    { name: 'interval: overdue stays in the past (due now)', s: { interval_minutes: 5 }, now: T, last: T - DAY, want: T - DAY + 300 },
    { name: 'interval: fractional inputs', s: { interval_minutes: 0.5 }, now: 1000.75, last: 1000.25, want: 1030.25 },
    { name: 'interval: fractional never run', s: { interval_minutes: 2.5 }, now: 1234.5, last: null, want: 1234.5 },
    { name: 'cron ignores last run', s: { cron: '0 * * * *' }, now: T + 1, last: T - DAY, want: T + HOUR },
    { name: 'cron strictly after now', s: { cron: '0 * * * *' }, now: T, last: null, want: T + HOUR },
    {
      name: 'cron in London winter (GMT)',
      s: { cron: '0 9 * * 1', timezone: 'Europe/London' },
      now: at('2026-03-20T00:00:00Z'),
      last: null,
      want: at('2026-03-23T09:00:00Z'),
    },
    {
      name: 'cron in London summer (BST)',
      s: { cron: '0 9 * * 1', timezone: 'Europe/London' },
      now: at('2026-03-27T00:00:00Z'),
      last: null,
      want: at('2026-03-30T08:00:00Z'),
    },
    { name: 'cron that never fires', s: { cron: '0 0 30 2 *' }, now: T, last: null, want: null },
  ])('$name', ({ s, now, last, want }) => {
    expect(firstRunAt(schedule(s), now, last)).toBe(want);
  });
});

describe('nextSlotAfter', () => {
  const every5 = schedule({ interval_minutes: 5 });
  it.each([
    { name: 'at the anchor', anchor: 1000, t: 1000, want: 1300 },
    { name: 'just before the anchor', anchor: 1000, t: 999.999, want: 1000 },
    { name: 'just before a slot', anchor: 1000, t: 1299.9999, want: 1300 },
    { name: 'exactly on a later slot', anchor: 1000, t: 1600, want: 1900 },
    { name: 'before the anchor: the grid extends back', anchor: 1000, t: 100, want: 400 },
    { name: 'far ahead, no loop', anchor: 0, t: 1e9, want: 1_000_000_200 },
    { name: 'fractional anchor', anchor: 10.5, t: 310.5, want: 610.5 },
  ])('interval: $name', ({ anchor, t, want }) => {
    expect(nextSlotAfter(every5, anchor, t)).toBe(want);
  });

  it.each([0.1, 1 / 3, 0.7, 7, 1440])('interval %s min: grid slots map to the next grid slot, strictly later', (minutes) => {
    const s = schedule({ interval_minutes: minutes });
    const step = minutes * 60;
    const anchor = 1_777_000_000.3;
    for (const k of [0, 1, 2, 3, 10, 99, 1234, 99_999]) {
      const t = anchor + k * step;
      const next = nextSlotAfter(s, anchor, t);
      expect(next).toBeGreaterThan(t);
      expect(next).toBe(anchor + (k + 1) * step);
    }
  });

  // (t - anchor) / step rounds to just under 4 here, so a bare Math.floor would land a slot short.
  it('interval: a grid time whose division rounds down still maps to the next slot', () => {
    const step = 0.1 * 60;
    expect(nextSlotAfter(schedule({ interval_minutes: 0.1 }), 1000.1, 1000.1 + 4 * step)).toBe(1000.1 + 5 * step);
  });

  it('interval: result is the smallest grid slot strictly after t (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 4e9, noNaN: true }),
        fc.double({ min: 1 / 60, max: 525_600, noNaN: true }),
        fc.double({ min: 0, max: 4e9, noNaN: true }),
        (anchor, minutes, t) => {
          const step = minutes * 60;
          const next = nextSlotAfter(schedule({ interval_minutes: minutes }), anchor, t);
          const k = Math.round((next - anchor) / step);
          return next > t && next === anchor + k * step && anchor + (k - 1) * step <= t;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    { name: 'ignores the anchor', cron: '0 * * * *', tz: 'UTC', anchor: 0, t: T + 1, want: T + HOUR },
    { name: 'exactly on a slot', cron: '0 * * * *', tz: 'UTC', anchor: T, t: T, want: T + HOUR },
    { name: 'a millisecond before a slot', cron: '0 * * * *', tz: 'UTC', anchor: T, t: T - 0.001, want: T },
    { name: 'half a millisecond after a slot', cron: '0 * * * *', tz: 'UTC', anchor: T, t: T + 0.0005, want: T + HOUR },
    {
      name: 'Monday 09:00 London, GMT',
      cron: '0 9 * * 1',
      tz: 'Europe/London',
      anchor: 0,
      t: at('2026-03-23T09:00:00Z') - 1,
      want: at('2026-03-23T09:00:00Z'),
    },
    {
      name: 'Monday 09:00 London, into BST',
      cron: '0 9 * * 1',
      tz: 'Europe/London',
      anchor: 0,
      t: at('2026-03-23T09:00:00Z'),
      want: at('2026-03-30T08:00:00Z'),
    },
    {
      name: 'Monday 09:00 London, back to GMT',
      cron: '0 9 * * 1',
      tz: 'Europe/London',
      anchor: 0,
      t: at('2026-10-19T08:00:00Z'),
      want: at('2026-10-26T09:00:00Z'),
    },
  ])('cron: $name', ({ cron, tz, anchor, t, want }) => {
    expect(iso(nextSlotAfter(schedule({ cron, timezone: tz }), anchor, t))).toBe(iso(want));
  });

  it('cron: a weekly London job stays at 09:00 local through both DST changes', () => {
    const s = schedule({ cron: '0 9 * * 1', timezone: 'Europe/London' });
    let t = at('2026-01-01T00:00:00Z');
    for (let i = 0; i < 52; i++) {
      t = nextSlotAfter(s, 0, t);
      expect(localTime(t, 'Europe/London')).toBe('09:00');
      expect(new Date(t * 1000).getUTCDay()).toBe(1);
    }
  });

  it.each([
    { name: 'a cron that never fires', s: { cron: '0 0 30 2 *' } },
    { name: 'no rule at all', s: { enabled: false } },
  ])('throws AppError for $name', ({ s }) => {
    expect(() => nextSlotAfter(schedule(s), 0, T)).toThrow(AppError);
  });
});

describe('DST: daily jobs fire exactly once per local day', () => {
  it.each([
    { tz: 'Europe/London', cron: '30 2 * * *', day: '2026-03-29', want: '2026-03-29T01:30:00Z' },
    { tz: 'Europe/London', cron: '30 2 * * *', day: '2026-10-25', want: '2026-10-25T02:30:00Z' },
    { tz: 'America/New_York', cron: '30 2 * * *', day: '2026-03-08', want: '2026-03-08T07:00:00Z' },
    { tz: 'America/New_York', cron: '30 2 * * *', day: '2026-11-01', want: '2026-11-01T07:30:00Z' },
    { tz: 'Europe/London', cron: '30 1 * * *', day: '2026-03-29', want: '2026-03-29T01:00:00Z' },
    { tz: 'Europe/London', cron: '30 1 * * *', day: '2026-10-25', want: '2026-10-25T00:30:00Z' },
    { tz: 'America/New_York', cron: '30 1 * * *', day: '2026-03-08', want: '2026-03-08T06:30:00Z' },
    { tz: 'America/New_York', cron: '30 1 * * *', day: '2026-11-01', want: '2026-11-01T05:30:00Z' },
  ])('$cron in $tz on $day runs once, at $want', ({ tz, cron, day, want }) => {
    const s = schedule({ cron, timezone: tz });
    const slots: number[] = [];
    let t = at(`${day}T00:00:00Z`) - 4 * DAY;
    for (let i = 0; i < 9; i++) slots.push((t = nextSlotAfter(s, 0, t)));
    const days = slots.map((slot) => localDay(slot, tz));

    expect(slots.filter((slot) => localDay(slot, tz) === day).map(iso)).toEqual([want]);
    expect(new Set(days).size).toBe(days.length);
    for (let i = 1; i < days.length; i++) {
      expect(Date.parse(days[i]!) - Date.parse(days[i - 1]!)).toBe(DAY * 1000);
    }
    expect(days).toContain(day);
  });

  it.each([
    { tz: 'America/New_York', from: '2026-11-01T05:30:00Z' },
    { tz: 'America/New_York', from: '2026-11-01T06:29:00Z' },
    { tz: 'Europe/London', from: '2026-10-25T00:30:00Z' },
    { tz: 'Europe/London', from: '2026-10-25T01:29:00Z' },
  ])('30 1 * * * in $tz: from inside the repeated hour ($from) the next slot is the next day', ({ tz, from }) => {
    const next = nextSlotAfter(schedule({ cron: '30 1 * * *', timezone: tz }), 0, at(from));
    expect(localDay(next, tz)).not.toBe(localDay(at(from), tz));
    expect(localTime(next, tz)).toBe('01:30');
  });
});

describe('planDueSlots: interval catch-up', () => {
  it.each([
    // Every 5 min, last ran at T, scheduler down an hour: 12 slots T+5m … T+60m are due.
    {
      name: 'latest runs the newest, skips 11',
      s: { interval_minutes: 5 },
      due: T + 300,
      now: T + HOUR,
      run: [T + HOUR],
      skipped: 11,
      next: T + HOUR + 300,
    },
    {
      name: 'all runs 12',
      s: { interval_minutes: 5, catch_up: 'all' },
      due: T + 300,
      now: T + HOUR,
      run: range(T + 300, 300, 12),
      skipped: 0,
      next: T + HOUR + 300,
    },
    {
      name: 'none runs the on-time newest',
      s: { interval_minutes: 5, catch_up: 'none' },
      due: T + 300,
      now: T + HOUR + 10,
      run: [T + HOUR],
      skipped: 11,
      next: T + HOUR + 300,
    },
    {
      name: 'none skips all when late',
      s: { interval_minutes: 60, catch_up: 'none' },
      due: T,
      now: T + 3 * HOUR + 1200,
      run: [],
      skipped: 4,
      next: T + 4 * HOUR,
    },
    {
      name: 'none: late by exactly the grace runs',
      s: { interval_minutes: 60, catch_up: 'none' },
      due: T,
      now: T + 3 * HOUR + NONE_GRACE_SECONDS,
      run: [T + 3 * HOUR],
      skipped: 3,
      next: T + 4 * HOUR,
    },
    {
      name: 'none: a second past the grace skips',
      s: { interval_minutes: 60, catch_up: 'none' },
      due: T,
      now: T + 3 * HOUR + NONE_GRACE_SECONDS + 1,
      run: [],
      skipped: 4,
      next: T + 4 * HOUR,
    },
    {
      name: 'none: a window shorter than the grace wins',
      s: { interval_minutes: 60, catch_up: 'none', catch_up_window_minutes: 2 },
      due: T,
      now: T + 150,
      run: [],
      skipped: 1,
      next: T + HOUR,
    },
    { name: 'on time, one slot', s: { interval_minutes: 5 }, due: T, now: T + 1, run: [T], skipped: 0, next: T + 300 },
    {
      name: 'a slot equal to now is due',
      s: { interval_minutes: 5, catch_up: 'all' },
      due: T,
      now: T + 600,
      run: [T, T + 300, T + 600],
      skipped: 0,
      next: T + 900,
    },
    {
      name: 'window drops old slots (all)',
      s: { interval_minutes: 60, catch_up: 'all', catch_up_window_minutes: 180 },
      due: T,
      now: T + 10 * HOUR,
      run: range(T + 7 * HOUR, HOUR, 4),
      skipped: 7,
      next: T + 11 * HOUR,
    },
    {
      name: 'window drops old slots (latest)',
      s: { interval_minutes: 60, catch_up_window_minutes: 180 },
      due: T,
      now: T + 10 * HOUR,
      run: [T + 10 * HOUR],
      skipped: 10,
      next: T + 11 * HOUR,
    },
    {
      name: 'every slot older than the window',
      s: { interval_minutes: 1440, catch_up: 'all', catch_up_window_minutes: 60 },
      due: T,
      now: T + 2 * HOUR,
      run: [],
      skipped: 1,
      next: T + DAY,
    },
    {
      name: 'fractional interval and times',
      s: { interval_minutes: 0.5, catch_up: 'all' },
      due: 1000.25,
      now: 1090.25,
      run: [1000.25, 1030.25, 1060.25, 1090.25],
      skipped: 0,
      next: 1120.25,
    },
    { name: 'disabled', s: { enabled: false, interval_minutes: 5 }, due: T, now: T + HOUR, run: [], skipped: 0, next: null },
    { name: 'not yet due keeps the slot', s: { interval_minutes: 5 }, due: T + 60, now: T, run: [], skipped: 0, next: T + 60 },
  ])('$name', ({ s, due, now, run, skipped, next }) => {
    expect(planDueSlots(schedule(s), due, now)).toEqual({ run, skipped, nextRunAt: next });
  });

  it(`all is capped at the newest ${MAX_CATCH_UP_RUNS}`, () => {
    const plan = planDueSlots(schedule({ interval_minutes: 1, catch_up: 'all', catch_up_window_minutes: 2000 }), T, T + 1500 * MIN);
    expect(plan.run).toEqual(range(T + 501 * MIN, MIN, MAX_CATCH_UP_RUNS));
    expect(plan.skipped).toBe(501);
    expect(plan.nextRunAt).toBe(T + 1501 * MIN);
  });

  it('a year-old minutely slot is counted arithmetically', () => {
    const plan = planDueSlots(schedule({ interval_minutes: 1 }), T - 400 * DAY, T + 30);
    expect(plan).toEqual({ run: [T], skipped: 400 * 1440, nextRunAt: T + MIN });
  });

  // Float division puts these instants a hair off their grid index; slot membership must not move.
  it.each([
    { name: 'slot equal to now after a rounded-down division', due: 1000.1, k: 5, windowMinutes: 1440, run: 6, skipped: 0 },
    { name: 'window start exactly on a slot after a rounded-up division', due: 1000.1, k: 526, windowMinutes: 1, run: 11, skipped: 516 },
    {
      name: 'a slot one ulp before the window start is dropped',
      due: 1000.1,
      k: 181,
      windowMinutes: 0.9999999999999962,
      run: 10,
      skipped: 172,
    },
  ])('floating edges: $name', ({ due, k, windowMinutes, run, skipped }) => {
    const step = 0.1 * 60;
    const s = schedule({ interval_minutes: 0.1, catch_up: 'all', catch_up_window_minutes: windowMinutes });
    const plan = planDueSlots(s, due, due + k * step);
    expect(plan.run).toEqual(range(due + (k + 1 - run) * step, step, run));
    expect(plan.skipped).toBe(skipped);
    expect(plan.nextRunAt).toBe(due + (k + 1) * step);
  });

  it.each([0.1, 1 / 3, 0.7])('floating step %s min: slots stay on the grid, next is strictly after now', (minutes) => {
    const s = schedule({ interval_minutes: minutes, catch_up: 'all' });
    const step = minutes * 60;
    const due = 0.3;
    const now = due + 10 * step;
    const plan = planDueSlots(s, due, now);
    expect(plan.run).toEqual(range(due, step, 11));
    expect(plan.nextRunAt).toBe(due + 11 * step);
    expect(plan.nextRunAt).toBe(nextSlotAfter(s, due, now));
    expect(plan.nextRunAt!).toBeGreaterThan(now);
  });
});

describe('planDueSlots: cron catch-up', () => {
  const hourly = { cron: '0 * * * *' };
  it.each([
    { name: 'latest', s: { ...hourly }, due: T, now: T + 5 * HOUR + 600, run: [T + 5 * HOUR], skipped: 5, next: T + 6 * HOUR },
    {
      name: 'all',
      s: { ...hourly, catch_up: 'all' },
      due: T,
      now: T + 5 * HOUR + 600,
      run: [0, 1, 2, 3, 4, 5].map((h) => T + h * HOUR),
      skipped: 0,
      next: T + 6 * HOUR,
    },
    {
      name: 'none, 10 min late',
      s: { ...hourly, catch_up: 'none' },
      due: T,
      now: T + 5 * HOUR + 600,
      run: [],
      skipped: 6,
      next: T + 6 * HOUR,
    },
    {
      name: 'none, on time',
      s: { ...hourly, catch_up: 'none' },
      due: T,
      now: T + 5 * HOUR + 60,
      run: [T + 5 * HOUR],
      skipped: 5,
      next: T + 6 * HOUR,
    },
    {
      name: 'a slot equal to now is due',
      s: { ...hourly, catch_up: 'all' },
      due: T,
      now: T + HOUR,
      run: [T, T + HOUR],
      skipped: 0,
      next: T + 2 * HOUR,
    },
    {
      name: 'window drops old slots, counted exactly',
      s: { ...hourly, catch_up: 'all', catch_up_window_minutes: 120 },
      due: T,
      now: T + 5 * HOUR,
      run: [3, 4, 5].map((h) => T + h * HOUR),
      skipped: 3,
      next: T + 6 * HOUR,
    },
    { name: 'disabled', s: { ...hourly, enabled: false }, due: T, now: T + HOUR, run: [], skipped: 0, next: null },
  ])('hourly: $name', ({ s, due, now, run, skipped, next }) => {
    expect(planDueSlots(schedule(s), due, now)).toEqual({ run, skipped, nextRunAt: next });
  });

  it.each([
    {
      name: 'New York fall-back, 01:30 daily',
      s: { cron: '30 1 * * *', timezone: 'America/New_York' },
      due: '2026-10-31T05:30:00Z',
      now: '2026-11-03T12:00:00Z',
      all: ['2026-10-31T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z', '2026-11-03T06:30:00Z'],
      next: '2026-11-04T06:30:00Z',
    },
    {
      name: 'New York spring-forward, 02:30 daily',
      s: { cron: '30 2 * * *', timezone: 'America/New_York' },
      due: '2026-03-07T07:30:00Z',
      now: '2026-03-09T12:00:00Z',
      all: ['2026-03-07T07:30:00Z', '2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z'],
      next: '2026-03-10T06:30:00Z',
    },
    {
      name: 'London fall-back, half-hourly runs by elapsed time',
      s: { cron: '*/30 * * * *', timezone: 'Europe/London' },
      due: '2026-10-25T00:00:00Z',
      now: '2026-10-25T02:00:00Z',
      all: ['2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:00:00Z'],
      next: '2026-10-25T02:30:00Z',
    },
    {
      name: 'London spring-forward, half-hourly',
      s: { cron: '*/30 * * * *', timezone: 'Europe/London' },
      due: '2026-03-29T00:00:00Z',
      now: '2026-03-29T02:00:00Z',
      all: ['2026-03-29T00:00:00Z', '2026-03-29T00:30:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z', '2026-03-29T02:00:00Z'],
      next: '2026-03-29T02:30:00Z',
    },
  ])('missed over DST: $name', ({ s, due, now, all, next }) => {
    const allPlan = planDueSlots(schedule({ ...s, catch_up: 'all', catch_up_window_minutes: 7 * 1440 }), at(due), at(now));
    expect({ run: allPlan.run.map(iso), skipped: allPlan.skipped, next: iso(allPlan.nextRunAt!) }).toEqual({ run: all, skipped: 0, next });

    const latest = planDueSlots(schedule({ ...s, catch_up_window_minutes: 7 * 1440 }), at(due), at(now));
    expect({ run: latest.run.map(iso), skipped: latest.skipped, next: iso(latest.nextRunAt!) }).toEqual({
      run: all.slice(-1),
      skipped: all.length - 1,
      next,
    });
  });

  it('a minutely cron over a window longer than one scan still runs the newest slots', () => {
    const now = T + 30;
    const s = { cron: '* * * * *', catch_up_window_minutes: 10_000 };
    const trulyDue = 9001;

    const latest = planDueSlots(schedule(s), T - 9000 * MIN, now);
    expect(latest.run).toEqual([T]);
    expect(latest.nextRunAt).toBe(T + MIN);
    expect(latest.skipped).toBeGreaterThan(0);
    expect(latest.skipped).toBeLessThanOrEqual(trulyDue - 1);

    const all = planDueSlots(schedule({ ...s, catch_up: 'all' }), T - 9000 * MIN, now);
    expect(all.run).toEqual(range(T - (MAX_CATCH_UP_RUNS - 1) * MIN, MIN, MAX_CATCH_UP_RUNS));
    expect(all.skipped).toBeGreaterThan(0);
    expect(all.skipped).toBeLessThanOrEqual(trulyDue - MAX_CATCH_UP_RUNS);
  });

  it('a cron that never fires has no next slot', () => {
    expect(planDueSlots(schedule({ cron: '0 0 30 2 *' }), T, T + 1)).toEqual({ run: [T], skipped: 0, nextRunAt: null });
  });
});

describe('describeSchedule: a schedule in words (the console and doctor show it)', () => {
  it.each([
    [{ cron: '30 2 * * *', timezone: 'Europe/London' }, 'every day at 02:30 (Europe/London)'],
    [{ cron: '*/15 * * * *' }, 'every 15 minutes (UTC)'],
    [{ cron: '* * * * *' }, 'every minute (UTC)'],
    [{ cron: '5 * * * *' }, 'every hour at :05 (UTC)'],
    [{ cron: '0 9 * * 1', timezone: 'America/New_York' }, 'every Monday at 09:00 (America/New_York)'],
    [{ cron: '0 9 * * 7' }, 'every Sunday at 09:00 (UTC)'],
    [{ cron: '0 18 * * 1-5' }, 'every weekday at 18:00 (UTC)'],
    [{ cron: '0 6 1 * *' }, 'on day 1 of every month at 06:00 (UTC)'],
    [{ cron: '0 6 1 1 *' }, 'on cron "0 6 1 1 *" (UTC)'],
    [{ cron: '0 8-18/2 * * *' }, 'on cron "0 8-18/2 * * *" (UTC)'],
    [{ interval_minutes: 5 }, 'every 5 minutes'],
  ] as const)('%j → %s', (input, words) => {
    expect(describeSchedule(schedule(input))).toBe(words);
  });

  it('says when nothing is scheduled', () => {
    expect(describeSchedule(scheduleConfigSchema.parse({ enabled: false }))).toBe('not scheduled (runs only when started by hand)');
  });
});

describe('upcomingSlots', () => {
  it('starts at the stored next slot and follows the rule, in the zone, across a DST change', () => {
    const s = schedule({ cron: '30 2 * * *', timezone: 'Europe/London' });
    // 2026-10-25 is the night London leaves BST; 02:30 local exists on both sides of it.
    const first = at('2026-10-23T01:30:00Z');
    const slots = upcomingSlots(s, first, 5);
    expect(slots.map(iso)).toEqual([
      '2026-10-23T01:30:00Z',
      '2026-10-24T01:30:00Z',
      '2026-10-25T02:30:00Z',
      '2026-10-26T02:30:00Z',
      '2026-10-27T02:30:00Z',
    ]);
    for (const t of slots) expect(localTime(t, 'Europe/London')).toBe('02:30');
  });

  it('steps an interval schedule by its minutes', () => {
    const first = at('2026-12-06T10:00:00Z');
    expect(upcomingSlots(schedule({ interval_minutes: 45 }), first, 3).map(iso)).toEqual([
      '2026-12-06T10:00:00Z',
      '2026-12-06T10:45:00Z',
      '2026-12-06T11:30:00Z',
    ]);
  });

  it('is empty when the schedule is off or has no next slot', () => {
    expect(upcomingSlots(scheduleConfigSchema.parse({ enabled: false }), at('2026-12-06T10:00:00Z'), 5)).toEqual([]);
    expect(upcomingSlots(schedule({ interval_minutes: 5 }), null, 5)).toEqual([]);
  });
});
