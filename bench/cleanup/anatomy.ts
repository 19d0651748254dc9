// Anatomy of one batch: the statements runCleanup (src/maintenance/cleanup.ts) sends for a batch
// of each table, one 5,000-row batch each under EXPLAIN (ANALYZE, BUFFERS) on the data as seeded,
// in transactions that are rolled back; plus two comparisons, and the indexes behind the foreign
// keys that a DELETE of runs or approvals fires.
import {
  CLEANUP_TARGETS,
  deleteByKeysSql,
  deleteEventsOfRunsSql,
  lockOldBatchSql,
  type CleanupTarget,
} from '../../src/maintenance/queries.js';
import { rows, type Client } from '../lib/db.js';
import { APPROVALS_DAYS, BATCH, DAY, RUNS_DAYS } from './config.js';

const target = (table: CleanupTarget['table']): CleanupTarget => {
  const t = CLEANUP_TARGETS.find((x) => x.table === table);
  if (!t) throw new Error(`no cleanup target ${table}`);
  return t;
};

/** What runCleanup sends for one batch of a table (without --archive), built by src/maintenance/queries.ts: checked against the server log. */
export const SHIPPED = {
  eventsSelect: lockOldBatchSql(target('workflow_events'), false),
  eventsDelete: deleteByKeysSql(target('workflow_events')),
  runsSelect: lockOldBatchSql(target('workflow_runs'), false),
  runsEventsDelete: deleteEventsOfRunsSql(false),
  runsDelete: deleteByKeysSql(target('workflow_runs')),
  approvalsSelect: lockOldBatchSql(target('approval_queue'), false),
  approvalsDelete: deleteByKeysSql(target('approval_queue')),
};

export interface AnatomyRow {
  label: string;
  sql: string;
  shipped: boolean;
  /** Execution Time, ms. */
  exec: number;
  /** The plan's trigger lines. */
  trig: string[];
  /** The top node's Buffers line. */
  buffers: string;
  rows: number;
  scans: string[];
}

