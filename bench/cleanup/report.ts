// The `## Cleanup` section of bench/RESULTS.md, from what bench/cleanup.ts measured. Every number
// comes from this run; the prose says what src/maintenance/cleanup.ts does and what the run saw of it.
import type { MachineInfo } from '../lib/machine.js';
import { table, type Cell } from '../lib/markdown.js';
import type { Wait } from '../lib/others.js';
import { int, percentiles, round } from '../lib/stats.js';
import type { Anatomy, Sizes } from './anatomy.js';
import type { Baseline, ClaimSample, Sample } from './claim.js';
import type { CleanupResult, SeedInfo } from './data.js';
import type { Analysis, LogLine, Phase, Statement } from './serverlog.js';
import {
  AFTER_S,
  APPROVALS_DAYS,
  BASELINE_S,
  BATCH,
  CLAIM_LIMIT,
  CLAIM_PERIOD_MS,
  DUE,
  EVENTS_PER_RUN,
  EXPIRED_RUNS,
  NULL_RUN_EVENTS,
  RECENT_RUNS,
  RUNS_DAYS,
  WORKFLOWS,
} from './config.js';

/** `levqor cleanup --json` as measured (measure.ts). */
export interface CleanupRun {
  code: number | null;
  stderr: string;
  result: CleanupResult;
  ms: number;
  nodeCpu: number;
  pgCpu: number | null;
  commits: number;
  walMB: number;
  checkpoints: number;
}

/** `levqor cleanup --dry-run --json` as measured. */
export interface DryRun {
  code: number | null;
  stderr: string;
  ms: number;
  result: CleanupResult | null;
  statements: Statement[];
}

export interface ReportContext {
  machine: MachineInfo;
  date: string;
  build: { sha: string; cleanupSha: string; head: string; dirty: number };
  seedInfo: SeedInfo;
  sizes: Sizes;
  anat: Anatomy;
  base: Baseline;
  during: { samples: ClaimSample[]; loads: (number | 'n/a')[]; busy: boolean };
  after: Baseline;
  cleanup: CleanupRun;
  an: Analysis;
  dry: DryRun;
  verified: string;
  missing: string[];
  sample: Sample;
  loadsStart: string;
  loadsEnd: string;
  logPath: string;
  wait: Wait;
  others: string[];
}

function claimRow(label: string, samples: readonly ClaimSample[], loads: string): Cell[] {
  const s = percentiles(samples.map((x) => x.select));
  const t = percentiles(samples.map((x) => x.tx));
  return [label, s.n, round(s.min), round(s.p50), round(s.p99), round(s.max), round(t.p50), round(t.p99), round(t.max), loads];
}

const code = (s: string) => `\`${s.replaceAll('|', '\\|')}\``;
const pct = (part: number | null, whole: number | null) =>
  part === null || whole === null ? 'n/a' : `${Math.round((part / whole) * 100)} %`;
const p50max = (xs: number[], d = 0) => {
  const p = percentiles(xs);
  return `${round(p.p50, d)} / ${round(p.max, d)}`;
};

function phaseRows(phases: Phase[]): Cell[][] {
  return phases.map((p) => {
    const w = percentiles(p.batches.map((x) => x.wall));
    const ms = (k: string) => p.batches.map((x) => x.ms[k] ?? 0);
    const tenth = Math.max(1, Math.floor(p.batches.length / 10));
    const mean = (xs: { wall: number }[]) => xs.reduce((a, x) => a + x.wall, 0) / Math.max(1, xs.length);
    return [
      p.table,
      p.batches.length,
      p.batches.filter((b) => b.rolledBack).length,
      int(p.rows),
      round(p.seconds, 1),
      int(p.rows / Math.max(p.seconds ?? NaN, 1e-9)),
      p50max(ms('set'), 1),
      p50max(ms('select')),
      p.table === 'workflow_runs' ? p50max(ms('delete events of runs')) : '–',
      p50max(ms('delete')),
      p50max(ms('commit'), 1),
      `${round(w.p50, 0)} / ${round(w.p99, 0)} / ${round(w.max, 0)}`,
      `${round(mean(p.batches.slice(0, tenth)), 0)} → ${round(mean(p.batches.slice(-tenth)), 0)}`,
      p.claims ? `${p.claims.n} / ${round(p.claims.p50)} / ${round(p.claims.p99)} / ${round(p.claims.max)}` : '–',
    ];
  });
}

