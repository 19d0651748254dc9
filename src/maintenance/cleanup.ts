import { appendFile, mkdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, Queryable } from '../db/types.js';
import {
  CLEANUP_TARGETS,
  countEventsOfOldRuns,
  countOld,
  deleteByKeys,
  deleteEventsOfRuns,
  lockOldBatch,
  setStatementTimeout,
  type CleanupTarget,
  type RetentionWindows,
} from './queries.js';

/** The guide's retention rules; windows in days. Pending approvals and audit_log are never deleted. */
export interface RetentionOptions extends RetentionWindows {
  /** Rows per transaction. */
  batchSize: number;
  /** Each batch statement is cut off after this long (SET LOCAL statement_timeout). */
  statementTimeoutMs: number;
  dryRun?: boolean;
  /** Write each deleted row as a JSON line to DIR/<table>.jsonl before it is deleted. */
  archiveDir?: string;
  onProgress?: (table: string, deleted: number, total: number) => void;
}

type CleanupResult = Record<CleanupTarget['table'], number>;

/** Smallest batch tried after statement timeouts before the cleanup gives up. */
const MIN_BATCH = 1;
const QUERY_CANCELED = '57014';

async function archive(dir: string | undefined, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (dir && rows.length > 0) await appendFile(join(dir, `${table}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Deletes one batch of a target; a batch of runs takes its remaining events along, archived and counted. */
async function deleteBatch(
  tx: Queryable,
  t: CleanupTarget,
  seconds: number,
  limit: number,
  opts: RetentionOptions,
  result: CleanupResult,
): Promise<number> {
  await setStatementTimeout(tx, opts.statementTimeoutMs);
  const rows = await lockOldBatch(tx, t, seconds, limit, Boolean(opts.archiveDir));
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r[t.key]);
  if (t.table === 'workflow_runs') {
    const events = await deleteEventsOfRuns(tx, ids, Boolean(opts.archiveDir));
    await archive(opts.archiveDir, 'workflow_events', events);
    result.workflow_events += events.length;
  }
  await archive(opts.archiveDir, t.table, rows);
  return deleteByKeys(tx, t, ids);
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
async function cleanTarget(db: Db, t: CleanupTarget, seconds: number, opts: RetentionOptions, result: CleanupResult): Promise<void> {
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
  for (const t of CLEANUP_TARGETS) {
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
