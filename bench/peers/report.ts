// The `## Peers` section of bench/RESULTS.md, from the results gathered by bench/peers.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/env.js';
import type { MachineInfo } from '../lib/machine.js';
import { table } from '../lib/markdown.js';
import { median, pct, round } from '../lib/stats.js';
import type { QueryTrace } from '../lib/trace.js';
import type { Floor } from './floors.js';
import type { PgbenchRow } from './pgbench.js';
import type { Startup } from './startup.js';
import {
  BOSS_DEFAULT_CAP_S,
  BOSS_DEFAULT_LAT_N,
  BOSS_LAT_N,
  FLOOR_PASSES,
  LAT_N,
  LAT_PASSES,
  N,
  PGBENCH_SECONDS,
  REPEATS,
  STARTUP_REPEATS,
  TRACE_N,
  phases,
  times,
  type Stats,
  type ThroughputRow,
} from './common.js';

export interface ReportContext {
  machine: MachineInfo;
  date: string;
  versions: { levqor: string; commit: string; graphile: string; boss: string };
  pgbenchRows: PgbenchRow[];
  tput: ThroughputRow[];
  floor: Floor[];
  lat: {
    levqor: Record<'manual' | 'manualFromCommit' | 'schedClaim' | 'schedStep', Stats>;
    graphile: Record<'start' | 'locked' | 'fromSent', Stats>;
    boss: Stats;
    bossDefault: Stats;
  };
  startup: Startup[];
  trace: { manual: QueryTrace | null; scheduled: QueryTrace | null } | null;
}

