// bench:action — the GitHub Action's cold start against bare `node -e ''` (same run, interleaved),
// the bundle's size, and `levqor checks` on this repository (four checks at once) against the
// same four commands one after another. Writes the `## Action` section of bench/RESULTS.md.
// BENCH_SMOKE=1: a few runs, no checks timing, nothing written.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { ROOT, SMOKE, flag, logger } from './lib/env.js';
import { load1 } from './lib/machine.js';
import { table, writeSection } from './lib/markdown.js';
import { median } from './lib/stats.js';

const RUNS = SMOKE ? 3 : Number(process.env.BENCH_ACTION_RUNS ?? 30);
const quick = flag('--quick') || SMOKE;
const ROUNDS = Number(process.env.BENCH_ACTION_ROUNDS ?? 2);
const log = logger('bench:action');

function timeOnce(args: string[], env: Record<string, string> = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !env.EXPECT_FAIL) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? NaN;
const ms = (x: number): string => x.toFixed(1);

/** Interleaves the variants round-robin so load changes hit them alike. */
function coldStarts() {
  const variants: { name: string; args: string[]; env?: Record<string, string> }[] = [
    { name: "`node -e ''` (bare Node)", args: ['-e', ''] },
    { name: '`node dist/index.js --version`', args: ['dist/index.js', '--version'] },
    {
      name: '`node dist/index.js` with `command: nope` (loads the runner and input parsing, fails the step)',
      args: ['dist/index.js'],
      env: { INPUT_COMMAND: 'nope', EXPECT_FAIL: '1' },
    },
  ];
  const times = variants.map((): number[] => []);
  for (let i = 0; i < 3; i++) variants.forEach((v) => timeOnce(v.args, v.env)); // warm the file cache
  for (let i = 0; i < RUNS; i++) variants.forEach((v, j) => times[j]?.push(timeOnce(v.args, v.env)));
  return variants.map((v, j) => ({ name: v.name, median: median(times[j] ?? []), p90: p90(times[j] ?? []) }));
}

function bundleSize() {
  const dir = join(ROOT, 'dist');
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile());
  const sizes = files.map((f) => ({ f, size: statSync(join(dir, f)).size })).sort((a, b) => b.size - a.size);
  return { total: sizes.reduce((n, s) => n + s.size, 0), files: sizes };
}

interface ShellRun {
  command: string;
  code: number | null;
  seconds: number;
}

