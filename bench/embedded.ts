// bench:embedded — the embedded default shared by `levqor serve` (npm run bench:embedded; builds
// lib/cli.js first). Three ways to run the same CLI command on the same demo data (`levqor start`
// seeds it: tenant, workflows, weeks of history):
//   - served: `levqor serve` runs on the data dir; the command connects through its socket;
//   - postgres: DATABASE_URL on the local server;
//   - standalone: no serve; the command opens PGlite itself (a copy of the data dir).
// Wall time and peak RSS of each command, interleaved round by round so a busy moment hits all
// alike; serve's resident memory once idle; and PGlite's own resident memory with Postgres's
// default settings against the ones src/db/pglite.ts applies. Writes `## Embedded` in
// bench/RESULTS.md. Flags: --rounds N (default 7). BENCH_SMOKE=1: one round, nothing written.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGLITE_SETTINGS } from '../src/db/pglite.js';
import { createDatabase, dbUrl, dropDatabase } from './lib/db.js';
import { ROOT, SMOKE, logger, numberArg } from './lib/env.js';
import { load1, machineInfo } from './lib/machine.js';
import { table, writeSection } from './lib/markdown.js';
import { median } from './lib/stats.js';

const rounds = numberArg('--rounds', SMOKE ? 1 : 7);
const DB = 'levqor_bench_embedded';
const log = logger('bench:embedded');
const COMMANDS = [
  ['workflow', 'list', '--tenant', 'demo'],
  ['runs', 'list', '--tenant', 'demo'],
  ['approvals', 'list', '--tenant', 'demo'],
];
/** What src/db/pglite.ts passes to PGlite, for the memory probe. */
const LEVQOR_SETTINGS = PGLITE_SETTINGS;

const scratch = mkdtempSync(join(tmpdir(), 'levqor-bench-emb-'));
const rssFile = join(scratch, 'rss');
// Each command's peak RSS, reported by the process itself at exit.
const RSS_HOOK = `data:text/javascript,import{writeFileSync}from'node:fs';process.on('exit',()=>writeFileSync(process.env.BENCH_RSS_FILE,String(process.resourceUsage().maxRSS)))`;

const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, LEVQOR_LOG_PRETTY: 'false' });