const pick = (lines: string[]): Omit<AnatomyRow, 'label' | 'sql' | 'shipped'> => {
  const trig = lines.filter((l) => /^Trigger /.test(l.trim())).map((l) => l.trim());
  const exec = Number(/Execution Time: ([\d.]+)/.exec(lines.join('\n'))?.[1]);
  const top = lines.find((l) => /Buffers:/.test(l))?.trim() ?? '';
  const actualRows = Number(/actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(lines[0] ?? '')?.[1]);
  const scans = lines
    .map((l) => l.trim())
    .filter((l) => /(Index|Seq|Bitmap).*Scan/.test(l))
    .map((l) =>
      l
        .replace(/\s+\(cost=.*$/, '')
        .replace(/^->\s+/, '')
        .replace(/ \(actual.*$/, ''),
    );
  return { exec, trig, buffers: top, rows: actualRows, scans: [...new Set(scans)] };
};

/** The foreign keys that reference workflow_runs or approval_queue, each with the indexes of its table that lead with its column. */
export interface ForeignKey {
  ref: string;
  name: string;
  tbl: string;
  col: string;
  on_delete: string;
  indexes: string | null;
  est_rows: string;
}

function foreignKeys(c: Client): Promise<ForeignKey[]> {
  return rows<ForeignKey>(
    c,
    `SELECT c.confrelid::regclass::text AS ref, c.conname AS name, c.conrelid::regclass::text AS tbl, a.attname AS col,
      CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete,
      (SELECT string_agg(i.indexrelid::regclass::text || coalesce(' WHERE ' || pg_get_expr(i.indpred, i.indrelid), ''), ', ' ORDER BY 1)
         FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]) AS indexes,
      greatest(0, (SELECT reltuples FROM pg_class WHERE oid = c.conrelid))::bigint AS est_rows
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.confrelid IN ('workflow_runs'::regclass, 'approval_queue'::regclass) ORDER BY 1 DESC, 3, 4`,
  );
}

export interface Sizes {
  aq_pages: number;
  aq_rows: number;
  runs_pages: number;
  events_pages: number;
  runs_total: string;
  events_total: string;
}

export interface Anatomy {
  rows: AnatomyRow[];
  sizes: Sizes;
  fks: ForeignKey[];
}

/** Single batches under EXPLAIN (ANALYZE, BUFFERS), each in a transaction that is rolled back. */
export async function anatomy(c: Client): Promise<Anatomy> {
  const runs = RUNS_DAYS * DAY;
  const out: AnatomyRow[] = [];
  const explain = async (label: string, sql: string, params: unknown[], shipped = false) => {
    const plan = await rows<{ 'QUERY PLAN': string }>(c, `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    const p = pick(plan.map((r) => r['QUERY PLAN']));
    out.push({ label, sql, shipped, ...p });
    return p;
  };
  const inTx = async (fn: () => Promise<unknown>) => {
    await c.query('BEGIN');
    try {
      await c.query('SET LOCAL statement_timeout = 60000');
      await fn();
    } finally {
      await c.query('ROLLBACK');
    }
  };
  const ids = async (sql: string, params: unknown[]) =>
    (await rows<{ id: string | number }>(c, sql.replace(' FOR UPDATE SKIP LOCKED', ''), params)).map((r) => r.id);

  // Events phase.
  await inTx(() => explain('events: SELECT … ORDER BY created_at … FOR UPDATE SKIP LOCKED', SHIPPED.eventsSelect, [runs, BATCH], true));
  await inTx(async () => {
    const ev = await ids(SHIPPED.eventsSelect, [runs, BATCH]);
    await explain('events: DELETE … WHERE id = ANY($1)', SHIPPED.eventsDelete, [ev], true);
  });
  // Runs phase: runCleanup deletes the batch's events by run_id, then the runs.
  await inTx(() => explain('runs: SELECT … ORDER BY started_at … FOR UPDATE SKIP LOCKED', SHIPPED.runsSelect, [runs, BATCH], true));
  await inTx(() =>
    explain(
      'for comparison, not shipped: the same SELECT ORDER BY id (random uuids)',
      SHIPPED.runsSelect.replace('ORDER BY started_at', 'ORDER BY id'),
      [runs, BATCH],
    ),
  );
  const runsBatch = async (dropIndex: boolean) => {
    const r = await ids(SHIPPED.runsSelect, [runs, BATCH]);
    // As in the real run, the events phase has already deleted these runs' (expired) events.
    await c.query(SHIPPED.runsEventsDelete, [r]);
    if (dropIndex) {
      await c.query('DROP INDEX approval_queue_run_idx');
      await explain(
        'for comparison, not shipped: the same DELETE without approval_queue_run_idx (dropped inside this rolled-back transaction)',
        SHIPPED.runsDelete,
        [r],
      );
      return;
    }
    await explain(
      "runs: DELETE FROM workflow_events WHERE run_id = ANY($1) … (the runs' events, already gone as in the real run)",
      SHIPPED.runsEventsDelete,
      [r],
      true,
    );
    await explain('runs: DELETE FROM workflow_runs WHERE id = ANY($1)', SHIPPED.runsDelete, [r], true);
  };
  await inTx(() => runsBatch(false));
  await inTx(() => runsBatch(true));
  // Approvals phase (the seed has fewer expired approvals than a batch: this is the whole phase).
  const approvals = APPROVALS_DAYS * DAY;
  await inTx(() =>
    explain('approvals: SELECT … ORDER BY processed_at … FOR UPDATE SKIP LOCKED', SHIPPED.approvalsSelect, [approvals, BATCH], true),
  );
  await inTx(async () => {
    const a = await ids(SHIPPED.approvalsSelect, [approvals, BATCH]);
    await explain('approvals: DELETE … WHERE id = ANY($1)', SHIPPED.approvalsDelete, [a], true);
  });

  const [sz] = await rows<Sizes>(
    c,
    `SELECT (pg_relation_size('approval_queue') / 8192)::int AS aq_pages, (SELECT count(*) FROM approval_queue)::int AS aq_rows,
    (pg_relation_size('workflow_runs') / 8192)::int AS runs_pages, (pg_relation_size('workflow_events') / 8192)::int AS events_pages,
    pg_size_pretty(pg_total_relation_size('workflow_runs')) AS runs_total, pg_size_pretty(pg_total_relation_size('workflow_events')) AS events_total`,
  );
  if (!sz) throw new Error('no sizes');
  return { rows: out, sizes: sz, fks: await foreignKeys(c) };
}

/** The anatomy's shipped statements that the cleanup did not send (not found verbatim in its server log). */
export function notInLog(anat: Anatomy, statements: readonly { sql: string }[]): string[] {
  const sent = new Set(statements.map((s) => s.sql));
  return [...new Set(anat.rows.filter((r) => r.shipped).map((r) => r.sql))].filter((sql) => !sent.has(sql));
}