/** Statements at or over 1 s, grouped by session and statement, against all calls of that statement. */
function slowRows(slow: Analysis['slow'], mine: LogLine[]): Cell[][] {
  const groups = new Map<string, { who: string; label: string; n: number; max: number }>();
  for (const l of slow) {
    const key = `${l.who}\u0000${l.label}`;
    const g = groups.get(key) ?? { who: l.who, label: l.label, n: 0, max: 0 };
    g.n++;
    g.max = Math.max(g.max, l.ms);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const all = g.who === 'cleanup' ? mine.filter((l) => l.label === g.label) : [];
    return [
      g.who,
      code(g.label),
      g.n,
      all.length || '–',
      all.length ? round(percentiles(all.map((l) => l.ms)).p50, 0) : '–',
      round(g.max, 0),
    ];
  });
}

const statementRows = (statements: Statement[]): Cell[][] =>
  statements.map((s) => [code(s.sql), int(s.calls), round(s.p50, 1), round(s.p99, 1), round(s.max, 1)]);

/** "Where the time goes": one bullet per finding, each from this run's numbers. */
function diagnosis(ctx: ReportContext): string {
  const { cleanup, an: a, anat, sample, dry } = ctx;
  const wall = cleanup.ms / 1000;
  const phase = (t: string): Phase =>
    a.phases.find((p) => p.table === t) ?? { table: t, batches: [], rows: 0, seconds: null, claims: null };
  const runs = phase('workflow_runs');
  const events = phase('workflow_events');
  const approvals = phase('approval_queue');
  const rp = (k: string) => percentiles(runs.batches.map((x) => x.ms[k] ?? 0)).p50;
  const rw = percentiles(runs.batches.map((x) => x.wall)).p50;
  const row = (prefix: string) => anat.rows.find((r) => r.label.startsWith(prefix));
  const trig = (r: Anatomy['rows'][number] | undefined, name: string) =>
    Number(new RegExp(`${name}: time=([\\d.]+)`).exec(r?.trig.join(' ') ?? '')?.[1] ?? NaN);
  const dirtied = (r: Anatomy['rows'][number] | undefined) => Number(/dirtied=(\d+)/.exec(r?.buffers ?? '')?.[1] ?? 0);
  const selTime = row('runs: SELECT');
  const selId = row('for comparison, not shipped: the same SELECT ORDER BY id');
  const evSel = row('events: SELECT');
  const delEvents = row('runs: DELETE FROM workflow_events');
  const delRuns = row('runs: DELETE FROM workflow_runs');
  const delNoIdx = row('for comparison, not shipped: the same DELETE without');
  const delApprovals = row('approvals: DELETE');
  const fkTimes = (ref: string, r: Anatomy['rows'][number] | undefined) =>
    anat.fks
      .filter((f) => f.ref === ref)
      .map((f) => `${f.tbl}.${f.col} (ON DELETE ${f.on_delete}) ${round(trig(r, f.name), 0)} ms`)
      .join(', ');
  const aqFk = anat.fks.find((f) => f.tbl === 'approval_queue' && f.col === 'run_id');
  const aqIdx = aqFk?.indexes?.split(', ').find((i) => i.startsWith('approval_queue_run_idx'));
  const unindexed = (ref: string) => {
    const fs = anat.fks.filter((f) => f.ref === ref && !f.indexes);
    return fs.length
      ? `
  No index leads with ${fs.map((f) => `${f.tbl}.${f.col} (~${int(Number(f.est_rows))} rows here)`).join(', ')}.`
      : '';
  };
  const claimLockWaits = [...sample.counts.claim].filter(([k]) => /^active: Lock:/.test(k)).reduce((x, [, n]) => x + n, 0);
  const counts = dry.statements.filter((s) => /^SELECT count\(\*\)/.test(s.sql) && !/ JOIN /.test(s.sql));
  const timeout = a.timeouts.length === 1 ? `${a.timeouts[0]} ms` : a.timeouts.join(', ') || 'n/a';
  const bullets = [
    `- **Phases**: events ${round(events.seconds, 1)} s (${pct(events.seconds, wall)} of the wall time), runs ${round(runs.seconds, 1)} s
  (${pct(runs.seconds, wall)}), processed approvals ${round(approvals.seconds, 1)} s; ${int(events.rows / (events.seconds ?? NaN))} events/s against
  ${int(runs.rows / (runs.seconds ?? NaN))} runs/s. A median runs batch (${round(rw, 0)} ms from BEGIN to the end of COMMIT) is the SELECT ${round(rp('select'), 0)} ms,
  runCleanup's \`DELETE FROM workflow_events WHERE run_id = ANY($1)\` ${round(rp('delete events of runs'), 0)} ms and \`DELETE FROM workflow_runs\`
  ${round(rp('delete'), 0)} ms (server times).`,
    `- **Batches walk the retention column's index**: each SELECT is \`ORDER BY\` created_at, started_at or processed_at, so a batch takes the
  oldest rows, in the order they were written. In the anatomy, 5,000 runs \`ORDER BY started_at\` (${selTime?.scans.join(', ') || 'n/a'})
  locked and dirtied ${int(dirtied(selTime))} heap pages in ${round(selTime?.exec, 0)} ms; the same SELECT \`ORDER BY id\` (random uuids, not shipped)
  ${int(dirtied(selId))} pages in ${round(selId?.exec, 0)} ms. Events: ${evSel?.scans.join(', ') || 'n/a'}, ${int(dirtied(evSel))} pages dirtied.
  The whole cleanup wrote ${int(cleanup.walMB)} MiB of WAL (server-wide) with ${cleanup.checkpoints} checkpoint(s) during it.`,
    `- **\`DELETE FROM workflow_runs\` fires one trigger per foreign key to workflow_runs for every deleted run** (anatomy, ${int(BATCH)} runs,
  ${round(delRuns?.exec, 0)} ms in all): ${fkTimes('workflow_runs', delRuns)}.${
    aqIdx
      ? ` approval_queue.run_id has ${code(aqIdx)} (migrations/0004_cleanup_index.sql);
  with that index dropped inside the rolled-back transaction, its trigger took ${round(trig(delNoIdx, aqFk?.name ?? ''), 0)} ms and the DELETE
  ${round(delNoIdx?.exec, 0)} ms, with ${int(ctx.sizes.aq_rows)} approvals (${ctx.sizes.aq_pages} pages) here.`
      : ' approval_queue.run_id has **no** index approval_queue_run_idx.'
  }${unindexed('workflow_runs')}`,
    `- **\`DELETE FROM approval_queue\`** (the approvals phase is a single batch of ${int(approvals.rows)} here) took
  ${p50max(approvals.batches.map((x) => x.ms.delete ?? 0))} ms (p50 / max) in the run; in the anatomy ${round(delApprovals?.exec, 0)} ms, of which the triggers per deleted approval:
  ${fkTimes('approval_queue', delApprovals)}.${unindexed('approval_queue')}`,
    `- **The runs' own events**: runCleanup deletes each runs batch's remaining events explicitly (\`… RETURNING id\`), so that they are counted
  (and archived with \`--archive\`). Here there are none left: every event of an expired run is itself expired (checked in the seed) and
  went in the events phase; the statement still took ${round(rp('delete events of runs'), 0)} ms per runs batch (median; ${round(delEvents?.exec, 0)} ms
  under EXPLAIN, ${Number.isNaN(delEvents?.rows) ? 'n/a' : int(delEvents?.rows)} rows), ${pct(rp('delete events of runs'), rw)} of a median runs batch.`,
    `- **\`count(*)\` only for a progress bar or a dry run**: the measured \`levqor cleanup --json\` sent ${a.counts.length} \`count(*)\` statement(s)
  (it shows no progress bar). \`levqor cleanup --dry-run --json\` took ${round(dry.ms / 1000, 1)} s; its counts, outside any batch and without
  the batches' \`SET LOCAL statement_timeout\`: ${counts.map((s) => `${code(s.sql.replace(/ WHERE .*/, ' WHERE …'))} ${round(s.max, 0)} ms`).join(', ') || 'none found in the log'}${
    dry.statements.some((s) => /JOIN workflow_runs/.test(s.sql))
      ? `, and the events of old runs still inside their window (a join) ${round(dry.statements.find((s) => /JOIN workflow_runs/.test(s.sql))?.max, 0)} ms`
      : ''
  }.
  A cleanup on a terminal counts each table the same way before its batches.`,
    `- **Statement timeout**: every batch ran under \`SET LOCAL statement_timeout\` = ${timeout} (from the server log). A batch cut off by it is
  rolled back and retried at half the size, down to one row; in this run ${a.rolledBack} batch(es) were rolled back, and the longest statement
  (${round(a.longest.ms, 0)} ms) stayed ${a.timeouts.length === 1 ? `${round(Number(a.timeouts[0]) / Math.max(a.longest.ms, 1e-9), 1)}× under the limit` : 'under it'}.`,
    `- **The claim is not blocked by the cleanup**: the claim backend was seen waiting on a heavyweight lock in ${claimLockWaits} of ${sample.samples}
  samples (the claim locks workflows, the cleanup old runs and events); what raises its tail is CPU and I/O on ${ctx.machine.nproc} shared cores.`,
  ];
  return bullets.join('\n');
}