/** Runs one CLI command: wall milliseconds and peak RSS (MB). */
function timeCommand(cmd: string[], env: NodeJS.ProcessEnv): { ms: number; rssMb: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', RSS_HOOK, 'lib/cli.js', ...cmd], {
    cwd: ROOT,
    env: { ...env, BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`levqor ${cmd.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

/** Starts a long-running CLI process and resolves once it prints `line`. */
interface Running {
  child: ChildProcessByStdio<null, Readable, Readable>;
  ready: Promise<void>;
  output: () => string;
}

function startUntil(cmd: string[], env: NodeJS.ProcessEnv, line: string): Running {
  const child = spawn(process.execPath, ['lib/cli.js', ...cmd], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(line)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`levqor ${cmd.join(' ')} exited ${code} before "${line}":\n${out}`)));
  });
  return { child, ready, output: () => out };
}

async function stop(proc: Running): Promise<void> {
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  proc.child.kill('SIGTERM');
  await exited;
}

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const f0 = (x: number): string => x.toFixed(0);

/** PGlite alone on a copy of the data dir: resident MB after opening and a few queries, with the given settings. */
function pgliteProbe(dataDir: string, settings: readonly string[]): number {
  const dir = join(scratch, `probe-${settings.length}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(dataDir, dir, { recursive: true });
  const script = `
    import { PGlite } from '@electric-sql/pglite';
    const settings = ${JSON.stringify(settings)};
    const db = await PGlite.create(${JSON.stringify(dir)}, { startParams: [...PGlite.defaultStartParams, ...settings.flatMap((s) => ['-c', s])] });
    for (let i = 0; i < 20; i++) await db.query('SELECT * FROM workflow_runs ORDER BY started_at DESC LIMIT 50');
    const rss = process.memoryUsage().rss;
    await db.close();
    console.log(JSON.stringify({ rssMb: rss / 2 ** 20 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PGlite probe failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim()) as { rssMb: number }).rssMb;
}

const loadStart = load1();
const startedAt = new Date();
const served = join(scratch, 'served');
const standalone = join(scratch, 'standalone');
const embeddedEnv = (dir: string): NodeJS.ProcessEnv => ({ ...baseEnv(), LEVQOR_DATA_DIR: dir });
const pgEnv = { ...baseEnv(), DATABASE_URL: dbUrl(DB) };
const startArgs = ['start', '--port', '0', '--interval', '3600'];
try {
  // The same demo data three ways: `levqor start` seeds it on first start.
  const seedEmbedded = startUntil(startArgs, embeddedEnv(served), 'levqor API listening on');
  await seedEmbedded.ready;
  await stop(seedEmbedded);
  cpSync(served, standalone, { recursive: true });
  await createDatabase(DB);
  const seedPg = startUntil(startArgs, pgEnv, 'levqor API listening on');
  await seedPg.ready;
  await stop(seedPg);

  // serve on the embedded data dir, as `npm start` leaves it; its resident memory once idle.
  const serve = startUntil(['serve', '--port', '0', '--interval', '60'], embeddedEnv(served), 'levqor API listening on');
  await serve.ready;
  const idle: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(1000);
    idle.push(rssMb(serve.child.pid));
  }

  const variants = [
    { name: 'served: through `levqor serve`’s socket', env: embeddedEnv(served) },
    { name: 'Postgres (`DATABASE_URL`)', env: pgEnv },
    { name: 'standalone: opens PGlite itself (no serve)', env: embeddedEnv(standalone) },
  ];
  const results = COMMANDS.map(() => variants.map(() => ({ ms: [] as number[], rss: [] as number[] })));
  for (const cmd of COMMANDS) variants.forEach((v) => timeCommand(cmd, v.env)); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [ci, cmd] of COMMANDS.entries()) {
      for (const [vi, v] of variants.entries()) {
        const { ms, rssMb: rss } = timeCommand(cmd, v.env);
        results[ci]?.[vi]?.ms.push(ms);
        results[ci]?.[vi]?.rss.push(rss);
      }
    }
  }
  const servedAfter = rssMb(serve.child.pid);
  await stop(serve);
  const probeDefault = pgliteProbe(standalone, []);
  const probeLevqor = pgliteProbe(standalone, LEVQOR_SETTINGS);

  const rows = COMMANDS.flatMap((cmd, ci) =>
    variants.map((v, vi) => {
      const m = median(results[ci]?.[vi]?.ms ?? []);
      const pg = median(results[ci]?.[1]?.ms ?? []);
      return [
        `\`levqor ${cmd.join(' ')}\``,
        v.name,
        f0(m),
        vi === 1 ? '1.00×' : `${(m / pg).toFixed(2)}×`,
        f0(median(results[ci]?.[vi]?.rss ?? [])),
      ];
    }),
  );
  const info = await machineInfo();
  const body = [
    `_Written by \`npm run bench:embedded\` (\`node scripts/bench.mjs embedded --rounds ${rounds}\`) on ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}._`,
    '',
    `- CPU: ${info.cpu}, ${info.nproc} cores; memory ${info.memGiB} GiB; Node ${info.node}; ${info.postgres} (${info.postgresSettings})`,
    `- 1-minute load average at start / end: ${loadStart} / ${load1()} (the machine is shared with other sessions: rerun on a quiet one)`,
    '',
    `### CLI commands (median of ${rounds} rounds, after one warm-up; interleaved)`,
    '',
    'The same demo data (`levqor start`: demo tenant, four workflows, weeks of history) three ways. Target: served within 1.5× of Postgres.',
    '',
    table(['command', 'database', 'wall ms', 'vs Postgres', 'peak RSS MB'], rows),
    '',
    '### Memory of the embedded database',
    '',
    table(
      ['measure', 'MB'],
      [
        ['`levqor serve` on the embedded data dir, idle (median of 10 samples 1 s apart after start)', f0(median(idle))],
        ['the same serve after the rounds above (its resident memory never returns to the OS)', f0(servedAfter)],
        ['PGlite alone on the data dir, Postgres defaults (shared_buffers 128 MB, maintenance_work_mem 64 MB)', f0(probeDefault)],
        [`PGlite alone on the data dir, Levqor's settings (${LEVQOR_SETTINGS.join(', ')})`, f0(probeLevqor)],
      ],
    ),
    '',
    'PGlite keeps its buffer cache in WebAssembly memory, which never shrinks; reads go through the OS page cache anyway, so a small `shared_buffers` costs little. `initialMemory` cannot go below the module’s 128 MB minimum (untouched pages are not resident anyway), and `relaxedDurability` has no effect on the Node filesystem (PGlite runs with fsync off already).',
  ].join('\n');
  writeSection('Embedded', body, log);
} finally {
  await dropDatabase(DB).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}
