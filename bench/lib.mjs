// Shared helpers for the benchmarks in bench/: scratch databases, child processes, CPU
// accounting from /proc, the RESULTS.md section writer, and an opt-in query tracer.
//
// Imported with `node --import ./bench/lib.mjs` and LEVQOR_BENCH_TRACE=<file> set, it also
// counts and times every query a Levqor process sends (see installQueryTrace).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The server to benchmark: BENCH_ADMIN_URL, default the local trust-auth superuser. */
export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the benchmark server. */
export function dbUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs fn with a connected client and closes it afterwards. */
export async function withPg(url, fn) {
  const client = new pg.Client({ connectionString: url, application_name: 'levqor-bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (name) => `"${name.replaceAll('"', '""')}"`;

/** Creates an empty database (dropping a leftover of the same name first). */
export async function createDatabase(name) {
  await withPg(ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${ident(name)}`);
  });
}

/** Drops a database, ending its sessions. */
export async function dropDatabase(name) {
  await withPg(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
}

/** Spawns a command and resolves when it exits: code, output, and elapsed milliseconds. */
export function runProcess(cmd, args, opts = {}) {
  return startProcess(cmd, args, opts).done;
}

/** Spawns a command now; `done` resolves with its exit code, output and elapsed milliseconds. */
export function startProcess(cmd, args, { env = process.env, cwd = ROOT } = {}) {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0, endedAt: performance.now() }));
  });
  return { child, startedAt: t0, done };
}

const CLK_TCK = 100; // USER_HZ on every Linux Node supports

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17, ppid 4.
    return { comm, ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds used by this process's exited children (the Levqor processes, pgbench). */
export function childCpuSeconds() {
  return (procStat('self')?.children ?? 0) / CLK_TCK;
}

/**
 * CPU seconds used by the local Postgres server: live postgres processes plus the backends
 * the postmaster has reaped. Server-wide, so other sessions' work is counted too. Null
 * when the server is not on this machine.
 */
export function postgresCpuSeconds() {
  const stats = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const s = procStat(pid);
    if (s?.comm === 'postgres') stats.set(Number(pid), s);
  }
  if (stats.size === 0) return null;
  let ticks = 0;
  for (const s of stats.values()) ticks += s.self + (stats.has(s.ppid) ? 0 : s.children);
  return ticks / CLK_TCK;
}

/** The 1-minute load average, to flag measurements taken on a busy machine. */
export const load1 = () => Math.round(loadavg()[0] * 100) / 100;

/** What the numbers were measured on. */
export async function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nproc = (await runProcess('nproc', [])).stdout.trim();
  const server = await withPg(ADMIN_URL, async (c) => {
    const { rows } = await c.query(`SELECT version() AS v, current_setting('fsync') AS fsync,
      current_setting('synchronous_commit') AS sc, current_setting('shared_buffers') AS sb,
      current_setting('autovacuum') AS av, current_setting('server_version_num')::int AS num`);
    return rows[0];
  });
  return {
    nproc,
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    cpu: model,
    postgres: server.v.split(' on ')[0],
    postgresSettings: `fsync=${server.fsync}, synchronous_commit=${server.sc}, shared_buffers=${server.sb}, autovacuum=${server.av}`,
    postgresMajor: Math.floor(server.num / 10000),
    node: process.version,
  };
}

/**
 * Samples, every `everyMs` until `until` settles, what the Levqor backends of database `db` are
 * doing (pg_stat_activity): on CPU, waiting for the client, or a wait event. Connect with a `url`
 * to another database, so that the samples don't count as commits of `db`.
 */
export async function sampleBackends(url, db, until, everyMs = 20) {
  let done = false;
  until.then(
    () => (done = true),
    () => (done = true),
  );
  const counts = new Map();
  let samples = 0;
  await withPg(url, async (c) => {
    while (!done) {
      const { rows } = await c.query(
        `SELECT CASE WHEN state = 'idle' THEN 'idle: between transactions, Node working'
                     WHEN state LIKE 'idle in transaction%' THEN 'idle in transaction: Node working inside a transaction'
                     WHEN wait_event IS NULL THEN 'active: on CPU'
                     ELSE 'active: waiting on ' || wait_event_type || ':' || wait_event END AS what
         FROM pg_stat_activity WHERE datname = $1 AND application_name = 'levqor' AND backend_type = 'client backend'`,
        [db],
      );
      for (const r of rows) counts.set(r.what, (counts.get(r.what) ?? 0) + 1);
      samples++;
      await sleep(everyMs);
    }
  });
  return { samples, counts };
}