export function report(ctx: ReportContext): string {
  const { machine, date, build, seedInfo, sizes, anat, base, during, after, cleanup, an: a, dry, verified, sample } = ctx;
  const b = percentiles(base.samples.map((x) => x.select));
  const d = percentiles(during.samples.map((x) => x.select));
  const bt = percentiles(base.samples.map((x) => x.tx));
  const dt = percentiles(during.samples.map((x) => x.tx));
  const ratio = d.p99 / b.p99;
  const ratioTx = dt.p99 / bt.p99;
  const rows = cleanup.result.workflow_runs + cleanup.result.workflow_events;
  const rate = rows / (cleanup.ms / 1000);
  const seedTotal = seedInfo.times.reduce((x, t) => x + t.ms, 0);
  const stateLine = (m: Map<string, number>) =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${Math.round((v / sample.samples) * 100)} %`)
      .join(', ');
  const pass = (ok: boolean) => (ok ? 'met' : '**not met**');
  const busy = (m: { busy: boolean }) => (m.busy ? ' — **another benchmark was running**' : '');
  const slow = slowRows(a.slow, a.mine);
  const anatRows = anat.rows.map((r) => [
    r.label,
    round(r.exec, 0),
    r.trig.map((t) => code(t.replace(/^Trigger (for constraint )?/, ''))).join('<br>') || '–',
    code(r.buffers.replace('Buffers: ', '')),
    r.scans.map(code).join('<br>'),
  ]);
  const fkRows = anat.fks.map((f) => [
    f.ref,
    `${f.tbl}.${f.col}`,
    f.on_delete,
    f.indexes ? code(f.indexes) : '**none**',
    int(Number(f.est_rows)),
  ]);

  return `_Written by \`npm run bench:cleanup\` (bench/cleanup.ts) on ${date}. Rerun it to refresh this section._

### Summary

- **Cleanup of ${int(cleanup.result.workflow_runs)} runs + ${int(cleanup.result.workflow_events)} events** (and ${int(cleanup.result.approval_queue)} processed approvals):
  **${round(cleanup.ms / 1000, 1)} s** wall (\`levqor cleanup --json\`, process start to exit), **${int(rate)} rows/s** (runs + events ÷ wall).
- **Claim p99 during cleanup / without: ${round(ratio)}×** (${round(d.p99)} ms against ${round(b.p99)} ms; the claim SELECT's round trip;
  the whole BEGIN … ROLLBACK transaction: ${round(ratioTx)}×). Target ≤ 2×: ${pass(ratio <= 2)}. Max during: ${round(d.max)} ms (without: ${round(b.max)} ms).
- **Longest statement of the cleanup: ${round(a.longest.ms, 0)} ms**, \`${a.longest.label}\`. Target no statement over 1 s: ${pass(a.slow.length === 0)}
  (${a.slow.length} statement(s) of the scratch database at or over 1,000 ms during the cleanup, listed below).
- Verified after the cleanup: ${verified}.
- \`levqor cleanup --dry-run --json\` beforehand: ${round(dry.ms / 1000, 1)} s, printed counts equal to what the seed holds (checked).
- The anatomy's statements marked as shipped were ${ctx.missing.length ? `**not all** found in the server log of the run: ${ctx.missing.map(code).join(', ')}` : 'all found verbatim in the server log of the run'}.

### Where the time goes

\`levqor cleanup\` (src/maintenance/cleanup.ts) deletes events older than ${RUNS_DAYS} days, then runs older than ${RUNS_DAYS} days, then processed
approvals older than ${APPROVALS_DAYS} days, in batches of ${int(BATCH)} rows: one transaction per batch, \`SET LOCAL statement_timeout\`,
\`SELECT id … ORDER BY <retention column> LIMIT ${BATCH} FOR UPDATE SKIP LOCKED\`, then \`DELETE … WHERE id = ANY($1)\` (for runs, their remaining
events first). The statements below are as the server logged them.

${diagnosis(ctx)}

### Machine and build

- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}; memory ${machine.memGiB} GiB. Postgres, the cleanup and the claim loop share these cores.
- ${machine.postgres} on the same machine (${machine.postgresSettings}); autovacuum was also switched off on the scratch tables.
- Node ${machine.node}. Levqor: lib/cli.js built from git ${build.head}${build.dirty ? ` plus uncommitted changes (${build.dirty} files under src/ or migrations/)` : ''},
  sha256 ${build.sha}…; src/maintenance/cleanup.ts sha256 ${build.cleanupSha}…; the cleanup ran a copy of lib/ taken at start.
- Load average (1 / 5 / 15 min) at start: ${ctx.loadsStart}; at end: ${ctx.loadsEnd}. The machine and the server are shared with other
  sessions (test suites, other benchmarks): on average ${round(sample.othersMean, 1)} backends of other databases were active during the
  cleanup. Single numbers carry ±20 % noise or more; the load is listed with each measurement.
- ${ctx.wait.waitedS >= 1 ? `Waited ${Math.round(ctx.wait.waitedS)} s at start for other benchmarks to finish${ctx.wait.idleOthers ? ` (then went on: the ${ctx.wait.idleOthers} left were idle, waiting for this one)` : ''}. ` : ''}${ctx.others.length ? `Other benchmarks seen during the measurements: ${ctx.others.map(code).join(', ')} (flagged in the tables).` : 'No other benchmark (bench/**) ran during the measurements.'}

### Commands

\`\`\`sh
npm run bench:cleanup          # node scripts/build.mjs && node scripts/bench.mjs cleanup [--keep] [--baseline-seconds N]
DATABASE_URL=postgres://…/DB node lib/cli.js migrate
DATABASE_URL=postgres://…/DB PGOPTIONS='-c log_min_duration_statement=0 -c log_parameter_max_length=0' node lib/cli.js cleanup --dry-run --json
ALTER DATABASE DB SET log_min_duration_statement = 1000; ALTER DATABASE DB SET log_parameter_max_length = 0
DATABASE_URL=postgres://…/DB PGOPTIONS='-c log_min_duration_statement=0 -c log_parameter_max_length=0' node lib/cli.js cleanup --json
\`\`\`

The cleanup's own sessions log every statement (PGOPTIONS; a per-session override of the database's 1,000 ms, which
still applies to the claim connection), so every batch is timed by the server: durations and times are read from
\`${ctx.logPath}\`. \`pg_stat_statements\` is not in \`shared_preload_libraries\` on this server, so it was not used.

**Seed** (${round(seedTotal / 1000, 1)} s in all, one \`INSERT … SELECT … generate_series\` per table and kind of row, nothing disabled but autovacuum):
${seedInfo.times.map((t) => `${t.label} ${t.rows === null ? '' : `${int(t.rows)} `}${round(t.ms / 1000, 1)} s`).join('; ')}.
One tenant, ${WORKFLOWS} workflows of which ${DUE} are due (\`next_run_at\` a minute ago); ${int(EXPIRED_RUNS)} succeeded runs started 91–322 days ago
(one per 20 s, oldest first; random uuid ids), ${EVENTS_PER_RUN} events each; ${int(RECENT_RUNS)} recent runs over the last 89 days (5 % failed, 20 running,
50 waiting for approval) with ${EVENTS_PER_RUN} events each, and ${int(NULL_RUN_EVENTS)} recent events without a run; ${int(sizes.aq_rows)} approvals (${sizes.aq_pages} pages):
500 processed on expired runs and 300 processed 31–89 days ago (both expired), 950 processed in the last 29 days and 50 pending (both kept),
one vote and one or two approval events each; 1,000 audit_log rows up to a year old. Then \`VACUUM ANALYZE\` (old rows in production have
long been vacuumed and analyzed) and a \`CHECKPOINT\` before each measurement. Sizes: workflow_runs ${sizes.runs_total} (heap ${int(sizes.runs_pages)} pages),
workflow_events ${sizes.events_total} (heap ${int(sizes.events_pages)} pages), indexes included.

**Claim loop**: one connection runs the scheduler's claim transaction (its due scan, DUE_WORKFLOWS_SQL, imported from src/scheduler/queries.ts) —
\`BEGIN\`; the \`SELECT … FOR UPDATE OF w SKIP LOCKED\` with $1 = ${CLAIM_LIMIT}, $2 = NULL; \`ROLLBACK\` — one claim every ${CLAIM_PERIOD_MS} ms
(back to back when one takes longer), so the same ${DUE} workflows are claimed every time (checked: every claim returned ${DUE}).
"select" is the SELECT's round trip, "tx" the whole transaction.

### Claim latency (ms)

${table(
  [
    'claim loop',
    'claims',
    'select min',
    'select p50',
    'select p99',
    'select max',
    'tx p50',
    'tx p99',
    'tx max',
    'load at start / end / max',
  ],
  [
    claimRow(`without cleanup, ${BASELINE_S} s before${busy(base)}`, base.samples, base.loads.join(' / ')),
    claimRow(`during cleanup (${round(cleanup.ms / 1000, 1)} s)${busy(during)}`, during.samples, during.loads.join(' / ')),
    claimRow(`without cleanup, ${AFTER_S} s after (dead rows left behind)${busy(after)}`, after.samples, after.loads.join(' / ')),
  ],
)}

**Ratio p99 during / without: ${round(ratio)}×** (select), ${round(ratioTx)}× (tx); p50 ${round(d.p50 / b.p50)}×.
What the backends were doing during the cleanup (pg_stat_activity every 50 ms, ${sample.samples} samples):
cleanup — ${stateLine(sample.counts.cleanup) || 'n/a'}; claim — ${stateLine(sample.counts.claim) || 'n/a'}.

### The cleanup

- \`levqor cleanup --json\` printed \`${JSON.stringify(cleanup.result)}\`, exit ${cleanup.code}, ${round(cleanup.ms / 1000, 1)} s wall;
  Node CPU ${round(cleanup.nodeCpu, 1)} s, Postgres CPU (server-wide) ${round(cleanup.pgCpu, 1)} s; ${int(cleanup.commits)} commits;
  WAL ${int(cleanup.walMB)} MiB (server-wide); ${cleanup.checkpoints} checkpoint(s) during it.
- Rows per second: **${int(rate)}** runs + events per second of wall time (${int(cleanup.result.workflow_runs / (cleanup.ms / 1000))} runs/s and ${int(cleanup.result.workflow_events / (cleanup.ms / 1000))} events/s).
- \`levqor cleanup --dry-run --json\` printed \`${JSON.stringify(dry.result)}\`, exit ${dry.code}, ${round(dry.ms / 1000, 1)} s wall.

Per phase, from the server log (ms; "a / b" is p50 / max over the phase's batches; a batch is BEGIN … COMMIT of up to ${int(BATCH)} rows;
"rolled back" counts batches ended by ROLLBACK (a statement timeout: retried at half the size); "wall" is from BEGIN to the end of COMMIT,
server and round trips; "first → last 10 %" is the mean batch wall of the first and last tenth):

${table(['phase', 'batches', 'rolled back', 'rows', 'seconds', 'rows/s', 'SET LOCAL', 'SELECT … FOR UPDATE', 'DELETE events of the runs', 'DELETE', 'COMMIT', 'batch wall p50 / p99 / max', 'first → last 10 %', 'claims: n / p50 / p99 / max'], phaseRows(a.phases))}

Every statement the cleanup sent (server log; ms):

${table(['statement', 'calls', 'p50', 'p99', 'max'], statementRows(a.statements))}

Every statement the dry run sent (server log; ms):

${table(['statement', 'calls', 'p50', 'p99', 'max'], statementRows(dry.statements))}

Statements of the scratch database at or over 1,000 ms during the cleanup (the cleanup's sessions log all, the claim's ≥ 1 s):

${slow.length ? table(['session', 'statement (first line)', 'calls ≥ 1 s', 'calls', 'p50 ms of all calls', 'max ms'], slow) : '(none)'}

### Anatomy of one batch

Single batches of up to ${int(BATCH)} rows on the seeded data under \`EXPLAIN (ANALYZE, BUFFERS)\` (per-node timing makes them slower than in the
real run: read the differences), each in its own transaction, rolled back; the statements are runCleanup's, with the same parameters, except the
two rows marked "for comparison". approval_queue holds ${int(sizes.aq_rows)} rows (${sizes.aq_pages} pages) here.

${table(['statement', 'ms', 'FK triggers (time ms, calls)', 'buffers', 'scans'], anatRows)}

Foreign keys that reference workflow_runs or approval_queue (each fires a trigger per deleted row), and the indexes of their table that lead
with the column (from the catalog):

${table(['references', 'column', 'on delete', 'indexes', 'rows (estimate)'], fkRows)}
`;
}
