import { Cron } from 'croner';
import { AppError } from '../lib/errors.js';
import type { ScheduleConfig } from './schema.js';

/** Slot plan for one due workflow. */
interface SlotPlan {
  /** Slot times (epoch s) to run now, oldest first; each becomes one run with scheduled_for = slot. */
  run: number[];
  /**
   * Slots that were due but are dropped by the catch-up policy (count only). Exact for interval
   * schedules; for cron it is a lower bound when the outage holds more slots than we scan.
   */
  skipped: number;
  /** The next slot strictly after `now`, to store as next_run_at; null when the schedule is disabled. */
  nextRunAt: number | null;
}

/** A slot is "on time" for catch_up: none when it is at most this late (also capped by the window). */
export const NONE_GRACE_SECONDS = 300;
/** catch_up: all never runs more than this many slots at once; older ones are skipped. */
export const MAX_CATCH_UP_RUNS = 1000;

// croner costs ~80 µs a step with a time zone; these bound one plan to a few hundred ms. The
// in-window limit covers a minutely cron over the default 1440-minute window plus a DST hour.
const CRON_WINDOW_SCAN_LIMIT = 2_000;
const CRON_PRE_WINDOW_COUNT_LIMIT = 500;

type Rule = { kind: 'cron'; cron: Cron } | { kind: 'interval'; step: number };

function ruleOf(schedule: ScheduleConfig): Rule | null {
  if (schedule.cron !== undefined) return { kind: 'cron', cron: new Cron(schedule.cron, { timezone: schedule.timezone, paused: true }) };
  if (schedule.interval_minutes !== undefined) return { kind: 'interval', step: schedule.interval_minutes * 60 };
  return null;
}

// Cron slots are whole seconds and croner strips milliseconds, so "slot > t" is "slot > floor(t)".
function cronNextAfter(cron: Cron, t: number): number | null {
  const next = cron.nextRun(new Date(Math.floor(t) * 1000));
  return next === null ? null : next.getTime() / 1000;
}

function cronFirstAtOrAfter(cron: Cron, t: number): number | null {
  return cronNextAfter(cron, Math.ceil(t) - 1);
}

// Index arithmetic for interval grids: the division gives the answer up to rounding, and the
// bounded nudges make it exact against the very expression (anchor + k * step) callers use.
function slotAt(anchor: number, step: number, k: number): number {
  return anchor + k * step;
}

function lastIndexAtOrBefore(anchor: number, step: number, t: number): number {
  let k = Math.floor((t - anchor) / step);
  for (let i = 0; i < 4 && slotAt(anchor, step, k + 1) <= t; i++) k++;
  for (let i = 0; i < 4 && slotAt(anchor, step, k) > t; i++) k--;
  return k;
}

function firstIndexAtOrAfter(anchor: number, step: number, t: number): number {
  let k = Math.ceil((t - anchor) / step);
  for (let i = 0; i < 4 && slotAt(anchor, step, k - 1) >= t; i++) k--;
  for (let i = 0; i < 4 && slotAt(anchor, step, k) < t; i++) k++;
  return k;
}

function intervalNextAfter(anchor: number, step: number, t: number): number {
  const next = slotAt(anchor, step, lastIndexAtOrBefore(anchor, step, t) + 1);
  // Only a step below float resolution at this magnitude gets here; progress beats the grid then.
  return next > t ? next : t + Math.max(step, Math.abs(t) * Number.EPSILON);
}

/** When a workflow whose schedule was just created or changed is first due (epoch s), or null if never. */
export function firstRunAt(schedule: ScheduleConfig, now: number, lastRunAt: number | null): number | null {
  if (!schedule.enabled) return null;
  const rule = ruleOf(schedule);
  if (rule === null) return null;
  if (rule.kind === 'cron') return cronNextAfter(rule.cron, now);
  // A past value is deliberate: it is due at once and anchors the grid on the last run.
  return lastRunAt === null ? now : lastRunAt + rule.step;
}

/** The smallest slot strictly after `t`: interval slots are anchor + k·interval, cron slots ignore anchor. */
export function nextSlotAfter(schedule: ScheduleConfig, anchor: number, t: number): number {
  const rule = ruleOf(schedule);
  if (rule === null) throw new AppError('bad_input', 'schedule has neither cron nor interval_minutes');
  if (rule.kind === 'interval') return intervalNextAfter(anchor, rule.step, t);
  const next = cronNextAfter(rule.cron, t);
  if (next === null) throw new AppError('bad_input', `cron "${schedule.cron}" has no slot after ${t}`);
  return next;
}

/** Which due slots run now and which are skipped under the catch-up policy, plus the next slot. */
export function planDueSlots(schedule: ScheduleConfig, dueSlot: number, now: number): SlotPlan {
  if (!schedule.enabled) return { run: [], skipped: 0, nextRunAt: null };
  const rule = ruleOf(schedule);
  if (rule === null) return { run: [], skipped: 0, nextRunAt: null };
  // Not yet due: nothing to run, and the stored slot stays the next one.
  if (dueSlot > now) return { run: [], skipped: 0, nextRunAt: dueSlot };
  const windowSeconds = schedule.catch_up_window_minutes * 60;
  const windowStart = now - windowSeconds;
  const wanted = schedule.catch_up === 'all' ? MAX_CATCH_UP_RUNS : 1;
  const due =
    rule.kind === 'interval'
      ? intervalDue(rule.step, dueSlot, now, windowStart, wanted)
      : cronDue(rule.cron, dueSlot, now, windowStart, wanted);
  const run = selectRuns(schedule.catch_up, due.recent, now, windowSeconds);
  return { run, skipped: due.count - run.length, nextRunAt: due.nextRunAt };
}