export function report(r: ReportContext): string {
  const { machine, date, versions, pgbenchRows, tput, floor, lat, startup, trace } = r;
  const notesFile = join(ROOT, 'bench/peers/NOTES.md');
  const notes = existsSync(notesFile) ? `\n${readFileSync(notesFile, 'utf8').trim()}\n` : '';
  const first = <T>(xs: T[], what: string): T => {
    const [x] = xs;
    if (x === undefined) throw new Error(`peers report: no ${what}`);
    return x;
  };
  const base = first(
    [...pgbenchRows].sort((a, b) => b.tps - a.tps),
    'pgbench pass',
  );
  const rate = (row: { units: number; wallS: number; spanS: number }) => ({ incl: row.units / row.wallS, excl: row.units / row.spanS });
  const lev = tput.filter((row) => row.system === 'Levqor');
  const peers = tput.filter((row) => row.system !== 'Levqor');
  const levBest = first(
    [...lev].sort((a, b) => rate(b).excl - rate(a).excl),
    'Levqor row',
  );
  const levBestIncl = first(
    [...lev].sort((a, b) => rate(b).incl - rate(a).incl),
    'Levqor row',
  );
  const peerBest = first(
    [...peers].sort((a, b) => rate(b).excl - rate(a).excl),
    'peer row',
  );
  const peerBestIncl = first(
    [...peers].sort((a, b) => rate(b).incl - rate(a).incl),
    'peer row',
  );
  const lev1 = first(lev, 'Levqor row');
  const gwP50 = lat.graphile.start.p50;
  const latRows: [string, string, Stats, string][] = [
    [
      'Levqor',
      'manual run queued with NOTIFY (`startRun(…, { enqueue: true })` SQL), loop woken by LISTEN',
      lat.levqor.manual,
      'run.started_at (DB `now()`, taken just before the enqueue transaction, as manual.ts does) → step_started event created_at (scheduler clock)',
    ],
    [
      'Levqor',
      "… same runs, from the enqueue transaction's COMMIT",
      lat.levqor.manualFromCommit,
      'COMMIT sent (benchmark clock) → step_started event created_at (scheduler clock)',
    ],
    [
      'Levqor',
      'scheduled workflow due, loop woken by its own timer (earliest next_run_at)',
      lat.levqor.schedStep,
      'next_run_at (the slot) → step_started event created_at (scheduler clock)',
    ],
    ['Levqor', '… same runs, to the claim', lat.levqor.schedClaim, 'next_run_at → run.started_at (DB `now()` of the claim transaction)'],
    [
      'graphile-worker',
      'defaults (concurrency 1), `run()`, woken by LISTEN/NOTIFY',
      lat.graphile.start,
      'job.run_at (DB `now()` in add_job) → task function entered (worker clock)',
    ],
    [
      'graphile-worker',
      '… same jobs, from the add_job statement',
      lat.graphile.fromSent,
      'add_job sent (benchmark clock) → task function entered (worker clock)',
    ],
    ['graphile-worker', '… same jobs, to the lock', lat.graphile.locked, 'job.run_at → job.locked_at (DB clock, ms precision)'],
    [
      'pg-boss',
      `1 worker, pollingIntervalSeconds 0.5 (the minimum), batchSize 1; ${BOSS_LAT_N} units`,
      lat.boss,
      'job.created_on (DB `now()`) → handler entered (worker clock)',
    ],
    ['pg-boss', `defaults (pollingIntervalSeconds 2); ${BOSS_DEFAULT_LAT_N} units`, lat.bossDefault, 'same'],
  ];
  const traceTable = (t: QueryTrace | null | undefined) => {
    const q: QueryTrace['queries'] = t?.queries ?? {};
    const labels = Object.keys(q).sort((a, b) => (q[b]?.count ?? 0) - (q[a]?.count ?? 0));
    const total = Object.values(q).reduce((a, x) => a + x.count, 0);
    return { total, labels, q };
  };
  const tm = traceTable(trace?.manual);
  const ts = traceTable(trace?.scheduled);
  const traceLabels = [...new Set([...tm.labels, ...ts.labels])].sort(
    (a, b) => (ts.q[b]?.count ?? 0) + (tm.q[b]?.count ?? 0) - ((ts.q[a]?.count ?? 0) + (tm.q[a]?.count ?? 0)),
  );
  type TraceTable = ReturnType<typeof traceTable>;
  const perRun = (t: TraceTable, l: string) => {
    const s = t.q[l];
    return s ? round(s.count / TRACE_N, 2) : '';
  };
  const perCall = (t: TraceTable, l: string) => {
    const s = t.q[l];
    return s ? round(s.ms / s.count, 2) : '';
  };

  return `_Written by \`npm run bench:peers\` (bench/peers.ts) on ${date}. Rerun it to refresh this section._

### Machine and versions

- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}; memory ${machine.memGiB} GiB; Node ${machine.node}
- ${machine.postgres} on the same machine (${machine.postgresSettings})
- Levqor ${versions.levqor} (commit ${versions.commit}), graphile-worker ${versions.graphile}, pg-boss ${versions.boss}
- Each phase waited until no other benchmark ran (no other benchmark process, bench:scheduler and bench:api included;
  one that was itself idle, waiting for this one, was not waited for). The 1-minute load average at each phase's start:

${table(
  ['phase', 'load', 'waited s', 'note'],
  phases.map((p) => [p.name, p.load, Math.round(p.waitedS), p.note]),
)}

The machine and the server are shared with other sessions, so single numbers carry ±20 % noise or more.

### Commands

\`\`\`sh
npm run bench:peers                    # node scripts/build.mjs && node scripts/bench.mjs peers [--quick] [--keep]
pgbench -i -s 10 DB && pgbench -N -c 4 -j 2 -T ${PGBENCH_SECONDS} DB          # first and last
# Levqor (database levqor_peers_levqor_*): migrate, seed ${N.toLocaleString('en')} due no-op workflows, then P of these together:
DATABASE_URL=postgres://…/DB LEVQOR_LOG_LEVEL=warn node lib/cli.js scheduler --once
# graphile-worker (its own database): runMigrations, addJobs(${N.toLocaleString('en')} × { identifier: 'noop' }) in one call, then P of:
node .levqor/bench/peers/graphile-worker.mjs once '{"url":…,"concurrency":…,"preset":{"worker":{"localQueue":{"size":500},"completeJobBatchDelay":0,…}}}'   # runOnce()
# pg-boss (its own database): createQueue('noop'), boss.insert(${N.toLocaleString('en')} jobs) in 5,000-job calls, then P of:
node .levqor/bench/peers/pg-boss-worker.mjs work '{"url":…,"workers":4,"work":{"batchSize":100,"pollingIntervalSeconds":0.5}}'
# latency: DATABASE_URL=… LEVQOR_SCHEDULER_INTERVAL_SECONDS=60 LEVQOR_LOG_LEVEL=info node lib/cli.js scheduler;
#          node .levqor/bench/peers/graphile-worker.mjs loop '{"url":…}';  node .levqor/bench/peers/pg-boss-worker.mjs latency '{"url":…,"work":{…}}'
\`\`\`

### Physical limit: pgbench -N (scale 10)

${table(
  ['pass', 'command', 'TPS (without initial connection time)', 'latency ms', 'load'],
  pgbenchRows.map((p) => [p.when, `\`${p.cmd}\``, round(p.tps, 0), round(p.latency, 3), p.load]),
)}