/** A GitHub-flavoured markdown table. */
export function table(headers, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c ?? '')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Replaces (or appends) the `## <heading>` section of a markdown text: up to the next `## ` heading. */
export function replaceSection(text, heading, body) {
  const section = `## ${heading}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) return `${text.trimEnd()}\n\n${section}`;
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, start).join('\n').trimEnd();
  const after = lines.slice(end).join('\n').trim();
  return `${before ? `${before}\n\n` : ''}${section}${after ? `\n${after}\n` : ''}`;
}

/** A short, stable name for a statement: its first line, whitespace collapsed. */
export function statementLabel(text) {
  const first = text.trim().split('\n')[0] ?? '';
  return first.replace(/\s+/g, ' ').slice(0, 60);
}

/**
 * Counts and times (client side, from send to result) every query this process sends
 * through pg, with the characters of SQL and parameters sent, and writes the totals per
 * statement to `file` when the process exits.
 */
export function installQueryTrace(file) {
  const stats = new Map();
  const original = pg.Client.prototype.query;
  const t0 = performance.now();
  let first = null;
  let last = null;
  pg.Client.prototype.query = function traced(config, values, callback) {
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text !== 'string') return original.call(this, config, values, callback);
    const label = statementLabel(text);
    const params = Array.isArray(values) ? values : Array.isArray(config?.values) ? config.values : [];
    const bytes = text.length + params.reduce((a, v) => a + (v === null || v === undefined ? 0 : String(v).length), 0);
    const start = performance.now();
    first ??= start;
    const record = () => {
      last = performance.now();
      const s = stats.get(label) ?? { count: 0, ms: 0, bytes: 0 };
      s.count++;
      s.ms += last - start;
      s.bytes += bytes;
      stats.set(label, s);
    };
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      const wrapped = (err, res) => {
        record();
        cb(err, res);
      };
      return typeof values === 'function' ? original.call(this, config, wrapped) : original.call(this, config, values, wrapped);
    }
    const result = original.call(this, config, values);
    return result && typeof result.then === 'function' ? result.finally(record) : result;
  };
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const summary = {
      queries: Object.fromEntries(stats),
      processMs: performance.now() - t0,
      firstToLastQueryMs: first === null ? 0 : last - first,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    writeFileSync(file, JSON.stringify(summary));
  });
}

/**
 * Reads what Postgres logged for one database with log_min_duration_statement = 0 and
 * auto_explain (log_analyze, log_triggers): server time per statement (from the duration
 * lines, and from the plans' executor time), and FK/trigger time.
 */
export function parseServerLog(text, db) {
  const entries = [];
  for (const line of text.split('\n')) {
    if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(line)) entries.push([line]);
    else entries.at(-1)?.push(line);
  }
  const statements = new Map();
  const triggers = new Map();
  const plans = new Map();
  const add = (map, key, ms, n = 1) => {
    const s = map.get(key) ?? { count: 0, ms: 0 };
    s.count += n;
    s.ms += ms;
    map.set(key, s);
  };
  for (const [head, ...rest] of entries) {
    if (!head.includes(`@${db} LOG:  duration: `)) continue;
    const m = /duration: ([\d.]+) ms {2}(plan:|statement: |(?:parse|bind|execute) [^:]*: )(.*)$/.exec(head);
    if (!m) continue;
    if (m[2] === 'plan:') {
      const text = rest.find((l) => l.includes('Query Text: '));
      if (text) add(plans, statementLabel(text.slice(text.indexOf('Query Text: ') + 12)), Number(m[1]));
      for (const l of rest) {
        const t = /Trigger (?:for constraint )?(\S+?)(?: on \S+)?: time=([\d.]+) calls=(\d+)/.exec(l);
        if (t) add(triggers, t[1], Number(t[2]), Number(t[3]));
      }
    } else {
      add(statements, statementLabel(m[3]), Number(m[1]), m[2].startsWith('parse') || m[2].startsWith('bind') ? 0 : 1);
    }
  }
  return { statements, plans, triggers };
}

if (process.env.LEVQOR_BENCH_TRACE) installQueryTrace(process.env.LEVQOR_BENCH_TRACE);

/** The runs a scheduler benchmark made for one slot: how many, succeeded, distinct (workflow, slot) pairs and workflows, runs for another slot. */
export async function slotRunCounts(c, slot) {
  const {
    rows: [r],
  } = await c.query(
    `SELECT count(*)::int AS runs, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(DISTINCT (workflow_id, scheduled_for))::int AS slots, count(DISTINCT workflow_id)::int AS workflows,
            count(*) FILTER (WHERE scheduled_for IS DISTINCT FROM $1)::int AS other_slot
     FROM workflow_runs`,
    [slot],
  );
  return r;
}

/** The bytes of a file from offset `from` to `to` (default: its current end), as text. */
export function readFrom(path, from, to = statSync(path).size) {
  const buf = Buffer.alloc(Math.max(0, to - from));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}
