import type { Queryable } from '../db/types.js';

// The retention cleanup's SQL (what the guide's maintenance statements delete, walked in
// batches) and the once-a-day claim of background maintenance tasks.

/** Windows in days, per table (pending approvals and audit_log are never deleted). */
export interface RetentionWindows {
  runsDays: number;
  eventsDays: number;
  approvalsDays: number;
}

/** A table the cleanup deletes from, with its key and its age condition ($1: the window in seconds). */
export interface CleanupTarget {
  table: 'workflow_events' | 'workflow_runs' | 'approval_queue';
  key: string;
  /** The retention column: batches walk its index, which follows insertion order. */
  column: string;
  where: string;
  days: (w: RetentionWindows) => number;
}

/** The guide's three rules; events first, so an archive holds them before their runs' cascades could remove them. */
export const CLEANUP_TARGETS: readonly CleanupTarget[] = [
  {
    table: 'workflow_events',
    key: 'id',
    column: 'created_at',
    where: 'created_at < extract(epoch FROM now()) - $1',
    days: (w) => w.eventsDays,
  },
  {
    table: 'workflow_runs',
    key: 'id',
    column: 'started_at',
    where: 'started_at < extract(epoch FROM now()) - $1',
    days: (w) => w.runsDays,
  },
  {
    table: 'approval_queue',
    key: 'id',
    column: 'processed_at',
    where: "status <> 'pending' AND processed_at < extract(epoch FROM now()) - $1",
    days: (w) => w.approvalsDays,
  },
];

/** Rows of a target older than `seconds`. */
export async function countOld(db: Queryable, t: CleanupTarget, seconds: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.table} WHERE ${t.where}`, [seconds]);
  return rows[0]?.n ?? 0;
}

/** Events younger than their window that go with an old run (the guide's SQL removes them by cascade too). */
export async function countEventsOfOldRuns(db: Queryable, eventSeconds: number, runSeconds: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM workflow_events e JOIN workflow_runs r ON r.id = e.run_id
     WHERE r.started_at < extract(epoch FROM now()) - $2 AND NOT (e.created_at < extract(epoch FROM now()) - $1)`,
    [eventSeconds, runSeconds],
  );
  return rows[0]?.n ?? 0;
}

/** Cuts off every statement of the transaction after `ms` (SET LOCAL). */
export async function setStatementTimeout(tx: Queryable, ms: number): Promise<void> {
  await tx.exec(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`);
}

// A batch's statements as text, exported so that bench/cleanup explains exactly what a batch sends.
/** lockOldBatch's statement: $1 the window in seconds, $2 the batch size. */
export const lockOldBatchSql = (t: CleanupTarget, wholeRows: boolean): string =>
  `SELECT ${wholeRows ? '*' : t.key} FROM ${t.table} WHERE ${t.where} ORDER BY ${t.column} LIMIT $2 FOR UPDATE SKIP LOCKED`;
/** deleteEventsOfRuns's statement: $1 the run ids. */
export const deleteEventsOfRunsSql = (wholeRows: boolean): string =>
  `DELETE FROM workflow_events WHERE run_id = ANY($1::uuid[]) RETURNING ${wholeRows ? '*' : 'id'}`;
/** deleteByKeys's statement: $1 the keys. */
export const deleteByKeysSql = (t: CleanupTarget): string => `DELETE FROM ${t.table} WHERE ${t.key} = ANY($1)`;

/** Locks the oldest `limit` old rows of a target (skipping rows others hold); whole rows when `wholeRows`, else only the key. */
export async function lockOldBatch(
  tx: Queryable,
  t: CleanupTarget,
  seconds: number,
  limit: number,
  wholeRows: boolean,
): Promise<Record<string, unknown>[]> {
  const { rows } = await tx.query<Record<string, unknown>>(lockOldBatchSql(t, wholeRows), [seconds, limit]);
  return rows;
}

/** Deletes the events of the given runs; returns them (whole rows when `wholeRows`, else their ids). */
export async function deleteEventsOfRuns(tx: Queryable, runIds: unknown[], wholeRows: boolean): Promise<Record<string, unknown>[]> {
  const { rows } = await tx.query<Record<string, unknown>>(deleteEventsOfRunsSql(wholeRows), [runIds]);
  return rows;
}

/** Deletes a target's rows by key; returns how many went. */
export async function deleteByKeys(tx: Queryable, t: CleanupTarget, keys: unknown[]): Promise<number> {
  const res = await tx.query(deleteByKeysSql(t), [keys]);
  return res.rowCount;
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
