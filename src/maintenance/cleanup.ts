import { appendFile, mkdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, Queryable } from '../db/types.js';

/** The guide's retention rules; windows in days. Pending approvals and audit_log are never deleted. */
export interface RetentionOptions {
  runsDays: number;
  eventsDays: number;
  approvalsDays: number;
  /** Rows per transaction. */
  batchSize: number;
  /** Each batch statement is cut off after this long (SET LOCAL statement_timeout). */
  statementTimeoutMs: number;
  dryRun?: boolean;
  /** Write each deleted row as a JSON line to DIR/<table>.jsonl before it is deleted. */
  archiveDir?: string;
  onProgress?: (table: string, deleted: number, total: number) => void;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  runsDays: 90,
  eventsDays: 90,
  approvalsDays: 30,
  batchSize: 5000,
  statementTimeoutMs: 5000,
};

interface Target {
  table: 'workflow_events' | 'workflow_runs' | 'approval_queue';
  key: string;
  /** The retention column: batches walk its index, which follows insertion order. */
  column: string;
  where: string;
  days: (o: RetentionOptions) => number;
}

// Events first, so an archive holds them before their runs' cascades could remove them.
const TARGETS: readonly Target[] = [
  {
    table: 'workflow_events',
    key: 'id',
    column: 'created_at',
    where: 'created_at < extract(epoch FROM now()) - $1',
    days: (o) => o.eventsDays,
  },
  {
    table: 'workflow_runs',
    key: 'id',
    column: 'started_at',
    where: 'started_at < extract(epoch FROM now()) - $1',
    days: (o) => o.runsDays,
  },
  {
    table: 'approval_queue',
    key: 'id',
    column: 'processed_at',
    where: "status <> 'pending' AND processed_at < extract(epoch FROM now()) - $1",
    days: (o) => o.approvalsDays,
  },
];

export type CleanupResult = Record<Target['table'], number>;

/** Smallest batch tried after statement timeouts before the cleanup gives up. */
const MIN_BATCH = 1;
const QUERY_CANCELED = '57014';

async function countOld(db: Queryable, t: Target, seconds: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.table} WHERE ${t.where}`, [seconds]);
  return rows[0]?.n ?? 0;
}

/** Events younger than their window that go with an old run (the guide's SQL removes them by cascade too). */
async function countEventsOfOldRuns(db: Queryable, eventSeconds: number, runSeconds: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM workflow_events e JOIN workflow_runs r ON r.id = e.run_id
     WHERE r.started_at < extract(epoch FROM now()) - $2 AND NOT (e.created_at < extract(epoch FROM now()) - $1)`,
    [eventSeconds, runSeconds],
  );
  return rows[0]?.n ?? 0;
}

