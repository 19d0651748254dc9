// pg-boss child process for bench/peers.ts (scripts/bench.mjs bundles it to .levqor/bench/peers/).
//
//   node .levqor/bench/peers/pg-boss-worker.mjs work '<json config>'       work queue "noop" until SIGTERM; write ids
//   node .levqor/bench/peers/pg-boss-worker.mjs latency '<json config>'    same, one stdout line per job start
//   node .levqor/bench/peers/pg-boss-worker.mjs startstop '<json config>'  start(), then stop()
//
// Config: { url, out?, workers (work() calls), work: { batchSize?, pollingIntervalSeconds? }, boss: {constructor options} }.
// Stdout: "ready <ms>" once started, "handled <n>" after each batch (work mode).
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import PgBoss from 'pg-boss';

const [mode, json] = process.argv.slice(2);
const cfg = JSON.parse(json ?? '{}') as {
  url: string;
  out?: string;
  workers?: number;
  work?: PgBoss.WorkOptions;
  boss?: Partial<PgBoss.ConstructorOptions>;
};
const now = () => performance.timeOrigin + performance.now();
const tProcess = performance.timeOrigin;
const QUEUE = 'noop';

const boss = new PgBoss({ connectionString: cfg.url, ...(cfg.boss ?? {}) });
boss.on('error', (err) => process.stderr.write(`[pg-boss error] ${err.message}\n`));

if (mode === 'startstop') {
  const t0 = now();
  await boss.start();
  const tReady = now();
  await boss.stop({ graceful: true, wait: true });
  const tStopped = now();
  process.stdout.write(`${JSON.stringify({ tProcess, t0, tReady, tStopped })}\n`);
  process.exit(0);
}

const ids: string[] = [];
let firstStart = Infinity;
// SIGTERM may come before this process is ready (the other processes emptied the queue while it
// started): handled from the start, it stops once started, and the process still reports.
let markReady: () => void = () => undefined;
const ready = new Promise<void>((resolve) => (markReady = resolve));
process.once('SIGTERM', () => {
  const tStop = now();
  void ready
    .then(() => boss.stop({ graceful: true, wait: true }))
    .then(
      () => {
        const tEnd = now();
        if (cfg.out) writeFileSync(cfg.out, JSON.stringify({ ids, firstStart, tProcess, tCall, tStop, tEnd }));
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`stop failed: ${err.message}\n`);
        process.exit(1);
      },
    );
});
const tCall = now();
await boss.start();
const handler: PgBoss.WorkHandler<unknown> =
  mode === 'latency'
    ? (jobs) => {
        const t = now();
        for (const j of jobs) process.stdout.write(`start ${j.id} ${t.toFixed(3)}\n`);
        ids.push(...jobs.map((j) => j.id));
        return Promise.resolve();
      }
    : (jobs) => {
        const t = now();
        if (t < firstStart) firstStart = t;
        for (const j of jobs) ids.push(j.id);
        process.stdout.write(`handled ${jobs.length}\n`);
        return Promise.resolve();
      };
for (let i = 0; i < (cfg.workers ?? 1); i++) await boss.work(QUEUE, { ...(cfg.work ?? {}) }, handler);
process.stdout.write(`ready ${now().toFixed(3)}\n`);
markReady();
