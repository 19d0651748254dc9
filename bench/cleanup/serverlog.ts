// The server log of a `levqor cleanup` run: every statement of its sessions (they log all, through
// PGOPTIONS), grouped into batches (BEGIN … COMMIT) and phases (one per table).
import { percentiles, type Percentiles } from '../lib/stats.js';
import { statementLabel } from '../lib/trace.js';
import type { Snapshot } from './data.js';
import type { ClaimSample } from './claim.js';

export interface LogLine {
  /** Date.parse of the line's time. */
  at: number;
  pid: number;
  ms: number;
  label: string;
  sql: string;
}

/** Every duration line of database `db` in the log text: time, pid, server ms, statement label and full text. */
export function durationLines(text: string, db: string): LogLine[] {
  const out: LogLine[] = [];
  const pending = new Map<string, number>(); // parse/bind time waiting for its execute, per pid
  let last: LogLine | null = null; // the entry a continuation line (a tab, then more of the statement) belongs to
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) {
      if (last) last.sql += ` ${line.trim()}`;
      continue;
    }
    last = null;
    const m =
      /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\S+) \[(\d+)\] \S*@(\S+) LOG: {2}duration: ([\d.]+) ms {2}(statement: |(parse|bind|execute) [^:]*: )(.*)$/.exec(
        line,
      );
    if (!m || m[4] !== db) continue;
    const [, ts = '', zone, pid = '', , ms, , step, sql = ''] = m;
    const at = zone === 'UTC' || zone === 'GMT' ? Date.parse(`${ts.replace(' ', 'T')}Z`) : Date.parse(ts);
    if (step === 'parse' || step === 'bind') {
      pending.set(pid, (pending.get(pid) ?? 0) + Number(ms));
      continue;
    }
    const extra = pending.get(pid) ?? 0;
    pending.delete(pid);
    last = { at, pid: Number(pid), ms: Number(ms) + extra, label: statementLabel(sql), sql: sql.trim() };
    out.push(last);
  }
  for (const l of out) l.sql = l.sql.replace(/\s+/g, ' ');
  return out;
}

const KINDS: [string, RegExp][] = [
  ['begin', /^BEGIN/],
  ['set', /^SET LOCAL statement_timeout/],
  ['count', /^SELECT count\(\*\)/],
  ['select', /^SELECT (id|\*) FROM (\w+)/],
  ['delete events of runs', /^DELETE FROM workflow_events WHERE run_id/],
  ['delete', /^DELETE FROM (\w+) WHERE id/],
  ['commit', /^COMMIT/],
  ['rollback', /^ROLLBACK/],
];
const kindOf = (label: string): string => KINDS.find(([, re]) => re.test(label))?.[0] ?? 'other';

/** Groups the cleanup's statements into batches (BEGIN … COMMIT or ROLLBACK); count(*) statements apart. */
export interface Batch {
  start: number;
  end: number;
  wall: number;
  /** Server ms by kind of statement. */
  ms: Record<string, number>;
  server: number;
  table: string | null;
  rolledBack: boolean;
}

export interface Count {
  table: string | undefined;
  ms: number;
  at: number;
}

function batches(lines: LogLine[]): { batches: Batch[]; counts: Count[] } {
  const out: Batch[] = [];
  const counts: Count[] = [];
  let cur: Batch | null = null;
  for (const l of lines) {
    const kind = kindOf(l.label);
    if (kind === 'count') {
      counts.push({ table: /FROM (\w+)/.exec(l.label)?.[1], ms: l.ms, at: l.at });
      continue;
    }
    if (kind === 'begin') {
      cur = { start: l.at - l.ms, end: NaN, wall: NaN, ms: {}, server: 0, table: null, rolledBack: false };
      continue;
    }
    if (!cur) continue;
    cur.ms[kind] = (cur.ms[kind] ?? 0) + l.ms;
    cur.server += l.ms;
    if (kind === 'select') cur.table = /FROM (\w+)/.exec(l.label)?.[1] ?? null;
    if (kind === 'commit' || kind === 'rollback') {
      cur.end = l.at;
      cur.wall = cur.end - cur.start;
      cur.rolledBack = kind === 'rollback';
      out.push(cur);
      cur = null;
    }
  }
  return { batches: out, counts };
}

/** The distinct statements in `lines` (full text, whitespace collapsed), in first-seen order, with calls and server ms. */
export interface Statement extends Percentiles {
  sql: string;
  calls: number;
}

export function statements(lines: LogLine[]): Statement[] {
  const by = new Map<string, { sql: string; ms: number[] }>();
  for (const l of lines) {
    const s = by.get(l.sql) ?? { sql: l.sql, ms: [] };
    s.ms.push(l.ms);
    by.set(l.sql, s);
  }
  return [...by.values()].map((s) => ({ sql: s.sql, calls: s.ms.length, ...percentiles(s.ms) }));
}

export const TABLES = ['workflow_events', 'workflow_runs', 'approval_queue'];

/**
 * The cleanup's statements (every line of the log segment not sent by the claim connection) as
 * phases: per table its batches, rows (the snapshot's expired counts), seconds from the first BEGIN
 * to the last COMMIT, and the claims that fell inside it.
 */
export interface Phase {
  table: string;
  batches: Batch[];
  rows: number;
  seconds: number | null;
  claims: Percentiles | null;
}

export type Analysis = ReturnType<typeof analyse>;

export function analyse(lines: LogLine[], claimPid: number, before: Snapshot, claimSamples: readonly ClaimSample[]) {
  const mine = lines.filter((l) => l.pid !== claimPid);
  const { batches: bs, counts } = batches(mine);
  const phases = TABLES.map((t): Phase => {
    const pb = bs.filter((x) => x.table === t);
    const count = counts.find((x) => x.table === t);
    const start = count ? count.at - count.ms : pb[0]?.start;
    const end = pb.at(-1)?.end ?? count?.at;
    const rows = t === 'workflow_events' ? before.old_events : t === 'workflow_runs' ? before.old_runs : before.old_approvals;
    const claims = start && end ? percentiles(claimSamples.filter((x) => x.at >= start && x.at <= end).map((x) => x.select)) : null;
    return { table: t, batches: pb, rows, seconds: start && end ? (end - start) / 1000 : null, claims };
  });
  const longest = mine.reduce<{ ms: number; label: string }>((a, l) => (l.ms > a.ms ? l : a), { ms: 0, label: 'n/a' });
  const slow = lines.filter((l) => l.ms >= 1000).map((l) => ({ ...l, who: l.pid === claimPid ? 'claim' : 'cleanup' }));
  const timeouts = [...new Set(mine.filter((l) => kindOf(l.label) === 'set').map((l) => /=\s*(\S+)/.exec(l.sql)?.[1]))];
  return {
    mine,
    batches: bs,
    counts,
    phases,
    longest,
    slow,
    timeouts,
    rolledBack: bs.filter((b) => b.rolledBack).length,
    statements: statements(mine),
  };
}
