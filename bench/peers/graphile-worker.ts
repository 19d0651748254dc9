// graphile-worker child process for bench/peers.ts (scripts/bench.mjs bundles it to .levqor/bench/peers/).
//
//   node .levqor/bench/peers/graphile-worker.mjs once  '<json config>'   work the queue until empty (runOnce), write ids
//   node .levqor/bench/peers/graphile-worker.mjs loop  '<json config>'   run() until SIGTERM; one stdout line per job start
//   node .levqor/bench/peers/graphile-worker.mjs startstop '<json config>'  run() on an empty queue, then stop()
//
// Config: { url, out?, concurrency?, maxPoolSize?, pollInterval?, preset? } (preset.worker: localQueue,
// completeJobBatchDelay, failJobBatchDelay). Times are wall-clock milliseconds (performance.timeOrigin + now()).
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import gw, { type RunnerOptions, type TaskList } from 'graphile-worker';

const { run, runOnce, Logger } = gw;
const [mode, json] = process.argv.slice(2);
const cfg = JSON.parse(json ?? '{}') as {
  url: string;
  out?: string;
  concurrency?: number;
  maxPoolSize?: number;
  pollInterval?: number;
  preset?: RunnerOptions['preset'];
};
const now = () => performance.timeOrigin + performance.now();
const tProcess = performance.timeOrigin;

// Errors and warnings only: the default logger prints a line per job.
const logger = new Logger(() => (level, message) => {
  const name: string = level; // a const enum of strings ('error', 'warning', …)
  if (name === 'error' || name === 'warning') process.stderr.write(`[graphile ${level}] ${message}\n`);
});

function options(taskList: TaskList): RunnerOptions {
  return {
    connectionString: cfg.url,
    noHandleSignals: true,
    logger,
    taskList,
    ...(cfg.concurrency ? { concurrency: cfg.concurrency } : {}),
    ...(cfg.maxPoolSize ? { maxPoolSize: cfg.maxPoolSize } : {}),
    ...(cfg.pollInterval ? { pollInterval: cfg.pollInterval } : {}),
    ...(cfg.preset ? { preset: cfg.preset } : {}),
  };
}

if (mode === 'once') {
  const ids: string[] = [];
  let firstLocked = Infinity;
  let firstStart = Infinity;
  let lastEnd = 0;
  const taskList: TaskList = {
    noop: (_payload, helpers) => {
      const t = now();
      if (t < firstStart) firstStart = t;
      const locked = helpers.job.locked_at?.getTime() ?? Infinity;
      if (locked < firstLocked) firstLocked = locked;
      ids.push(helpers.job.id);
      lastEnd = now();
    },
  };
  const tCall = now();
  await runOnce(options(taskList));
  const tEnd = now();
  if (cfg.out) writeFileSync(cfg.out, JSON.stringify({ ids, firstLocked, firstStart, lastEnd, tProcess, tCall, tEnd }));
} else if (mode === 'loop') {
  const taskList: TaskList = {
    noop: (_payload, helpers) => {
      const t = now();
      process.stdout.write(`start ${helpers.job.id} ${t.toFixed(3)} ${helpers.job.locked_at?.getTime() ?? ''}\n`);
    },
  };
  const runner = await run(options(taskList));
  process.stdout.write(`ready ${now().toFixed(3)}\n`);
  process.once('SIGTERM', () => {
    void runner.stop().then(() => process.exit(0));
  });
  await runner.promise;
} else if (mode === 'startstop') {
  const t0 = now();
  const runner = await run(options({ noop: () => undefined }));
  const tReady = now();
  await runner.stop();
  const tStopped = now();
  process.stdout.write(`${JSON.stringify({ tProcess, t0, tReady, tStopped })}\n`);
} else {
  throw new Error(`unknown mode ${mode ?? '(none)'}`);
}