function timeShell(command: string): Promise<ShellRun> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('sh', ['-c', command], { cwd: ROOT, env: { ...process.env, CI: 'true', FORCE_COLOR: '0' }, stdio: 'ignore' });
    child.on('close', (code) => resolve({ command, code, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

const SEQUENTIAL = ['npm run lint', 'npm run build', 'npx --no-install tsc --noEmit --pretty false', 'node lib/cli.js gate verify'];

interface ChecksReport {
  passed: string;
  checks: { name: string; status: string; duration_ms: number }[];
}

async function timeParallel(): Promise<ShellRun & { report: ChecksReport }> {
  const run = await timeShell('node lib/cli.js checks --json > /tmp/levqor-bench-checks.json');
  return { ...run, report: JSON.parse(readFileSync('/tmp/levqor-bench-checks.json', 'utf8')) as ChecksReport };
}

async function timeSequential(): Promise<{ steps: ShellRun[]; seconds: number }> {
  const steps: ShellRun[] = [];
  for (const c of SEQUENTIAL) steps.push(await timeShell(c));
  return { steps, seconds: steps.reduce((n, s) => n + s.seconds, 0) };
}

/** Rounds in ABBA order (parallel, sequential, sequential, parallel …) so a load change hits both alike; the best of each is kept. */
async function checksWallTime(rounds: number) {
  const parallel: Awaited<ReturnType<typeof timeParallel>>[] = [];
  const sequential: Awaited<ReturnType<typeof timeSequential>>[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['p', 's'] : ['s', 'p'];
    for (const o of order) {
      if (o === 'p') parallel.push(await timeParallel());
      else sequential.push(await timeSequential());
      const last = o === 'p' ? parallel.at(-1) : sequential.at(-1);
      log(`  round ${i + 1}: ${o === 'p' ? 'parallel' : 'sequential'} ${last?.seconds.toFixed(1)} s (load ${load1()})`);
    }
  }
  const best = <T extends { seconds: number }>(xs: T[]): T => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    parallel: best(parallel),
    sequential: best(sequential),
    allParallel: parallel.map((p) => p.seconds),
    allSequential: sequential.map((s) => s.seconds),
  };
}

const startedAt = new Date();
const loadStart = load1();
log(`cold start: ${RUNS} runs of each variant, interleaved`);
const starts = coldStarts();
for (const s of starts) log(`  ${s.name}: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms`);
const size = bundleSize();
log(`bundle: ${size.total} bytes in ${size.files.length} files`);
let checks: Awaited<ReturnType<typeof checksWallTime>> | undefined;
if (!quick) {
  log('checks on this repository: levqor checks (parallel), then the four commands one after another …');
  checks = await checksWallTime(ROUNDS);
}
const loadEnd = load1();

const base = starts[0]?.median ?? NaN;
const lines = [
  `_Written by \`npm run bench:action\` (bench/action.ts) on ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}. Rerun it to refresh this section._`,
  '',
  '### Machine',
  '',
  `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`,
  `- 1-minute load average at start / end: ${loadStart} / ${loadEnd} (the machine is shared with other sessions' test runs: expect ±20 % noise)`,
  '',
  '### Commands',
  '',
  '```sh',
  'npm run bench:action      # node scripts/build.mjs && node scripts/bench.mjs action [--quick: skip the checks timing]; rounds: BENCH_ACTION_ROUNDS (default 2)',
  "node -e ''                 # and node dist/index.js --version, interleaved, " + `${RUNS} runs each after 3 warm-ups`,
  'node lib/cli.js checks --json                       # the four checks at once (what the action runs)',
  `${SEQUENTIAL.join(' ; ')}   # one after another`,
  '```',
  '',
  '### Cold start (wall time of the whole process, spawn to exit)',
  '',
  table(
    ['process', 'median ms', 'p90 ms', '÷ bare node (median)'],
    starts.map((s) => [s.name, ms(s.median), ms(s.p90), `${(s.median / base).toFixed(2)}×`]),
  ),
  '',
  `Target ≤ 2× bare Node: **${((starts[1]?.median ?? NaN) / base).toFixed(2)}×** for \`--version\`. \`dist/index.js\` is a ${size.files.find((f) => f.f === 'index.js')?.size ?? '?'}-byte entry that imports a command's chunk only when that command runs.`,
  '',
  '### Bundle size',
  '',
  `**${(size.total / 1024).toFixed(0)} KiB** in ${size.files.length} files (target < 1 MB = 1024 KiB). Largest:`,
  '',
  table(
    ['file', 'KiB'],
    size.files.slice(0, 6).map((s) => [`dist/${s.f}`, (s.size / 1024).toFixed(1)]),
  ),
];
if (checks) {
  const seq = checks.sequential;
  const par = checks.parallel;
  lines.push(
    '',
    '### `checks` on this repository',
    '',
    `${ROUNDS} round(s) of each, in ABBA order; the fastest of each kind is shown (parallel runs: ${checks.allParallel.map((x) => x.toFixed(1)).join(', ')} s; sequential: ${checks.allSequential.map((x) => x.toFixed(1)).join(', ')} s).`,
    '',
    table(
      ['run', 'wall s', 'result'],
      [
        [
          '`levqor checks` (4 checks in parallel)',
          par.seconds.toFixed(1),
          `${par.report.passed} (${par.report.checks.map((c) => `${c.name}: ${c.status} in ${(c.duration_ms / 1000).toFixed(1)} s`).join('; ')})`,
        ],
        ...seq.steps.map((s) => [`\`${s.command}\``, s.seconds.toFixed(1), s.code === 0 ? 'pass' : `exit ${s.code}`]),
        ['the four one after another (sum)', seq.seconds.toFixed(1), ''],
      ],
    ),
    '',
    `Parallel / sequential: **${(par.seconds / seq.seconds).toFixed(2)}** of the time on ${cpus().length} cores. Lint (type-aware ESLint) and the type check are CPU-bound: on two cores shared with other work, running them at once saves little, and the wall time is bounded below by the lint alone.`,
  );
}
writeSection('Action', lines.join('\n'), log);
