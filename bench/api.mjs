// API benchmark: `npm run bench:api` (builds lib/cli.js first).
//
// 1. GET /api/approvals (default page of 50 among 10,000 pending Class C requests) and
//    GET /api/approvals/:id against a bare Fastify + pg server that runs the same SQL (written out
//    here, checked against src/approvals/queries.ts) and returns a byte-identical body (checked at
//    start), with autocannon at 10 and 50 connections, Levqor and bare alternating, ROUNDS rounds;
//    the medians are reported against the targets (list ≥ 90 %, by id ≥ 60 % of the bare route);
//    a bare `{"ok":true}` route once, for reference;
// 2. approve throughput: 4 deciders, each with its own token and HTTP loop, on distinct requests,
//    then a race of the 4 on shared requests, everything verified exactly once;
// 3. where the time goes: query timings, a query-traced server (round trips per request, token
//    look-ups), CPU profiles, page sizes, and a commit probe (NOTIFY, round trips).
// Writes the `## API` section of bench/RESULTS.md and drops its database.
//
// Flags: --quick (one round of 5 s runs), --keep (keep the database), --no-wait (measure even while
// another benchmark runs: for trying the script out; such rows are flagged busy).
// `node bench/api.mjs --variant bare` is the comparison server it starts.
import autocannon from 'autocannon';
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import {
  ADMIN_URL,
  ROOT,
  createDatabase,
  dbUrl,
  dropDatabase,
  load1,
  machineInfo,
  postgresCpuSeconds,
  replaceSection,
  runProcess,
  sampleBackends,
  startProcess,
  table,
  withPg,
} from './lib.mjs';

const QUICK = process.argv.includes('--quick');
const KEEP = process.argv.includes('--keep');
const NO_WAIT = process.argv.includes('--no-wait');
const BUILT_CLI = join(ROOT, 'lib/cli.js');
// Other sessions rebuild lib/cli.js while we run: every Levqor process here runs a snapshot taken
// at start. It sits under node_modules/ so that its bare imports resolve to the project's packages.
const SNAPSHOT_DIR = join(ROOT, 'node_modules/.cache/levqor-bench-api');
// The whole of lib/ (the CLI is split into chunks), under node_modules/ so bare imports resolve.
const CLI = join(SNAPSHOT_DIR, `lib-${process.pid}`, 'cli.js');
const RESULTS = join(ROOT, 'bench/RESULTS.md');
const PENDING = 10_000;
const CONNECTIONS = [10, 50];
const WARMUP_S = 2;
const DURATION_S = QUICK ? 5 : 8;
/** Rounds of the Levqor / bare comparison (odd, so that the median is a measured round). */
const ROUNDS = QUICK ? 1 : 5;
const DECIDERS = 4;
const APPROVE_S = QUICK ? 5 : 10;
const RACE_IDS = 100;
const PROBE_ROUNDS = QUICK ? 1 : 3;
const TRACED_APPROVALS = 200;
const TRACED_LIST_S = 11;
const SEQUENTIAL = 500;
const PAGE_LIMITS = [1, 10, 200];
/** Levqor's default pool size (LEVQOR_DB_POOL_MAX), for the share of pool time the token look-ups hold; the bare server's too. */
const POOL_MAX = 10;
/** LEVQOR_API_RATE_LIMIT: config.ts refuses more than 1,000,000 (100,000,000 fails at start). */
const RATE_LIMIT = 1_000_000;
/** The endpoints compared, each Levqor's route against the bare server's, with the issue-13 target. */
const ENDPOINTS = [
  { key: 'list', label: 'GET /api/approvals (page of 50)', target: 0.9, levqor: () => '/api/approvals', bare: () => '/bench/approvals' },
  {
    key: 'id',
    label: 'GET /api/approvals/:id',
    target: 0.6,
    levqor: (id) => `/api/approvals/${id}`,
    bare: (id) => `/bench/approvals/${id}`,
  },
];

const log = (...a) => console.log('[bench:api]', ...a);
const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number(x.toFixed(d)));
const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${Math.round(x * 100)} %`);
const version = (pkg) => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;

/** The p-th percentile (nearest rank) of a list of numbers. */
function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// The bare server's SQL, written out to match src/approvals/queries.ts (COLUMNS, listApprovals,
// getApproval, listVotes); checkSameSql() fails the run when the two drift apart.
const COLUMNS = `id, tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
  status, requested_by, requested_at, expires_at, processed_at, processed_by, reason, execution_started_at, execution_finished_at,
  required_approvals, approvals_count, reminded_at, previous_id, source`;
const BARE_SQL = {
  listApprovals: `SELECT ${COLUMNS} FROM approval_queue
     WHERE tenant_id = $1 AND status = $2 AND ($4::float8 IS NULL OR (requested_at, id) > ($4::float8, $5::uuid))
     ORDER BY requested_at, id LIMIT $3`,
  getApproval: `SELECT ${COLUMNS} FROM approval_queue WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`,
  listVotes: 'SELECT actor, channel, vote, reason, created_at FROM approval_votes WHERE approval_id = $1 ORDER BY id',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fails unless each bare statement is, whitespace aside, the one src/approvals/queries.ts sends. */
function checkSameSql() {
  const src = readFileSync(join(ROOT, 'src/approvals/queries.ts'), 'utf8');
  const columns = /const COLUMNS = `([^`]*)`/.exec(src)?.[1];
  const squash = (x) => x.replace(/\s+/g, ' ').trim();
  for (const [fn, sql] of Object.entries(BARE_SQL)) {
    const body = src.slice(src.indexOf(`export async function ${fn}(`));
    const text = /(?:`([^`]*)`|'([^']*)')/.exec(body.slice(body.indexOf('.query')));
    const theirs = text && (text[1] ?? text[2]).replace('${COLUMNS}', columns ?? '');
    if (!columns || !theirs || squash(theirs) !== squash(sql)) {
      throw new Error(
        `bench/api.mjs: the bare server's ${fn} SQL no longer matches src/approvals/queries.ts:\n  theirs: ${theirs && squash(theirs)}\n  ours:   ${squash(sql)}`,
      );
    }
  }
}

// ----------------------------------------------------------------- comparison server

/**
 * The bare comparison server: Fastify and a pg pool, no auth, rate limit, validation or hooks.
 * `/bench/ok` → `{"ok":true}`; `/bench/approvals` and `/bench/approvals/:id` run Levqor's SQL for the
 * benchmark tenant and build the same bodies as src/http/routes/approvals.ts, serialised by Fastify.
 */
