import { AppError } from '../lib/errors.js';

/** An ISO week, e.g. "2025-W43": Monday to Sunday, week 1 holding the year's first Thursday. */
interface IsoWeek {
  year: number;
  week: number;
}

const DAY_MS = 86_400_000;
const WEEK_PATTERN = /^(\d{4})-W(\d{2})$/;

/** "2025-W03" for year 2025, week 3. */
export function formatIsoWeek(w: IsoWeek): string {
  return `${w.year}-W${String(w.week).padStart(2, '0')}`;
}

/** The ISO week holding a calendar date (given as a UTC midnight in ms). */
export function isoWeekOfDate(dateMs: number): IsoWeek {
  const d = new Date(dateMs);
  const dow = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(dateMs + (3 - dow) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return { year, week };
}

/** The Monday of an ISO week as "YYYY-MM-DD". */
function mondayOf(w: IsoWeek): string {
  const jan4 = Date.UTC(w.year, 0, 4);
  const dow = (new Date(jan4).getUTCDay() + 6) % 7;
  const monday = jan4 - dow * DAY_MS + (w.week - 1) * 7 * DAY_MS;
  return new Date(monday).toISOString().slice(0, 10);
}

/** Parses "YYYY-Www"; a week the year does not have (W53 of most years) is refused. */
export function parseIsoWeek(text: string): IsoWeek {
  const m = WEEK_PATTERN.exec(text.trim());
  const w = m ? { year: Number(m[1]), week: Number(m[2]) } : undefined;
  if (!w || w.week < 1 || w.week > 53) {
    throw new AppError('bad_input', `week "${text}": expected an ISO week such as 2025-W07 (YYYY-Www, weeks 01–53)`, ['week']);
  }
  const back = isoWeekOfDate(Date.parse(`${mondayOf(w)}T00:00:00Z`));
  if (back.year !== w.year || back.week !== w.week) {
    throw new AppError('bad_input', `week "${text}": ${w.year} has no week ${w.week}`, ['week']);
  }
  return w;
}

/** The local calendar date ("YYYY-MM-DD") in a time zone at an epoch-seconds instant. */
export function localDate(epochSeconds: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(epochSeconds * 1000),
  );
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The week a report covers by default: the last complete ISO week before `now` in the time zone. */
export function previousIsoWeek(nowSeconds: number, timeZone: string): IsoWeek {
  const today = Date.parse(`${localDate(nowSeconds, timeZone)}T00:00:00Z`);
  return isoWeekOfDate(today - 7 * DAY_MS);
}

/** The week before a given one. */
export function weekBefore(w: IsoWeek): IsoWeek {
  return isoWeekOfDate(Date.parse(`${mondayOf(w)}T00:00:00Z`) - 7 * DAY_MS);
}

/** How far a time zone's wall clock is ahead of UTC at an instant, in ms. */
function zoneOffsetMs(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(ms / 1000) * 1000;
}

/** Epoch seconds of local midnight starting a calendar date ("YYYY-MM-DD") in a time zone. */
function zonedMidnight(date: string, timeZone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`);
  let guess = wall - zoneOffsetMs(wall, timeZone);
  // Once more with the offset at the guess: right on both sides of a DST change.
  guess = wall - zoneOffsetMs(guess, timeZone);
  return guess / 1000;
}

/** A week's bounds [from, to) in epoch seconds, Monday 00:00 to the next Monday 00:00 local time. */
export function weekBounds(w: IsoWeek, timeZone: string): { from: number; to: number } {
  const monday = mondayOf(w);
  const next = new Date(Date.parse(`${monday}T00:00:00Z`) + 7 * DAY_MS).toISOString().slice(0, 10);
  return { from: zonedMidnight(monday, timeZone), to: zonedMidnight(next, timeZone) };
}