Ratios below use the best pass: **${round(base.tps, 0)} TPS**. A pgbench -N transaction is one commit of an UPDATE, a SELECT and an INSERT.

### Throughput: ${N.toLocaleString('en')} trivial units

A Levqor unit is a full run: a \`workflow_runs\` row with its timeline (run_started, the step's start and finish, run_finished), inserted once, already finished, by its batch's settle (issue 28); the workflow's schedule advanced; its share of the batch's claim row (one per 200 runs, inserted by the claim and deleted by the settle).
A graphile-worker unit is a job locked and deleted; a pg-boss unit is a job fetched (state active) and completed.
Jobs are added before the runners start (not timed), as Levqor's workflows are seeded due before it starts.
**Wall** (startup included) is the first spawn to the last process exit. **Span** (startup excluded) is the first unit's claim
to the last write: Levqor min(run.started_at) → max(scheduler_instances.last_tick_at), graphile-worker min(job.locked_at) →
the end of the last \`runOnce()\`, pg-boss min(started_on) → max(completed_on). Each configuration ran ${REPEATS} times,
round by round (the first try of every configuration of every system, then the second…, so that the drifting load of
the shared machine falls on all alike); every number in a row is the **median** of its tries (of an even count: the mean of the middle two), all spans
and the 1-minute load average before each try are listed. **Commits** = \`xact_commit\` of the database during the run
(every autocommit statement counts), **WAL** is server-wide. **Worker CPU** is the CPU time of the worker processes,
startup included; **Postgres CPU** is every postgres process's (server-wide: other sessions' queries count too).

${table(
  [
    'system',
    'configuration',
    'units',
    'wall s',
    'units/s (wall)',
    'span s',
    'all spans s',
    'units/s (span)',
    '÷ pgbench (span)',
    'Levqor 1 proc ÷ this (span / wall)',
    'Levqor best ÷ this (span / wall)',
    'commits per unit',
    'tuples per unit',
    'WAL KiB per unit',
    'worker CPU ms per unit',
    'Postgres CPU ms per unit',
    'load (each try)',
    'units per process',
  ],
  tput.map((row) => {
    const rr = rate(row);
    return [
      row.system,
      row.config,
      row.units,
      round(row.wallS),
      round(rr.incl, row.capped ? 2 : 0),
      round(row.spanS),
      row.spans.map((s) => round(s)).join(', '),
      round(rr.excl, row.capped ? 2 : 0),
      pct(rr.excl / base.tps),
      row.system === 'Levqor' ? '' : `${times(rate(lev1).excl / rr.excl)} / ${times(rate(lev1).incl / rr.incl)}`,
      row.system === 'Levqor' ? '' : `${times(rate(levBest).excl / rr.excl)} / ${times(rate(levBestIncl).incl / rr.incl)}`,
      round(row.commits / row.units, 3),
      round(row.tuples / row.units, 2),
      round((row.walMB * 1024) / row.units, 2),
      round((row.nodeCpu * 1000) / row.units, 3),
      round(((row.pgCpu ?? NaN) * 1000) / row.units, 3),
      (row.loads ?? [row.load]).join(', '),
      row.split ?? '',
    ];
  }),
)}

- pg-boss with defaults was stopped after ${BOSS_DEFAULT_CAP_S} s (${tput.find((row) => row.capped)?.units ?? '?'} jobs completed): its rate is
  completed jobs ÷ (the stop − the first job's start), and ${N.toLocaleString('en')} jobs would take about
  **${round(N / rate(tput.find((row) => row.capped) ?? { units: 1, spanS: 1, wallS: 1 }).excl / 3600, 1)} hours** at that rate (one job per 2 s poll: the worker waits out the polling interval even when jobs are waiting).
- Exactly once, checked before each row was kept: ${[...new Set(tput.map((row) => `${row.system}: ${row.verified}`))].join('; ')}.
- **Goal (issue 28): Levqor's best ≥ 1.0× batched graphile-worker's units/s and ≥ 2× tuned pg-boss's (span), same run.**
  Against tuned pg-boss: ${(() => {
    const b = tput.filter((row) => row.system === 'pg-boss' && !row.capped).sort((x, y) => rate(y).excl - rate(x).excl)[0];
    return b
      ? `**${times(rate(levBest).excl / rate(b).excl)}** (${rate(levBest).excl >= 2 * rate(b).excl ? 'met' : 'not met'})`
      : 'not measured';
  })()}.
  Against the fastest peer configuration, startup excluded: Levqor's best ${Math.round(rate(levBest).excl)} units/s
  (${levBest.config}) against ${peerBest.system} ${peerBest.config} at ${Math.round(rate(peerBest).excl)}: **${times(rate(levBest).excl / rate(peerBest).excl)}**
  (${rate(levBest).excl >= rate(peerBest).excl ? 'met' : 'not met'}). Startup included: ${Math.round(rate(levBestIncl).incl)} against ${peerBestIncl.system}'s
  ${Math.round(rate(peerBestIncl).incl)} (${peerBestIncl.config}): **${times(rate(levBestIncl).incl / rate(peerBestIncl).incl)}**.

### Write floor: each unit's rows written by Postgres alone

Every write of ${N.toLocaleString('en')} units as one statement over rows generated on the server (no worker, no JSON, no
round trips), timed from send to result, in one transaction rolled back afterwards (bench/peers/floor.ts; ${FLOOR_PASSES} pass${FLOOR_PASSES > 1 ? 'es' : ''}
round by round, the median shown). A system's measured rate can approach its floor but not pass it: the floor is what
its record of a unit costs on this server, whoever writes it.

${table(
  [
    'system',
    'unit written',
    'tuples per unit',
    'statements',
    'ms (median)',
    'ms per statement (median)',
    'all passes ms',
    'floor units/s',
    'measured best ÷ floor',
    'load (each pass)',
  ],
  (floor ?? []).map((f) => {
    const best = [...tput.filter((row) => row.system === f.system && !row.capped)].sort((a, b) => rate(b).excl - rate(a).excl)[0];
    const floorRate = N / (f.ms / 1000);
    return [
      f.system,
      f.what,
      f.tuples,
      f.statements,
      round(f.ms, 0),
      f.perStatement.map((x) => Math.round(x)).join(' + '),
      f.all.map((x) => Math.round(x)).join(', '),
      Math.round(floorRate),
      f.current || f.system !== 'Levqor' ? (best ? pct(rate(best).excl / floorRate) : '') : '',
      f.loads.join(', '),
    ];
  }),
)}

${(() => {
  const today = floor?.find((f) => f.system === 'Levqor' && f.current);
  if (!today) return '';
  const rateOf = (f: Floor) => N / (f.ms / 1000);
  const others = floor.filter((f) => f.system === 'Levqor' && f !== today);
  return `- Levqor's best measured rate is **${pct(rate(levBest).excl / rateOf(today))} of the floor of its own record** (${Math.round(rateOf(today))} units/s,
  ${today.tuples} tuples a run); ${peerBest.system}'s floor is ${Math.round(rateOf(floor.find((f) => f.system === peerBest.system) ?? today))} units/s.