async function serveBare() {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DB_URL, max: POOL_MAX, application_name: 'levqor-bench-bare' });
  const tenant = process.env.BENCH_TENANT_ID;
  app.get('/bench/ok', () => ({ ok: true }));
  app.get('/bench/approvals', async () => {
    const { rows } = await pool.query(BARE_SQL.listApprovals, [tenant, 'pending', 51, null, null]);
    const page = rows.slice(0, 50);
    const last = page.at(-1);
    return {
      approvals: page,
      next_cursor: rows.length > 50 && last ? Buffer.from(JSON.stringify([last.requested_at, last.id])).toString('base64url') : null,
    };
  });
  app.get('/bench/approvals/:id', async (request, reply) => {
    const { id } = request.params;
    const {
      rows: [approval],
    } = UUID.test(id) ? await pool.query(BARE_SQL.getApproval, [id, tenant]) : { rows: [] };
    if (!approval) return reply.status(404).send({ error: 'not_found', message: `approval ${id} not found` });
    const { rows: votes } = await pool.query(BARE_SQL.listVotes, [approval.id]);
    return { ...approval, votes };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening ${app.server.address().port}\n`);
  const stop = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ---------------------------------------------------------------------- processes

const children = new Set();
const created = new Set();

/** CPU seconds (user + system) a live process has used. */
function pidCpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Command lines of other benchmarks seen during a measurement, for the report. */
const seenOthers = new Set();

/** The bench/*.mjs script a command line runs with node, if any (not a linter reading one). */
function benchScript(cmdline) {
  const t = cmdline.split(/\s+/);
  for (let i = 0; i < t.length; i++) {
    if (!/(^|\/)node$/.test(t[i])) continue;
    let j = i + 1;
    while (j < t.length && t[j].startsWith('-')) j += /^(--import|--require|-r|--loader|--experimental-loader)$/.test(t[j]) ? 2 : 1;
    if (/(^|\/)bench\/[\w/-]+\.mjs$/.test(t[j] ?? '')) return t[j];
  }
  return null;
}

/** Other benchmarks running on this machine (`node …bench/**.mjs` of any work tree, but not this one). */
function otherBenchmarks(record = false) {
  let found = [];
  try {
    found = execFileSync('pgrep', ['-af', 'bench/[A-Za-z0-9_/-]+\\.mjs'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => {
        const script = l ? benchScript(l.replace(/^\d+\s+/, '')) : null;
        return script !== null && !/(^|\/)bench\/(api|lib)\.mjs$/.test(script);
      });
  } catch {
    // pgrep exits 1 when nothing matches
  }
  if (record) for (const l of found) seenOthers.add(l.replace(/^\d+\s+/, ''));
  return found;
}

async function waitForQuiet(maxMinutes = 30) {
  const t0 = performance.now();
  if (NO_WAIT) return { waitedS: 0, busy: otherBenchmarks().length > 0 };
  let waited = false;
  for (let others = otherBenchmarks(); others.length; others = otherBenchmarks()) {
    if (performance.now() - t0 > maxMinutes * 60_000) {
      log(`still busy after ${maxMinutes} min, measuring anyway: ${others.join(' | ')}`);
      return { waitedS: (performance.now() - t0) / 1000, busy: true };
    }
    if (!waited || Math.round((performance.now() - t0) / 1000) % 60 < 5)
      log(`waiting for other benchmarks to finish: ${others.join(' | ')}`);
    waited = true;
    await sleep(5_000);
  }
  return { waitedS: (performance.now() - t0) / 1000, busy: false };
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function stopChild(p) {
  if (!children.has(p)) return null;
  children.delete(p);
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const kill = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  const r = await p.done;
  clearTimeout(kill);
  return r;
}

/** The environment of a Levqor process: ours without LEVQOR_* settings, plus the given ones. */
function levqorEnv(url, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEVQOR_')));
  return { ...env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn', ...extra };
}

/** `levqor serve --no-scheduler` on a free port, once /healthz answers (optionally query-traced and CPU-profiled). */
async function startLevqor(url, { traceFile, profileDir } = {}) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = [
      ...(traceFile ? ['--import', pathToFileURL(join(ROOT, 'bench/lib.mjs')).href] : []),
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      CLI,
      'serve',
      '--no-scheduler',
      '--port',
      String(port),
    ];
    const extra = { LEVQOR_API_RATE_LIMIT: String(RATE_LIMIT), ...(traceFile ? { LEVQOR_BENCH_TRACE: traceFile } : {}) };
    const p = startProcess(process.execPath, args, { env: levqorEnv(url, extra) });
    children.add(p);
    let exited = null;
    void p.done.then((r) => (exited = r));
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && !exited) {
      const ok = await request(port, 'GET', '/healthz').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { name: 'levqor', proc: p, pid: p.child.pid, port, url: `http://127.0.0.1:${port}/api/approvals`, args };
      await sleep(100);
    }
    await stopChild(p);
    const why = exited ? `exited ${exited.code}: ${exited.stderr || exited.stdout}` : 'no answer on /healthz in 30 s';
    if (attempt >= 3 || !/EADDRINUSE/.test(why)) throw new Error(`levqor serve did not start: ${why}`);
  }
}

async function startBare(env) {
  const p = startProcess(process.execPath, [join(ROOT, 'bench/api.mjs'), '--variant', 'bare'], { env: { ...process.env, ...env } });
  children.add(p);
  const port = await new Promise((resolve, reject) => {
    let out = '';
    p.child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void p.done.then((r) => reject(new Error(`bare server exited (${r.code}): ${r.stderr}`)));
    setTimeout(() => reject(new Error('bare server did not start in 20 s')), 20_000).unref();
  });
  return { name: 'bare', proc: p, pid: p.child.pid, port, url: `http://127.0.0.1:${port}/bench/ok` };
}

/** One HTTP request; resolves with status and body text. */
function request(port, method, path, { token, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }),
    };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

// --------------------------------------------------------------------------- setup

const SEED_SQL = `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash,
    requested_by, requested_at, expires_at, source)
  SELECT $1, 'deploy.production', 'C', 'Deploy api build ' || i || ' to production',
    jsonb_build_object('service', 'api', 'build', i, 'region', 'eu-west-1'), md5(i::text),
    'token:seed', extract(epoch FROM now()) - ${PENDING} + i, extract(epoch FROM now()) + 10 * 365 * 86400, 'api'
  FROM generate_series(1, ${PENDING}) AS i`;

async function tokenCreate(url, name, scopes) {
  const args = [CLI, 'token', 'create', '--tenant', 'bench', '--name', name, '--json', ...(scopes ? ['--scopes', scopes] : [])];
  const r = await runProcess(process.execPath, args, { env: levqorEnv(url) });
  if (r.code !== 0) throw new Error(`token create ${name} failed (${r.code}): ${r.stderr || r.stdout}`);
  return { name, token: JSON.parse(r.stdout).token };
}

async function setup() {
  const db = `levqor_bench_api_${process.pid}`;
  created.add(db);
  await createDatabase(db);
  const url = dbUrl(db);
  const m = await runProcess(process.execPath, [CLI, 'migrate'], { env: levqorEnv(url) });
  if (m.code !== 0) throw new Error(`migrate failed (${m.code}): ${m.stderr || m.stdout}`);
  const tenantId = await withPg(url, async (c) => (await c.query(`INSERT INTO tenants (name) VALUES ('bench') RETURNING id`)).rows[0].id);
  const tokens = await Promise.all([
    tokenCreate(url, 'bench'),
    ...Array.from({ length: DECIDERS }, (_, i) => tokenCreate(url, `decider-${i + 1}`, 'approvals:read,approvals:decide')),
  ]);
  const seedMs = await withPg(url, async (c) => {
    const t0 = performance.now();
    await c.query(SEED_SQL, [tenantId]);
    const ms = performance.now() - t0;
    await c.query('VACUUM ANALYZE');
    return ms;
  });
  log(`database ${db}: migrated in ${round(m.ms / 1000)} s, ${PENDING} pending approvals seeded in ${round(seedMs / 1000)} s`);
  return { db, url, tenantId, reader: tokens[0], deciders: tokens.slice(1), migrateMs: m.ms, seedMs };
}

// ---------------------------------------------------------------------- list: autocannon

async function cannon(target, token, connections, seconds) {
  const latencies = [];
  const run = autocannon({ url: target.url, connections, duration: seconds, headers: { authorization: `Bearer ${token}` } });
  run.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const r = await run;
  const bad = r.errors + r.timeouts + r.non2xx + r.mismatches;
  if (bad > 0) {
    throw new Error(
      `${target.name} at ${connections} connections: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx ` +
        `(status codes ${JSON.stringify(r.statusCodeStats)})`,
    );
  }
  return { r, latencies };
}

async function measure(target, token, connections, roundNo, endpoint = 'list') {
  const busy = otherBenchmarks(true).length > 0;
  await cannon(target, token, connections, WARMUP_S);
  const load = load1();
  const cpu0 = pidCpuSeconds(target.pid);
  const pg0 = postgresCpuSeconds();
  const me0 = process.cpuUsage();
  const { r, latencies } = await cannon(target, token, connections, DURATION_S);
  const me = process.cpuUsage(me0);
  const n = r.requests.total;
  const row = {
    name: target.name,
    endpoint,
    connections,
    round: roundNo,
    rps: r.requests.mean,
    total: n,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.reduce((a, x) => Math.max(a, x), 0),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytes: r.throughput.total / n,
    serverCpuMs: ((pidCpuSeconds(target.pid) - cpu0) * 1000) / n,
    pgCpuMs: pg0 === null ? null : ((postgresCpuSeconds() - pg0) * 1000) / n,
    benchCpuMs: (me.user + me.system) / 1000 / n,
    load,
    busy: otherBenchmarks(true).length > 0 || busy,
  };
  log(
    `${target.name.padEnd(9)} ${endpoint.padEnd(4)} c=${connections} #${roundNo}: ${Math.round(row.rps)} req/s, p50 ${round(row.p50)} ms, p99 ${round(row.p99)} ms`,
  );
  return row;
}

async function sequentialLatency(target, token, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const path = new URL(target.url).pathname;
  const ms = [];
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now();
    const r = await request(target.port, 'GET', path, { token, agent });
    if (r.status !== 200) throw new Error(`${target.name}: GET ${path} → ${r.status} ${r.text}`);
    if (i >= 50) ms.push(performance.now() - t0);
  }
  agent.destroy();
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** The median of a list of numbers (the middle one for an odd count). */
function median(xs) {
  return percentile(xs, 50);
}

/** One endpoint on one server, as a measurement target. */
function endpointTarget(server, endpoint, approvalId) {
  const path = server.name === 'levqor' ? endpoint.levqor(approvalId) : endpoint.bare(approvalId);
  return { ...server, url: `http://127.0.0.1:${server.port}${path}` };
}

/**
 * Levqor against the bare server, each endpoint at each connection count, ROUNDS rounds; within a
 * round each pair runs back to back, Levqor first in odd rounds and bare first in even ones, so that
 * drifting background load does not favour one side. Then the `{"ok":true}` reference, one request
 * at a time latencies, and Levqor's list at other page sizes.
 */
async function compareBenchmark(levqor, bare, token, approvalId) {
  const rows = [];
  for (let r = 1; r <= ROUNDS; r++) {
    for (const endpoint of ENDPOINTS) {
      for (const c of CONNECTIONS) {
        for (const server of r % 2 === 1 ? [levqor, bare] : [bare, levqor]) {
          rows.push(await measure(endpointTarget(server, endpoint, approvalId), token, c, r, endpoint.key));
        }
      }
    }
  }
  const plain = [];
  for (const c of CONNECTIONS) plain.push(await measure(bare, token, c, 1, 'ok'));
  const sequential = {};
  for (const endpoint of ENDPOINTS) {
    for (const server of [levqor, bare])
      sequential[`${server.name} ${endpoint.key}`] = await sequentialLatency(
        endpointTarget(server, endpoint, approvalId),
        token,
        SEQUENTIAL,
      );
  }
  const pages = [];
  for (const limit of PAGE_LIMITS)
    pages.push({
      limit,
      ...(await measure({ ...levqor, name: `levqor?limit=${limit}`, url: `${levqor.url}?limit=${limit}` }, token, 10, 1)),
    });
  return { rows, plain, sequential, pages };
}

/** The comparison of one endpoint at one connection count: medians, per-round ratios, the median round of each side. */
function comparison(rows, endpoint, c) {
  const of = (name) =>
    rows.filter((r) => r.name === name && r.endpoint === endpoint.key && r.connections === c).sort((a, b) => a.round - b.round);
  const lq = of('levqor');
  const bq = of('bare');
  const ratios = lq.map((l, i) => l.rps / bq[i].rps);
  const mid = (xs) => [...xs].sort((a, b) => a.rps - b.rps)[Math.floor((xs.length - 1) / 2)];
  const levqorMedian = median(lq.map((r) => r.rps));
  const bareMedian = median(bq.map((r) => r.rps));
  const ratio = levqorMedian / bareMedian;
  return {
    endpoint,
    c,
    lq,
    bq,
    ratios,
    levqorMedian,
    bareMedian,
    ratio,
    pairedMedian: median(ratios),
    met: ratio >= endpoint.target,
    L: mid(lq),
    B: mid(bq),
  };
}

// ------------------------------------------------------------------------ diagnosis

/** Mean ms per call of each query, in interleaved blocks (drifting load hits all alike); the median block is kept. */
async function timeQueries(c, queries, perBlock = 200, blocks = 7) {
  for (const query of Object.values(queries)) for (let i = 0; i < 20; i++) await c.query(query);
  const means = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
  for (let b = 0; b < blocks; b++) {
    for (const [k, query] of Object.entries(queries)) {
      const t0 = performance.now();
      for (let i = 0; i < perBlock; i++) await c.query(query);
      means[k].push((performance.now() - t0) / perBlock);
    }
  }
  return Object.fromEntries(Object.entries(means).map(([k, xs]) => [k, percentile(xs, 50)]));
}

function timeSync(fn, n) {
  for (let i = 0; i < Math.min(n, 1000); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t0) * 1000) / n; // µs
}