/** Due slots as the policy needs them: the most recent in-window ones, and how many were due. */
interface DueSlots {
  /** Up to `wanted` most recent due slots inside the window, oldest first. */
  recent: number[];
  /** Every due slot, dropped by the window or not. */
  count: number;
  nextRunAt: number | null;
}

function intervalDue(step: number, dueSlot: number, now: number, windowStart: number, wanted: number): DueSlots {
  const last = Math.max(0, lastIndexAtOrBefore(dueSlot, step, now));
  const firstKept = Math.max(0, firstIndexAtOrAfter(dueSlot, step, windowStart));
  const from = Math.max(firstKept, last - wanted + 1);
  const recent: number[] = [];
  for (let k = from; k <= last; k++) recent.push(slotAt(dueSlot, step, k));
  return { recent, count: last + 1, nextRunAt: intervalNextAfter(dueSlot, step, now) };
}

function cronDue(cron: Cron, dueSlot: number, now: number, windowStart: number, wanted: number): DueSlots {
  let count = 0;
  if (dueSlot < windowStart) {
    // Counted only, never run; past the limit the count is a lower bound.
    let s: number | null = dueSlot;
    while (s !== null && s < windowStart && count < CRON_PRE_WINDOW_COUNT_LIMIT) {
      count++;
      s = cronNextAfter(cron, s);
    }
  }
  const inWindow: number[] = [];
  let cursor = dueSlot >= windowStart ? dueSlot : cronFirstAtOrAfter(cron, windowStart);
  while (cursor !== null && cursor <= now && inWindow.length < CRON_WINDOW_SCAN_LIMIT) {
    inWindow.push(cursor);
    cursor = cronNextAfter(cron, cursor);
  }
  if (cursor === null || cursor > now) {
    return { recent: inWindow.slice(-wanted), count: count + inWindow.length, nextRunAt: cursor };
  }
  // The window holds more slots than we scan (minutely cron, long window): take the newest from
  // the far end instead; the slots between the two ends go uncounted.
  const scannedTo = inWindow[inWindow.length - 1] ?? -Infinity;
  const tail = cron
    .previousRuns(wanted, new Date(Math.floor(now) * 1000 + 1))
    .map((d) => d.getTime() / 1000)
    .filter((s) => s <= now && s > scannedTo)
    .reverse();
  const recent = [...inWindow, ...tail].slice(-wanted);
  return { recent, count: count + inWindow.length + tail.length, nextRunAt: cronNextAfter(cron, now) };
}

function selectRuns(policy: ScheduleConfig['catch_up'], recent: number[], now: number, windowSeconds: number): number[] {
  const latest = recent[recent.length - 1];
  if (latest === undefined) return [];
  switch (policy) {
    case 'all':
      return recent.slice(-MAX_CATCH_UP_RUNS);
    case 'latest':
      return [latest];
    case 'none':
      // Never catches up: only a slot we are (nearly) on time for runs.
      return now - latest <= Math.min(NONE_GRACE_SECONDS, windowSeconds) ? [latest] : [];
  }
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad2 = (n: string) => n.padStart(2, '0');

function cronInWords(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `on cron "${expr}"`;
  const [m = '', h = '', dom = '', mon = '', dow = ''] = fields;
  const num = /^\d+$/;
  const everyMin = /^\*\/(\d+)$/.exec(m);
  if (everyMin && h === '*' && dom === '*' && mon === '*' && dow === '*') return `every ${everyMin[1]} minutes`;
  if (m === '*' && h === '*' && dom === '*' && mon === '*' && dow === '*') return 'every minute';
  if (num.test(m) && h === '*' && dom === '*' && mon === '*' && dow === '*') return `every hour at :${pad2(m)}`;
  if (!num.test(m) || !num.test(h) || mon !== '*') return `on cron "${expr}"`;
  const at = `at ${pad2(h)}:${pad2(m)}`;
  if (dom === '*' && dow === '*') return `every day ${at}`;
  if (dom === '*' && /^[0-7]$/.test(dow)) return `every ${WEEKDAYS[Number(dow) % 7] ?? dow} ${at}`;
  if (dom === '*' && dow === '1-5') return `every weekday ${at}`;
  if (num.test(dom) && dow === '*') return `on day ${dom} of every month ${at}`;
  return `on cron "${expr}"`;
}

/** A schedule in words, with its time zone: "every day at 02:30 (Europe/London)". */
export function describeSchedule(schedule: ScheduleConfig): string {
  if (!schedule.enabled) return 'not scheduled (runs only when started by hand)';
  const zone = schedule.timezone ?? 'UTC';
  if (schedule.cron !== undefined) return `${cronInWords(schedule.cron)} (${zone})`;
  if (schedule.interval_minutes !== undefined) return `every ${schedule.interval_minutes} minutes`;
  return 'no rule (neither cron nor interval_minutes)';
}

/** The next `count` slots from the stored next slot on (epoch s); empty when nothing is scheduled. */
export function upcomingSlots(schedule: ScheduleConfig, nextRunAt: number | null, count: number): number[] {
  if (!schedule.enabled || nextRunAt === null || ruleOf(schedule) === null) return [];
  const slots = [nextRunAt];
  while (slots.length < count) slots.push(nextSlotAfter(schedule, nextRunAt, slots[slots.length - 1] ?? nextRunAt));
  return slots;
}