${others.map((f) => `  - ${f.what}: ${Math.round(rateOf(f))} units/s, ${f.ms >= today.ms ? `${round(f.ms - today.ms, 0)} ms more` : `${round(today.ms - f.ms, 0)} ms less`} for ${N.toLocaleString('en')} units than today's record (${f.tuples} tuples a unit).`).join('\n')}`;
})()}

${notes}
### Start latency: one unit at a time

${LAT_N.toLocaleString('en')} units for Levqor and graphile-worker in each of ${LAT_PASSES} passes (Levqor's pass, then graphile-worker's, in turn;
the percentiles are over all passes' units together, each pass's p50 is listed), each unit added once the previous one has started (plus 0–5 ms);
pg-boss polls, so each of its units is added at a random phase of the poll (0–1 interval after the previous start), and it has
fewer units. Both ends come from the same machine's clock: the database's \`now()\` for the added side, the worker process's
for the start (Levqor's event times are ms-resolution epoch floats). Commits per unit include the enqueue's own (Levqor 2:
the \`dbNow\` query and the insert transaction; graphile-worker 1; pg-boss 1) and, for pg-boss, its idle polls.

${table(
  [
    'system',
    'mode',
    'n',
    'min ms',
    'p50 ms',
    'p99 ms',
    'max ms',
    'p50 of each pass',
    'Levqor manual p50 ÷ this p50',
    'from → to',
    'commits per unit',
    'load (each pass)',
  ],
  latRows.map(([sys, mode, s, span]) => [
    sys,
    mode,
    s.n,
    round(s.min, 1),
    round(s.p50, 1),
    round(s.p99, 1),
    round(s.max, 1),
    (s.passes ?? [s.p50]).map((x) => round(x, 1)).join(', '),
    times(lat.levqor.manual.p50 / s.p50),
    span,
    s.commits === undefined ? '' : round(s.commits / s.n, 1),
    s.load ?? '',
  ]),
)}

- **Goal (issue 8): Levqor's start latency p50 within 2× graphile-worker's** (${round(gwP50, 1)} ms → limit ${round(2 * gwP50, 1)} ms):
  manual (NOTIFY) p50 ${round(lat.levqor.manual.p50, 1)} ms = ${times(lat.levqor.manual.p50 / gwP50)} (${lat.levqor.manual.p50 <= 2 * gwP50 ? 'met' : 'not met'}),
  from the enqueue's COMMIT ${round(lat.levqor.manualFromCommit.p50, 1)} ms against graphile-worker's ${round(lat.graphile.fromSent.p50, 1)} ms from its add_job
  = ${times(lat.levqor.manualFromCommit.p50 / lat.graphile.fromSent.p50)} (${lat.levqor.manualFromCommit.p50 <= 2 * lat.graphile.fromSent.p50 ? 'met' : 'not met'});
  scheduled (timer) p50 ${round(lat.levqor.schedStep.p50, 1)} ms = ${times(lat.levqor.schedStep.p50 / gwP50)} (${lat.levqor.schedStep.p50 <= 2 * gwP50 ? 'met' : 'not met'}).
- Exactly once: Levqor — every queued run succeeded with attempt 1 and one step_started/run_finished on its timeline, every scheduled
  workflow ran once for its slot and moved on; graphile-worker and pg-boss — every added job started once (worker log), queue
  empty / all completed, no retries.
${
  trace
    ? `