/** Query and in-process costs of one list request, measured one at a time. */
async function listDiagnosis(url, tenantId, page, token) {
  const sql = BARE_SQL.listApprovals;
  const values = [tenantId, 'pending', 51, null, null];
  const raw = { getTypeParser: () => (v) => v };
  const q = await withPg(url, async (c) => {
    let plan = [];
    for (let i = 0; i < 3; i++) plan = (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values)).rows.map((r) => r['QUERY PLAN']);
    const times = await timeQueries(c, {
      selectOne: { text: 'SELECT 1' },
      unnamed: { text: sql, values },
      prepared: { name: 'bench_list', text: sql, values },
      rawText: { text: sql, values, types: raw },
      ids: { text: sql.replace(/SELECT[\s\S]*?FROM approval_queue/, 'SELECT id FROM approval_queue'), values },
    });
    return { plan, ...times };
  });
  const listQuery = z
    .object({
      status: z.enum(['pending', 'approved', 'rejected', 'expired']).default('pending'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(500).optional(),
    })
    .strict();
  const body = JSON.stringify(page);
  return {
    ...q,
    bodyBytes: Buffer.byteLength(body),
    stringifyUs: timeSync(() => JSON.stringify(page), 3000),
    sha256Us: timeSync(() => createHash('sha256').update(token).digest('hex'), 100_000),
    zodUs: timeSync(() => listQuery.safeParse({}), 100_000),
  };
}

/** The transaction shapes of the commit probe: [name, statements between BEGIN and COMMIT]. */
const PROBE_SHAPES = [
  ['insert', ['INSERT INTO bench_notify_probe (v) VALUES (1)']],
  ['insert + notify', ['INSERT INTO bench_notify_probe (v) VALUES (1)', "SELECT pg_notify('levqor_bench_probe', 'x')"]],
  // A decision's shape: 10 round trips (BEGIN, 8 statements, COMMIT), one of them a NOTIFY.
  [
    '10 round trips + notify',
    ['INSERT INTO bench_notify_probe (v) VALUES (1)', ...Array(6).fill('SELECT 1'), "SELECT pg_notify('levqor_bench_probe', 'x')"],
  ],
];

/**
 * Transactions per second of each probe shape from 1 and from DECIDERS pg clients in this process:
 * PROBE_ROUNDS rounds of `seconds` each, shapes in rotating order; the best round of each is kept.
 */
async function commitProbe(url, seconds) {
  await withPg(url, (c) => c.query('CREATE TABLE IF NOT EXISTS bench_notify_probe (id bigint GENERATED ALWAYS AS IDENTITY, v int)'));
  const tries = [];
  for (let r = 0; r < PROBE_ROUNDS; r++) {
    for (const clients of [1, DECIDERS]) {
      for (let k = 0; k < PROBE_SHAPES.length; k++) {
        const [shape, statements] = PROBE_SHAPES[(k + r) % PROBE_SHAPES.length];
        const deadline = performance.now() + seconds * 1000;
        const counts = await Promise.all(
          Array.from({ length: clients }, () =>
            withPg(url, async (c) => {
              let n = 0;
              while (performance.now() < deadline) {
                await c.query('BEGIN');
                for (const sql of statements) await c.query(sql);
                await c.query('COMMIT');
                n++;
              }
              return n;
            }),
          ),
        );
        tries.push({ clients, shape, tps: sumOf(counts) / seconds });
      }
    }
  }
  await withPg(url, (c) => c.query('DROP TABLE bench_notify_probe'));
  return [1, DECIDERS].flatMap((clients) =>
    PROBE_SHAPES.map(([shape]) => ({
      clients,
      shape,
      tps: Math.max(...tries.filter((t) => t.clients === clients && t.shape === shape).map((t) => t.tps)),
    })),
  );
}