async function archive(dir: string | undefined, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (dir && rows.length > 0) await appendFile(join(dir, `${table}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Deletes one batch of a target; a batch of runs takes its remaining events along, archived and counted. */
async function deleteBatch(
  tx: Queryable,
  t: Target,
  seconds: number,
  limit: number,
  opts: RetentionOptions,
  result: CleanupResult,
): Promise<number> {
  await tx.exec(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(opts.statementTimeoutMs))}`);
  const { rows } = await tx.query<Record<string, unknown>>(
    `SELECT ${opts.archiveDir ? '*' : t.key} FROM ${t.table} WHERE ${t.where} ORDER BY ${t.column} LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [seconds, limit],
  );
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r[t.key]);
  if (t.table === 'workflow_runs') {
    const events = await tx.query<Record<string, unknown>>(
      `DELETE FROM workflow_events WHERE run_id = ANY($1::uuid[]) RETURNING ${opts.archiveDir ? '*' : 'id'}`,
      [ids],
    );
    await archive(opts.archiveDir, 'workflow_events', events.rows);
    result.workflow_events += events.rowCount;
  }
  await archive(opts.archiveDir, t.table, rows);
  const res = await tx.query(`DELETE FROM ${t.table} WHERE ${t.key} = ANY($1)`, [ids]);
  return res.rowCount;
}

/** Remembers the archive files' sizes, to cut off what a rolled-back batch appended. */
async function archiveMark(dir: string | undefined): Promise<() => Promise<void>> {
  if (!dir) return () => Promise.resolve();
  const files = ['workflow_events', 'workflow_runs', 'approval_queue'].map((table) => join(dir, `${table}.jsonl`));
  const sizes = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return async () => {
    await Promise.all(files.map((f, i) => truncate(f, sizes[i]).catch(() => undefined)));
  };
}

function isStatementTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === QUERY_CANCELED;
}

/**
 * Deletes one target's old rows batch by batch. A batch that hits the statement timeout is
 * rolled back and retried at half the size (down to one row), so a slow table slows the
 * cleanup instead of failing it.
 */
async function cleanTarget(db: Db, t: Target, seconds: number, opts: RetentionOptions, result: CleanupResult): Promise<void> {
  let total = opts.onProgress ? await countOld(db, t, seconds) : 0;
  let limit = opts.batchSize;
  let done = 0;
  for (;;) {
    let deleted: number;
    const before = result.workflow_events;
    const rollBackArchive = await archiveMark(opts.archiveDir);
    try {
      deleted = await db.transaction((tx) => deleteBatch(tx, t, seconds, limit, opts, result));
    } catch (err) {
      result.workflow_events = before;
      await rollBackArchive();
      if (!isStatementTimeout(err) || limit <= MIN_BATCH) throw err;
      limit = Math.max(MIN_BATCH, Math.floor(limit / 2));
      continue;
    }
    done += deleted;
    result[t.table] += deleted;
    total = Math.max(total, done);
    opts.onProgress?.(t.table, done, total);
    if (deleted < limit) break;
  }
}

/**
 * Deletes what the guide's maintenance SQL deletes, in batches of a few thousand rows per
 * transaction with a statement timeout, so a scheduler keeps running alongside. With
 * `dryRun` it only counts; with `archiveDir` every row is written out before it goes.
 */
export async function runCleanup(db: Db, opts: RetentionOptions): Promise<CleanupResult> {
  const result: CleanupResult = { workflow_events: 0, workflow_runs: 0, approval_queue: 0 };
  if (opts.archiveDir) await mkdir(opts.archiveDir, { recursive: true });
  for (const t of TARGETS) {
    const seconds = t.days(opts) * 86_400;
    if (opts.dryRun) {
      const total = await countOld(db, t, seconds);
      result[t.table] += total;
      if (t.table === 'workflow_runs') result.workflow_events += await countEventsOfOldRuns(db, opts.eventsDays * 86_400, seconds);
      opts.onProgress?.(t.table, 0, total);
      continue;
    }
    await cleanTarget(db, t, seconds, opts, result);
  }
  return result;
}

/** Claims today's run of a daily task: true for exactly one caller across replicas. */
export async function claimDailyTask(db: Queryable, task: string): Promise<boolean> {
  const res = await db.query('INSERT INTO maintenance_log (task, day) VALUES ($1, current_date) ON CONFLICT DO NOTHING', [task]);
  return res.rowCount === 1;
}

/** Records how a daily task ended. */
export async function finishDailyTask(db: Queryable, task: string, result: Record<string, unknown>): Promise<void> {
  await db.query(
    'UPDATE maintenance_log SET finished_at = extract(epoch FROM now()), result = $2::jsonb WHERE task = $1 AND day = current_date',
    [task, JSON.stringify(result)],
  );
}

/** Gives up today's claim (the task failed), so it is tried again. */
export async function releaseDailyTask(db: Queryable, task: string): Promise<void> {
  await db.query('DELETE FROM maintenance_log WHERE task = $1 AND day = current_date AND finished_at IS NULL', [task]);
}