Where a Levqor unit's time goes on these paths: two more loops run with \`node --import .levqor/bench/lib/trace-hook.mjs\` (which counts every
query the scheduler process sends, and times it from send to result), one with ${TRACE_N} manual runs only and one with ${TRACE_N}
scheduled runs only: **${round(tm.total / TRACE_N, 1)}** statements per manual run and **${round(ts.total / TRACE_N, 1)}** per scheduled run,
the process's startup and shutdown included (graphile-worker: one \`get_job\` and one \`complete_job\` per job, both single statements).

${table(
  ['statement (first line)', 'manual: per run', 'manual: client ms per call', 'scheduled: per run', 'scheduled: client ms per call'],
  traceLabels.map((l) => [`\`${l}\``, perRun(tm, l), perCall(tm, l), perRun(ts, l), perCall(ts, l)]),
)}
`
    : ''
}
### Startup and shutdown: an empty runner, start to exit

Median of ${STARTUP_REPEATS} (all listed). Wall = spawn to process exit, Node's own startup included.

${table(
  ['system', 'what', 'median wall ms', 'all ms', 'inside the process'],
  startup.map((s) => [s.system, s.what, round(median(s.wall), 0), s.wall.map((x) => Math.round(x)).join(', '), s.inner ?? '']),
)}
`;
}