/** Statements a traced Levqor process sent: count, client ms. */
function readTrace(file) {
  const trace = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  return trace;
}

/**
 * Where a Levqor process spent its CPU after `skipMs` (its start-up), from a --cpu-prof profile:
 * self time by package (node_modules/<pkg>, Levqor's bundle, node core, natives, GC) and the top functions.
 */
function summarizeProfile(dir, skipMs) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return null;
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = 0;
  let windowUs = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    if (t < skipMs * 1000) continue;
    const us = prof.timeDeltas[i + 1] ?? 0;
    windowUs += us;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + us);
  }
  const category = ({ url, functionName }) => {
    if (!url) {
      if (functionName === '(idle)') return null;
      if (functionName === '(garbage collector)') return 'garbage collector';
      if (functionName === '(program)') return 'V8 / native (program)';
      if (/^(stringify|parse)$/.test(functionName)) return `native JSON.${functionName}`;
      if (/^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|shutdown)$/.test(functionName))
        return 'native socket writes (writev …)';
      if (/Slice$|Write$|^(byteLength|compare|copy|fill|from|toString|indexOf)/.test(functionName)) return 'native buffers and strings';
      return 'other native builtins';
    }
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
    if (pkg === '.cache') return 'Levqor (lib/cli.js)';
    if (pkg) return `${pkg}`;
    if (url.startsWith('node:')) return 'node core (http, net, streams, crypto)';
    return url.includes('/lib/cli.js') ? 'Levqor (lib/cli.js)' : 'other';
  };
  const cats = new Map();
  const fns = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id).callFrame;
    const c = category(frame);
    if (c === null) continue;
    busy += us;
    cats.set(c, (cats.get(c) ?? 0) + us);
    const where = frame.url
      ? `${frame.url.replace(/^.*node_modules\//, '').replace(/^.*levqor-bench-api\/cli-\d+\.mjs/, 'lib/cli.js')}:${frame.lineNumber + 1}`
      : 'native';
    const key = `${frame.functionName || '(anonymous)'} (${where})`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, totalMs: windowUs / 1000, skipMs, categories: top(cats, 14), functions: top(fns, 15) };
}

/** A query-traced, CPU-profiled server under autocannon: round trips per list request, token UPDATEs. */
async function tracedList(url, token, connections) {
  const traceFile = join(tmpdir(), `levqor-bench-api-list-${process.pid}-${connections}.json`);
  const profileDir = mkdtempSync(join(tmpdir(), 'levqor-bench-api-prof-'));
  const server = await startLevqor(url, { traceFile, profileDir });
  const skipMs = performance.now() - server.proc.startedAt;
  const { r, latencies } = await cannon(server, token, connections, TRACED_LIST_S);
  await stopChild(server.proc);
  return {
    connections,
    requests: r.requests.total,
    rps: r.requests.mean,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.reduce((a, x) => Math.max(a, x), 0),
    trace: readTrace(traceFile),
    profile: summarizeProfile(profileDir, skipMs),
  };
}

// ------------------------------------------------------------------------- approve

async function decide(port, d, id) {
  const t0 = performance.now();
  const r = await request(port, 'POST', `/api/approvals/${id}/approve`, { token: d.token, body: {}, agent: d.agent });
  const ms = performance.now() - t0;
  let outcome = null;
  try {
    outcome = JSON.parse(r.text).outcome ?? JSON.parse(r.text).error;
  } catch {
    // not JSON: reported with the status
  }
  return { id, by: d.name, status: r.status, outcome, ms, text: r.status === 200 ? '' : r.text.slice(0, 200) };
}

/** Each decider approves its own ids, one request at a time, until the deadline or its ids run out. */
async function approveLoop(port, deciders, slices, deadline, warmup) {
  const per = await Promise.all(
    deciders.map(async (d, i) => {
      const out = [];
      const ids = slices[i];
      while (d.next < ids.length && (warmup ? out.length < warmup : performance.now() < deadline))
        out.push(await decide(port, d, ids[d.next++]));
      return out;
    }),
  );
  return per.flat();
}

/** One timed run: `deciders` loops until the deadline, with CPU, WAL and backend states. */
async function approveRun(server, db, deciders, slices, seconds) {
  const wal0 = await withPg(ADMIN_URL, async (c) => (await c.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
  const load = load1();
  const busy0 = otherBenchmarks(true).length > 0;
  const cpu0 = pidCpuSeconds(server.pid);
  const pg0 = postgresCpuSeconds();
  const me0 = process.cpuUsage();
  const t0 = performance.now();
  const loop = approveLoop(server.port, deciders, slices, t0 + seconds * 1000, 0);
  const sampling = sampleBackends(ADMIN_URL, db, loop);
  const decisions = await loop;
  const elapsed = (performance.now() - t0) / 1000;
  const me = process.cpuUsage(me0);
  const serverCpu = pidCpuSeconds(server.pid) - cpu0;
  const pgCpu = pg0 === null ? null : postgresCpuSeconds() - pg0;
  const backends = await sampling;
  const walBytes = await withPg(ADMIN_URL, async (c) =>
    Number((await c.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS b', [wal0])).rows[0].b),
  );
  const exhausted = deciders.some((d, i) => d.next >= slices[i].length);
  const busy = otherBenchmarks(true).length > 0 || busy0;
  log(
    `approve, ${deciders.length} decider(s): ${decisions.length} decisions in ${round(elapsed)} s → ${Math.round(decisions.length / elapsed)}/s`,
  );
  return {
    deciders: deciders.length,
    decisions,
    elapsed,
    serverCpu,
    pgCpu,
    genCpu: (me.user + me.system) / 1e6,
    walBytes,
    backends,
    load,
    busy,
    exhausted,
  };
}

/**
 * Approvals on a fresh server (so that its pool holds only the deciders' connections): 1 decider,
 * then all of them, each on its own share of the ids; then a race of all of them on shared ids.
 */
async function approveBenchmark(url, db, deciders, ids) {
  const raceIds = ids.slice(0, RACE_IDS);
  const tracedIds = ids.slice(RACE_IDS, RACE_IDS + TRACED_APPROVALS);
  const rest = ids.slice(RACE_IDS + TRACED_APPROVALS);
  const slices = deciders.map((_, i) => rest.filter((_, j) => j % DECIDERS === i));
  for (const d of deciders) {
    d.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    d.next = 0;
  }
  const server = await startLevqor(url);
  const warm = await approveLoop(server.port, deciders, slices, 0, 10);
  const runs = [
    await approveRun(server, db, deciders.slice(0, 1), slices.slice(0, 1), APPROVE_S / 2),
    await approveRun(server, db, deciders, slices, APPROVE_S),
  ];
  // Race: all deciders approve the same ids in the same order; exactly one may win each.
  const race = (
    await Promise.all(
      deciders.map(async (d) => {
        const out = [];
        for (const id of raceIds) out.push(await decide(server.port, d, id));
        return out;
      }),
    )
  ).flat();
  for (const d of deciders) d.agent.destroy();
  await stopChild(server.proc);
  return { warm, runs, race, raceIds, tracedIds };
}

async function tracedApprovals(url, decider, ids) {
  const traceFile = join(tmpdir(), `levqor-bench-api-approve-${process.pid}.json`);
  const profileDir = mkdtempSync(join(tmpdir(), 'levqor-bench-api-prof-'));
  const server = await startLevqor(url, { traceFile, profileDir });
  const skipMs = performance.now() - server.proc.startedAt;
  const d = { ...decider, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
  const results = [];
  for (const id of ids) results.push(await decide(server.port, d, id));
  d.agent.destroy();
  await stopChild(server.proc);
  return { results, trace: readTrace(traceFile), profile: summarizeProfile(profileDir, skipMs) };
}

/** Checks the ledger: every 200 is one approved request with one vote, one approved event and one audit entry. */
async function verify(url, { ok, raceIds, race }) {
  const problems = [];
  const bad = [...ok, ...race].filter((x) => !(x.status === 200 && x.outcome === 'approved') && !(x.status === 409 && raceIds.has(x.id)));
  for (const x of bad.slice(0, 5)) problems.push(`${x.by} on ${x.id}: ${x.status} ${x.outcome ?? ''} ${x.text}`);
  if (bad.length > 5) problems.push(`… ${bad.length - 5} more unexpected responses`);
  const winners = new Map();
  for (const x of [...ok, ...race].filter((y) => y.status === 200)) {
    if (winners.has(x.id)) problems.push(`${x.id} approved twice over HTTP (${winners.get(x.id)} and ${x.by})`);
    winners.set(x.id, x.by);
  }
  const raceStats = { ids: raceIds.size, wins: 0, conflicts: 0 };
  for (const id of raceIds) {
    const tries = race.filter((x) => x.id === id);
    const w = tries.filter((x) => x.status === 200).length;
    const c = tries.filter((x) => x.status === 409).length;
    raceStats.wins += w;
    raceStats.conflicts += c;
    if (w !== 1 || c !== DECIDERS - 1) problems.push(`race on ${id}: ${w} approvals, ${c} conflicts`);
  }
  const db = await withPg(url, async (c) => {
    const { rows: decided } = await c.query(
      `SELECT id, status, processed_by, approvals_count FROM approval_queue WHERE status <> 'pending'`,
    );
    const {
      rows: [s],
    } = await c.query(`
      WITH audits AS (SELECT subject, count(*) AS n FROM audit_log WHERE action = 'approval.approved' GROUP BY subject),
           votes AS (SELECT approval_id, count(*) AS n FROM approval_votes GROUP BY approval_id),
           events AS (SELECT approval_id, count(*) AS n FROM approval_events WHERE type = 'approved' GROUP BY approval_id)
      SELECT
        (SELECT count(*) FROM approval_queue q LEFT JOIN audits a ON a.subject = 'approval:' || q.id
          WHERE q.status = 'approved' AND a.n IS DISTINCT FROM 1)::int AS bad_audit,
        (SELECT count(*) FROM audits a WHERE NOT EXISTS
          (SELECT 1 FROM approval_queue q WHERE 'approval:' || q.id = a.subject AND q.status = 'approved'))::int AS orphan_audit,
        (SELECT count(*) FROM audit_log WHERE action <> 'approval.approved')::int AS other_audit,
        (SELECT count(*) FROM approval_queue q LEFT JOIN votes v ON v.approval_id = q.id
          WHERE q.status = 'approved' AND v.n IS DISTINCT FROM 1)::int AS bad_votes,
        (SELECT count(*) FROM votes v JOIN approval_queue q ON q.id = v.approval_id WHERE q.status = 'pending')::int AS pending_votes,
        (SELECT count(*) FROM approval_queue q LEFT JOIN events e ON e.approval_id = q.id
          WHERE q.status = 'approved' AND e.n IS DISTINCT FROM 1)::int AS bad_events,
        (SELECT count(*) FROM audit_log WHERE action = 'approval.approved')::int AS audits,
        (SELECT count(*) FROM approval_queue WHERE status = 'pending')::int AS pending`);
    return { decided, s };
  });
  const { decided, s } = db;
  for (const row of decided) {
    if (row.status !== 'approved') problems.push(`${row.id} is ${row.status}`);
    else if (!winners.has(row.id)) problems.push(`${row.id} approved in the database, but no client got a 200 for it`);
    else if (row.processed_by !== `token:${winners.get(row.id)}`)
      problems.push(`${row.id} processed_by ${row.processed_by}, but ${winners.get(row.id)} got the 200`);
    if (row.approvals_count !== 1) problems.push(`${row.id} has approvals_count ${row.approvals_count}`);
  }
  if (decided.length !== winners.size) problems.push(`${decided.length} decided in the database, ${winners.size} approvals answered 200`);
  for (const [k, label] of [
    ['bad_audit', 'approved requests without exactly one approval.approved audit entry'],
    ['orphan_audit', 'approval.approved audit entries for requests that are not approved'],
    ['other_audit', 'other audit entries'],
    ['bad_votes', 'approved requests without exactly one vote'],
    ['pending_votes', 'votes on pending requests'],
    ['bad_events', 'approved requests without exactly one approved event'],
  ]) {
    if (s[k] !== 0) problems.push(`${s[k]} ${label}`);
  }
  if (s.pending !== PENDING - winners.size) problems.push(`${s.pending} pending, expected ${PENDING - winners.size}`);
  return { problems, approved: decided.length, audits: s.audits, pending: s.pending, raceStats };
}

// --------------------------------------------------------------------------- report

const sumOf = (xs) => xs.reduce((a, b) => a + b, 0);
const maxOf = (xs) => xs.reduce((a, x) => Math.max(a, x), 0);

/** Statements of a trace, most called first: label, calls, calls per unit, client ms per call. */
function traceRows(trace, n) {
  return Object.entries(trace.queries)
    .sort((a, b) => b[1].count - a[1].count || b[1].ms - a[1].ms)
    .map(([label, s]) => [`\`${label}\``, s.count, round(s.count / n, 3), round(s.ms / s.count, 3)]);
}

function profileTables(profile, perUnit, unit) {
  if (!profile) return '(no CPU profile was written)';
  return `${table(
    ['self time in', `share of busy CPU`, `ms per ${unit}`],
    profile.categories.map((c) => [c.k, pct(c.share), round(c.ms / perUnit, 3)]),
  )}

Top functions by self time: ${profile.functions
    .slice(0, 10)
    .map((f) => `\`${f.k}\` ${pct(f.share)}`)
    .join(', ')}.`;
}

function backendLine(b) {
  const total = sumOf([...b.counts.values()]);
  return [...b.counts]
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${pct(v / total)}`)
    .join(', ');
}

function report(ctx) {
  const { machine, date, loads, wait, build, setupInfo, list, diag: q, tracedLists, approve, tracedA, check, probe, versions } = ctx;
  const comps = ENDPOINTS.flatMap((e) => CONNECTIONS.map((c) => comparison(list.rows, e, c)));
  const comp = (key, c) => comps.find((x) => x.endpoint.key === key && x.c === c);
  const plain = (c) => list.plain.find((r) => r.connections === c);
  const cpu = (r) => r.serverCpuMs + (r.pgCpuMs ?? 0) + r.benchCpuMs;
  const loadCell = (rs) =>
    `${round(Math.min(...rs.map((r) => r.load)), 2)}–${round(Math.max(...rs.map((r) => r.load)), 2)}${rs.some((r) => r.busy) ? ' (busy)' : ''}`;
  const anyBusy = list.rows.some((r) => r.busy) || approve.runs.some((r) => r.busy);
  const t50 = tracedLists.find((t) => t.connections === 50) ?? tracedLists.at(-1);
  const tokenStats = (t) => {
    const label = Object.keys(t.trace.queries).find((l) => l.startsWith('UPDATE api_tokens SET last_used_at'));
    const s = label ? t.trace.queries[label] : { count: 0, ms: 0 };
    return { count: s.count, ms: s.count ? s.ms / s.count : null };
  };
  const listStats = (t) => {
    const label = Object.keys(t.trace.queries).find((l) => l.startsWith('SELECT id, tenant_id, run_id'));
    const s = label ? t.trace.queries[label] : { count: 0, ms: 0 };
    return { count: s.count, ms: s.count ? s.ms / s.count : null };
  };
  const expectedTokenUpdates = Math.ceil(TRACED_LIST_S / 5);
  const at = tracedA.trace.queries;
  const perApproval = Object.values(at).filter((s) => s.count >= TRACED_APPROVALS);
  const approveQueries = sumOf(perApproval.map((s) => s.count)) / TRACED_APPROVALS;
  const approveQueryMs = sumOf(perApproval.map((s) => s.ms)) / TRACED_APPROVALS;
  const seqApprove = tracedA.results.map((x) => x.ms);
  const [one, all] = approve.runs;
  const rate = (r) => r.decisions.length / r.elapsed;
  const probeOf = (clients, shape) => probe.find((p) => p.clients === clients && p.shape === shape)?.tps;
  const mainState = (b) => [...b.counts].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'n/a';
  const L10 = comp('list', 10).L;
  const seq = (k) => list.sequential[k];

  return `_Written by \`npm run bench:api\` (bench/api.mjs) on ${date}. Rerun it to refresh this section._

### Summary

Levqor against a bare Fastify + pg server that runs the same SQL and returns a byte-identical body (median req/s of
${ROUNDS} alternating round(s) of ${DURATION_S} s each; target from issue 13):

${table(
  [
    'endpoint',
    'conn',
    'Levqor req/s',
    'bare req/s',
    'Levqor ÷ bare',
    'target',
    'met',
    'each round (Levqor ÷ bare)',
    'median of round ratios',
    'Levqor p50 / p99 ms',
    'bare p50 / p99 ms',
    'load',
  ],
  comps.map((x) => [
    x.endpoint.label,
    x.c,
    Math.round(x.levqorMedian),
    Math.round(x.bareMedian),
    `**${pct(x.ratio)}**`,
    `≥ ${pct(x.endpoint.target)}`,
    x.met ? 'yes' : '**no**',
    x.ratios.map(pct).join(', '),
    pct(x.pairedMedian),
    `${round(x.L.p50)} / ${round(x.L.p99)}`,
    `${round(x.B.p50)} / ${round(x.B.p99)}`,
    loadCell([...x.lq, ...x.bq]),
  ]),
)}

- Same bodies, checked before measuring: ${list.same.map((x) => `${x.key === 'list' ? 'the list' : 'one request'} ${x.bytes.toLocaleString('en')} bytes (sha256 ${x.sha}…)`).join(', ')},
  byte for byte from both servers. The bare server's SQL is checked, whitespace aside, against src/approvals/queries.ts at start.
- For reference, the target of issue 3: bare Fastify's \`{"ok":true}\` route serves ${CONNECTIONS.map((c) => `${Math.round(plain(c).rps)} req/s at ${c} connections`).join(', ')};
  Levqor's list is ${CONNECTIONS.map((c) => pct(comp('list', c).levqorMedian / plain(c).rps)).join(' / ')} of it, the bare list ${CONNECTIONS.map((c) => pct(comp('list', c).bareMedian / plain(c).rps)).join(' / ')}:
  a 34 KB page out of Postgres cannot come near \`{"ok":true}\`.
- CPU per request at 10 connections (server process + all of Postgres + load generator; all three share ${machine.nproc} cores):
${ENDPOINTS.map((e) => {
  const x = comp(e.key, 10);
  return `  ${e.label}: Levqor ${round(cpu(x.L), 3)} ms (server ${round(x.L.serverCpuMs, 3)}), bare ${round(cpu(x.B), 3)} ms (server ${round(x.B.serverCpuMs, 3)}).`;
}).join('\n')}
  What Levqor adds to the bare server (auth and its token cache, rate limit, zod, router, metrics hooks): ${ENDPOINTS.map((e) => {
    const x = comp(e.key, 10);
    return `${round(x.L.serverCpuMs - x.B.serverCpuMs, 3)} ms`;
  }).join(' / ')} of server CPU per request.
- Token cache: ${tracedLists.map((t) => `${tokenStats(t).count} token look-ups (an UPDATE and a commit each) in ${TRACED_LIST_S} s at ${t.connections} connections`).join(', ')},
  where one per 5 s period would be ${expectedTokenUpdates} (they held ${tracedLists.map((t) => pct((tokenStats(t).count * tokenStats(t).ms) / (POOL_MAX * TRACED_LIST_S * 1000))).join(' / ')} of the pool's connection time).
- Approvals: **${Math.round(rate(all))} decisions/s with ${all.deciders} deciders** (p50 ${round(
    percentile(
      all.decisions.map((x) => x.ms),
      50,
    ),
  )} ms), ${Math.round(rate(one))}/s with 1;
  ${round(approveQueries, 1)} round trips per decision in one transaction; every decision verified exactly once.

### Machine and versions

- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}; memory ${machine.memGiB} GiB. Server, Postgres and the load generator share these cores.
- ${machine.postgres} on the same machine (${machine.postgresSettings})
- Node ${machine.node}; fastify ${versions.fastify}; @fastify/rate-limit ${versions.rateLimit}; autocannon ${versions.autocannon}; pg ${versions.pg}; zod ${versions.zod}
- Levqor: lib/cli.js built from git ${build.head}${build.dirty ? ` plus uncommitted changes (${build.dirty} files under src/ or migrations/)` : ''}, sha256 ${build.sha}…; every Levqor
  process of the run uses a copy taken at start, since other sessions rebuild lib/cli.js.
- 1-minute load average at start / before the first measurement / end: ${loads.join(' / ')}${wait.waitedS > 1 ? `; waited ${round(wait.waitedS, 0)} s for other benchmarks to finish first` : ''};
  per measurement in the tables (the range over a comparison's rounds in the summary). The load average counts this
  benchmark's own server, Postgres backends and load generator too (about 2 while they keep both cores busy).
  ${anyBusy ? `**Another benchmark was running at the start or end of some measurements** (flagged "busy" in the tables): ${[...seenOthers].map((c) => `\`${c}\``).join(', ')}.` : 'No other benchmark (bench/**.mjs) ran during the measurements.'} The machine and the
  Postgres server are shared with other sessions (test suites), so single numbers carry ±20 % noise or more, and
  **PG CPU** (every postgres process) counts their queries too: hence alternating rounds and medians.

### Commands

\`\`\`sh
npm run bench:api              # node scripts/build.mjs && node bench/api.mjs [--quick] [--keep] [--no-wait]
DATABASE_URL=postgres://…/DB node lib/cli.js migrate
DATABASE_URL=postgres://…/DB node lib/cli.js token create --tenant bench --name bench --json        # reader (all scopes)
DATABASE_URL=postgres://…/DB node lib/cli.js token create --tenant bench --name decider-N --scopes approvals:read,approvals:decide --json   # N = 1…${DECIDERS}
DATABASE_URL=postgres://…/DB LEVQOR_API_RATE_LIMIT=${RATE_LIMIT} LEVQOR_LOG_LEVEL=warn node lib/cli.js serve --no-scheduler --port P
BENCH_DB_URL=postgres://…/DB BENCH_TENANT_ID=… node bench/api.mjs --variant bare   # the bare server: same fastify and pg, port 0
# autocannon (programmatic): { url, connections: C, duration: ${WARMUP_S} } warm-up, then { url, connections: C, duration: ${DURATION_S} },
#   headers { authorization: 'Bearer <reader token>' } on every target
\`\`\`

- Seed: tenant \`bench\` by SQL, tokens by the CLI, then one statement (${round(setupInfo.seedMs / 1000)} s; \`levqor migrate\` ${round(setupInfo.migrateMs / 1000)} s), then \`VACUUM ANALYZE\`:

  \`\`\`sql
  ${SEED_SQL.split('\n').join('\n  ')}
  \`\`\`
- The bare server (\`--variant bare\`, in bench/api.mjs, importing nothing from src/): Fastify with default options, a pg pool of
  ${POOL_MAX} (Levqor's default), and three routes: \`GET /bench/approvals\` runs listApprovals' SQL with (tenant, 'pending', 51, null, null)
  and returns \`{ approvals: first 50, next_cursor }\`; \`GET /bench/approvals/:id\` runs getApproval's and listVotes' SQL and returns
  \`{ ...approval, votes }\`; \`GET /bench/ok\` returns \`{"ok":true}\`. No auth, rate limit, validation, logging or hooks. The by-id
  request is the oldest pending one (no votes), the same id on both servers.
- \`LEVQOR_API_RATE_LIMIT=100000000\` is refused by config.ts (\`Too big: expected number to be <=1000000\`, exit 2), so the
  benchmark uses the maximum, ${RATE_LIMIT.toLocaleString('en')} per token per minute; no measurement comes near it (a 429 would fail the run).
- \`serve --no-scheduler\` still runs its approval expiry/reminder sweep every 30 s (two small transactions; nothing is due).
- Latency percentiles are computed from every response time autocannon reports (its 'response' event, sub-millisecond),
  not from its millisecond histogram. **req/s** is autocannon's mean of per-second counts. CPU per request: **srv** = the
  server process, **PG** = all postgres processes, **gen** = the load generator (this process).
  Every run must have 0 errors, 0 timeouts and 0 non-2xx responses, or the benchmark fails.

### Every round

${table(
  [
    'endpoint',
    'server',
    'conn',
    'req/s (median)',
    'req/s (each round)',
    'p50 ms',
    'p99 ms',
    'bytes/resp',
    'srv CPU ms/req',
    'PG CPU ms/req',
    'gen CPU ms/req',
    'load (each round)',
  ],
  comps.flatMap((x) =>
    [
      ['levqor', x.lq, x.L],
      ['bare', x.bq, x.B],
    ].map(([name, rs, mid]) => [
      x.endpoint.label,
      name,
      x.c,
      Math.round(name === 'levqor' ? x.levqorMedian : x.bareMedian),
      rs.map((r) => Math.round(r.rps)).join(' / '),
      round(mid.p50),
      round(mid.p99),
      Math.round(mid.bytes),
      round(mid.serverCpuMs, 3),
      round(mid.pgCpuMs, 3),
      round(mid.benchCpuMs, 3),
      rs.map((r) => `${r.load}${r.busy ? ' (busy)' : ''}`).join(' / '),
    ]),
  ),
)}

(p50, p99, bytes and CPU columns are those of the median round.) Bare \`{"ok":true}\`, once: ${list.plain.map((r) => `${Math.round(r.rps)} req/s at ${r.connections} connections (p99 ${round(r.p99)} ms, server CPU ${round(r.serverCpuMs, 3)} ms/req, load ${r.load})`).join('; ')}.

One request at a time (${SEQUENTIAL} sequential requests on one keep-alive connection, p50 / p99 ms):
${ENDPOINTS.map((e) => `${e.label}: Levqor ${round(seq(`levqor ${e.key}`).p50, 3)} / ${round(seq(`levqor ${e.key}`).p99, 3)}, bare ${round(seq(`bare ${e.key}`).p50, 3)} / ${round(seq(`bare ${e.key}`).p99, 3)}`).join('; ')}.

### Where the list request's time goes

The page's size, Levqor at 10 connections with \`?limit=N\` (one run each; 50 is the median round above):

${table(
  ['limit', 'bytes/resp', 'req/s', 'p50 ms', 'p99 ms', 'srv CPU ms/req', 'PG CPU ms/req', 'all CPU ms/req', 'load'],
  [...list.pages, { ...L10, limit: 50 }]
    .sort((a, b) => a.limit - b.limit)
    .map((r) => [
      r.limit,
      Math.round(r.bytes),
      Math.round(r.rps),
      round(r.p50),
      round(r.p99),
      round(r.serverCpuMs, 3),
      round(r.pgCpuMs, 3),
      round(cpu(r), 3),
      `${r.load}${r.busy ? ' (busy)' : ''}`,
    ]),
)}

Measured one at a time in the benchmark process (pg client, same SQL and parameters; median of 7
interleaved blocks of 200 calls):

- \`SELECT 1\` round trip: ${round(q.selectOne, 3)} ms. The list query as Levqor sends it (unnamed statement: parsed and planned on every
  call): **${round(q.unnamed, 3)} ms**; as a named prepared statement: ${round(q.prepared, 3)} ms; unnamed with rows left as text (no
  jsonb \`JSON.parse\` or float parsing in pg): ${round(q.rawText, 3)} ms; the same query returning only \`id\`: ${round(q.ids, 3)} ms.
- EXPLAIN (ANALYZE, BUFFERS), third run: ${q.plan
    .filter((l) => /Planning Time|Execution Time/.test(l))
    .map((l) => l.trim())
    .join('; ')}; plan:

  \`\`\`
  ${q.plan.filter((l) => !/Planning Time|Execution Time/.test(l)).join('\n  ')}
  \`\`\`
- Response body: ${q.bodyBytes.toLocaleString('en')} bytes (50 rows of 24 columns); \`JSON.stringify\` of it: ${round(q.stringifyUs, 1)} µs (the route has no
  response schema, so Fastify runs JSON.stringify). sha256 of a token: ${round(q.sha256Us, 2)} µs (twice per request: the
  authenticator and the rate-limit key). The list's zod query schema, \`safeParse({})\`: ${round(q.zodUs, 2)} µs.

Query-traced and CPU-profiled Levqor (\`node --import bench/lib.mjs --cpu-prof lib/cli.js serve …\`, a fresh process each, autocannon
for ${TRACED_LIST_S} s without warm-up; tracing and profiling slow it down, so read counts and shares, not rates):

${table(
  [
    'conn',
    'requests',
    'req/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'list queries per request',
    'list query ms (send → result)',
    'token UPDATEs',
    'one per 5 s would be',
    'ms per token UPDATE',
    `share of pool time (${POOL_MAX} connections)`,
  ],
  tracedLists.map((t) => [
    t.connections,
    t.requests,
    Math.round(t.rps),
    round(t.p50),
    round(t.p99),
    round(t.max),
    round(listStats(t).count / t.requests, 3),
    round(listStats(t).ms, 3),
    tokenStats(t).count,
    expectedTokenUpdates,
    round(tokenStats(t).ms, 2),
    pct((tokenStats(t).count * tokenStats(t).ms) / (POOL_MAX * TRACED_LIST_S * 1000)),
  ]),
)}

The authenticator (src/auth/tokens.ts) caches a token for 5 s, and concurrent misses for one token share one look-up: an
\`UPDATE api_tokens SET last_used_at … RETURNING\` and its commit (a WAL flush), holding one pool connection meanwhile.

Where the Levqor process's CPU went at ${t50.connections} connections (self time from the profile after start-up, idle excluded; ${round(t50.profile?.busyMs ?? NaN, 0)} ms busy of ${round(t50.profile?.totalMs ?? NaN, 0)} ms):

${profileTables(t50.profile, t50.requests, 'request')}

### Approve throughput: ${DECIDERS} deciders on distinct requests

Each decider has its own token (\`decider-N\`) and its own keep-alive connection, and sends
\`POST /api/approvals/:id/approve\` with body \`{}\` for its own share of the pending ids, one request at a time, on a freshly
started server (after 10 warm-up approvals each, verified but not counted): first decider-1 alone for ${APPROVE_S / 2} s, then all ${DECIDERS} for ${APPROVE_S} s.

${table(
  [
    'deciders',
    'decisions',
    'seconds',
    'decisions/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'per decider',
    'srv CPU ms/decision',
    'PG CPU ms/decision',
    'gen CPU ms/decision',
    'WAL KiB/decision (server-wide)',
    'load',
  ],
  approve.runs.map((r) => {
    const lat = r.decisions.map((x) => x.ms);
    const per = r.decisions.reduce((acc, x) => acc.set(x.by, (acc.get(x.by) ?? 0) + 1), new Map());
    const n = r.decisions.length;
    return [
      r.deciders,
      n,
      round(r.elapsed),
      Math.round(n / r.elapsed),
      round(percentile(lat, 50)),
      round(percentile(lat, 99)),
      round(maxOf(lat)),
      [...per.values()].join('/'),
      round((r.serverCpu * 1000) / n, 3),
      round((r.pgCpu * 1000) / n, 3),
      round((r.genCpu * 1000) / n, 3),
      round(r.walBytes / 1024 / n, 1),
      `${r.load}${r.busy ? ' (busy)' : ''}${r.exhausted ? ' (ran out of ids)' : ''}`,
    ];
  }),
)}

- **Verified** (${check.problems.length === 0 ? 'passed' : 'FAILED'}): ${check.approved.toLocaleString('en')} requests approved in all (warm-up, measured, race, traced), each answered 200
  to exactly one decider, whose token is its \`processed_by\`; each has exactly one vote, one \`approved\` event and exactly one
  \`approval.approved\` audit entry (${check.audits.toLocaleString('en')} entries, none for another request, no other audit action);
  ${check.pending.toLocaleString('en')} still pending, none with a vote; no request was decided twice.
- Race: the ${DECIDERS} deciders approved the same ${check.raceStats.ids} pending requests in the same order, at once: ${check.raceStats.wins} approvals
  (one per request) and ${check.raceStats.conflicts} \`409 conflict\` answers (${DECIDERS - 1} per request).
- What Levqor's backends were doing (pg_stat_activity every 20 ms; the fresh server's pool holds only the deciders' connections):
${approve.runs.map((r) => `  ${r.deciders} decider(s), ${r.backends.samples} samples: ${backendLine(r.backends)}.`).join('\n')}
- Round trips per decision (query-traced, CPU-profiled server, ${TRACED_APPROVALS} sequential approvals by one decider): **${round(approveQueries, 1)}**, all
  in one transaction; ${round(approveQueryMs, 2)} ms per decision waiting on them (send → result), of a latency of p50 ${round(percentile(seqApprove, 50), 2)} ms / p99 ${round(percentile(seqApprove, 99), 2)} ms:

${table(['statement (first line)', 'calls', 'per decision', 'client ms/call'], traceRows(tracedA.trace, TRACED_APPROVALS))}

Where that process's CPU went after start-up (${round(tracedA.profile?.busyMs ?? NaN, 0)} ms busy of ${round(tracedA.profile?.totalMs ?? NaN, 0)} ms):

${profileTables(tracedA.profile, TRACED_APPROVALS, 'decision')}

- Commit probe: pg clients in the benchmark process on the benchmark database, each looping \`BEGIN; …; COMMIT\`;
  best of ${PROBE_ROUNDS} interleaved 2 s run(s) per cell:

${table(
  ['transaction', 'round trips', 'TPS, 1 client', `TPS, ${DECIDERS} clients`],
  PROBE_SHAPES.map(([shape, st]) => [shape, st.length + 2, Math.round(probeOf(1, shape)), Math.round(probeOf(DECIDERS, shape))]),
)}

  A transaction that called pg_notify takes a database-wide lock on the notification queue at commit and holds it through
  its WAL flush, so such commits do not group: every decision commits with a NOTIFY (decidePending's approval event).
  The third shape is a decision's round trips without its work: ${Math.round(probeOf(1, '10 round trips + notify'))}/s from 1 client and ${Math.round(probeOf(DECIDERS, '10 round trips + notify'))}/s from ${DECIDERS}, against
  Levqor's ${Math.round(rate(one))}/s and ${Math.round(rate(all))}/s through HTTP; the backends were mostly "${mainState(all.backends)}" with ${DECIDERS} deciders.
`;
}

// ----------------------------------------------------------------------------- main

/** Fails unless Levqor and the bare server answer each endpoint with the same status and byte-identical JSON. */
async function checkSameBodies(levqor, bare, token, approvalId) {
  const out = [];
  for (const endpoint of ENDPOINTS) {
    const l = await request(levqor.port, 'GET', endpoint.levqor(approvalId), { token });
    const b = await request(bare.port, 'GET', endpoint.bare(approvalId), { token });
    if (l.status !== 200 || b.status !== 200 || l.text !== b.text) {
      const at = [...l.text].findIndex((ch, i) => ch !== b.text[i]);
      throw new Error(
        `${endpoint.label}: Levqor ${l.status} and bare ${b.status} bodies differ (${Buffer.byteLength(l.text)} / ${Buffer.byteLength(b.text)} bytes, ` +
          `first difference at ${at}: ${JSON.stringify(l.text.slice(Math.max(0, at - 40), at + 40))} / ${JSON.stringify(b.text.slice(Math.max(0, at - 40), at + 40))})`,
      );
    }
    out.push({ key: endpoint.key, bytes: Buffer.byteLength(l.text), sha: createHash('sha256').update(l.text).digest('hex').slice(0, 12) });
  }
  log(`same bodies: ${out.map((x) => `${x.key} ${x.bytes} bytes (sha256 ${x.sha})`).join(', ')}`);
  return out;
}

/** Copies lib/cli.js so that a rebuild by another session cannot change the server mid-run. */
async function snapshotBuild() {
  if (!existsSync(BUILT_CLI)) throw new Error('lib/cli.js is missing: run `npm run bench:api` (it builds first)');
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  cpSync(dirname(BUILT_CLI), dirname(CLI), { recursive: true });
  const sha = createHash('sha256').update(readFileSync(CLI)).digest('hex').slice(0, 12);
  const git = async (args) => (await runProcess('git', args)).stdout.trim();
  const head = await git(['rev-parse', '--short', 'HEAD']);
  const dirty = (await git(['status', '--porcelain', '--', 'src', 'migrations'])).split('\n').filter(Boolean).length;
  return { sha, head, dirty };
}

async function main() {
  const build = await snapshotBuild();
  const machine = await machineInfo();
  const versions = {
    fastify: version('fastify'),
    rateLimit: version('@fastify/rate-limit'),
    autocannon: version('autocannon'),
    pg: version('pg'),
    zod: version('zod'),
  };
  const loads = [load1()];
  log(
    `machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}, fastify ${versions.fastify}; build ${build.sha}`,
  );
  const wait = await waitForQuiet();
  const setupInfo = await setup();
  const { url, db, tenantId, reader, deciders } = setupInfo;

  checkSameSql();
  const levqor = await startLevqor(url);
  const first = await request(levqor.port, 'GET', '/api/approvals', { token: reader.token });
  const page = JSON.parse(first.text);
  if (first.status !== 200 || page.approvals?.length !== 50 || !page.next_cursor) {
    throw new Error(`GET /api/approvals: ${first.status} ${first.text.slice(0, 300)}`);
  }
  const approvalId = page.approvals[0].id;
  const bare = await startBare({ BENCH_DB_URL: url, BENCH_TENANT_ID: tenantId });
  const same = await checkSameBodies(levqor, bare, reader.token, approvalId);

  wait.waitedS += (await waitForQuiet()).waitedS;
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z'); // when the measurements start
  loads.push(load1());
  const list = await compareBenchmark(levqor, bare, reader.token, approvalId);
  list.same = same;
  await stopChild(levqor.proc);
  await stopChild(bare.proc);

  const diag = await listDiagnosis(url, tenantId, page, reader.token);
  log(`list query: ${round(diag.unnamed, 3)} ms unnamed, ${round(diag.prepared, 3)} ms prepared; body ${diag.bodyBytes} bytes`);

  const ids = await withPg(url, async (c) =>
    (await c.query(`SELECT id FROM approval_queue WHERE status = 'pending' ORDER BY requested_at, id`)).rows.map((r) => r.id),
  );
  const approve = await approveBenchmark(url, db, deciders, ids);

  const tracedLists = [];
  for (const c of CONNECTIONS) {
    tracedLists.push(await tracedList(url, reader.token, c));
    log(`traced list at ${c} connections: ${tracedLists.at(-1).requests} requests`);
  }
  const tracedA = await tracedApprovals(url, deciders[0], approve.tracedIds);
  const check = await verify(url, {
    ok: [...approve.warm, ...approve.runs.flatMap((r) => r.decisions), ...tracedA.results],
    race: approve.race,
    raceIds: new Set(approve.raceIds),
  });
  if (check.problems.length) throw new Error(`approval check failed:\n  ${check.problems.join('\n  ')}`);
  log(`verified: ${check.approved} approved exactly once, ${check.audits} audit entries`);
  const probe = await commitProbe(url, 2);
  loads.push(load1());

  const body = report({ machine, date, loads, wait, build, setupInfo, list, diag, tracedLists, approve, tracedA, check, probe, versions });
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  writeFileSync(RESULTS, replaceSection(old, 'API', body));
  log(`wrote ${RESULTS}`);
}

async function cleanup() {
  for (const p of [...children]) await stopChild(p).catch(() => undefined);
  rmSync(dirname(CLI), { recursive: true, force: true });
  if (KEEP) {
    if (created.size) log(`kept databases: ${[...created].join(', ')}`);
    return;
  }
  for (const db of created) await dropDatabase(db).catch((err) => log(`could not drop ${db}: ${err.message}`));
}

const variant = process.argv.indexOf('--variant');
if (variant >= 0) {
  if (process.argv[variant + 1] !== 'bare') throw new Error(`--variant ${process.argv[variant + 1]}: the only comparison server is "bare"`);
  await serveBare();
} else {
  process.on('SIGINT', () => {
    void cleanup().finally(() => process.exit(130));
  });
  try {
    await main();
  } catch (err) {
    console.error('[bench:api] FAILED:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
