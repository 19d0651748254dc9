// Where the time goes: the list query timed one at a time, in-process costs, a commit probe,
// and query-traced, CPU-profiled servers under load.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import type pg from 'pg';
import { LIST_APPROVALS_SQL } from '../../src/approvals/queries.js';
import { listApprovalsQuery } from '../../src/http/routes/approvals.js';
import { rows, withPg } from '../lib/db.js';
import { maxOf, percentile, sumOf } from '../lib/stats.js';
import { readTrace, type QueryTrace } from '../lib/trace.js';
import { DECIDERS, PROBE_ROUNDS, QUERY_BLOCK, SYNC_CALLS, TRACED_LIST_S } from './config.js';
import { cannon } from './list.js';
import { startLevqor, stopChild } from './servers.js';

/** Mean ms per call of each query, in interleaved blocks (drifting load hits all alike); the median block is kept. */
async function timeQueries<K extends string>(c: pg.Client, queries: Record<K, pg.QueryConfig>): Promise<Record<K, number>> {
  const entries = Object.entries(queries) as [K, pg.QueryConfig][];
  for (const [, query] of entries) for (let i = 0; i < 20; i++) await c.query(query);
  const means = new Map<K, number[]>(entries.map(([k]) => [k, []]));
  for (let b = 0; b < QUERY_BLOCK.blocks; b++) {
    for (const [k, query] of entries) {
      const t0 = performance.now();
      for (let i = 0; i < QUERY_BLOCK.calls; i++) await c.query(query);
      means.get(k)?.push((performance.now() - t0) / QUERY_BLOCK.calls);
    }
  }
  return Object.fromEntries(entries.map(([k]) => [k, percentile(means.get(k) ?? [], 50)])) as Record<K, number>;
}

/** Microseconds per call of fn. */
function timeSync(fn: () => unknown, n: number): number {
  for (let i = 0; i < Math.min(n, 1000); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t0) * 1000) / n;
}

export type ListDiagnosis = Awaited<ReturnType<typeof listDiagnosis>>;

/** Query and in-process costs of one list request, measured one at a time. */
export async function listDiagnosis(url: string, tenantId: string, page: unknown, token: string) {
  const sql = LIST_APPROVALS_SQL;
  const values = [tenantId, 'pending', 51, null, null];
  const raw = { getTypeParser: () => (v: string) => v };
  const q = await withPg(url, async (c) => {
    let plan: string[] = [];
    for (let i = 0; i < 3; i++)
      plan = (await rows<{ 'QUERY PLAN': string }>(c, `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values)).map((r) => r['QUERY PLAN']);
    const times = await timeQueries(c, {
      selectOne: { text: 'SELECT 1' },
      unnamed: { text: sql, values },
      prepared: { name: 'bench_list', text: sql, values },
      rawText: { text: sql, values, types: raw },
      ids: { text: sql.replace(/SELECT[\s\S]*?FROM approval_queue/, 'SELECT id FROM approval_queue'), values },
    });
    return { plan, ...times };
  });
  const body = JSON.stringify(page);
  return {
    ...q,
    bodyBytes: Buffer.byteLength(body),
    stringifyUs: timeSync(() => JSON.stringify(page), Math.min(3000, SYNC_CALLS)),
    sha256Us: timeSync(() => createHash('sha256').update(token).digest('hex'), SYNC_CALLS),
    zodUs: timeSync(() => listApprovalsQuery.safeParse({}), SYNC_CALLS),
  };
}

/** The transaction shapes of the commit probe: [name, statements between BEGIN and COMMIT]. */
export const PROBE_SHAPES: readonly (readonly [string, readonly string[]])[] = [
  ['insert', ['INSERT INTO bench_notify_probe (v) VALUES (1)']],
  ['insert + notify', ['INSERT INTO bench_notify_probe (v) VALUES (1)', "SELECT pg_notify('levqor_bench_probe', 'x')"]],
  // A decision's shape: 10 round trips (BEGIN, 8 statements, COMMIT), one of them a NOTIFY.
  [
    '10 round trips + notify',
    ['INSERT INTO bench_notify_probe (v) VALUES (1)', ...Array<string>(6).fill('SELECT 1'), "SELECT pg_notify('levqor_bench_probe', 'x')"],
  ],
];

export interface ProbeRow {
  clients: number;
  shape: string;
  tps: number;
}

/**
 * Transactions per second of each probe shape from 1 and from DECIDERS pg clients in this process:
 * PROBE_ROUNDS rounds of `seconds` each, shapes in rotating order; the best round of each is kept.
 */
export async function commitProbe(url: string, seconds: number): Promise<ProbeRow[]> {
  await withPg(url, (c) => c.query('CREATE TABLE IF NOT EXISTS bench_notify_probe (id bigint GENERATED ALWAYS AS IDENTITY, v int)'));
  const tries: ProbeRow[] = [];
  for (let r = 0; r < PROBE_ROUNDS; r++) {
    for (const clients of [1, DECIDERS]) {
      for (let k = 0; k < PROBE_SHAPES.length; k++) {
        const [shape, statements] = PROBE_SHAPES[(k + r) % PROBE_SHAPES.length] ?? ['', []];
        const deadline = performance.now() + seconds * 1000;
        const counts = await Promise.all(
          Array.from({ length: clients }, () =>
            withPg(url, async (c) => {
              let n = 0;
              while (performance.now() < deadline) {
                await c.query('BEGIN');
                for (const s of statements) await c.query(s);
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

interface CpuProfile {
  nodes: { id: number; callFrame: { url: string; functionName: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  k: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  totalMs: number;
  skipMs: number;
  categories: ProfileShare[];
  functions: ProfileShare[];
}

/** What a profiled frame's self time is counted as: a package, Levqor's bundle, node core, natives, GC; null for idle. */
function category({ url, functionName }: CpuProfile['nodes'][number]['callFrame']): string | null {
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
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node core (http, net, streams, crypto)';
  return url.includes('/lib/cli.js') ? 'Levqor (lib/cli.js)' : 'other';
}

/**
 * Where a Levqor process spent its CPU after `skipMs` (its start-up), from a --cpu-prof profile:
 * self time by package (node_modules/<pkg>, Levqor's bundle, node core, natives, GC) and the top functions.
 */
function summarizeProfile(dir: string, skipMs: number): ProfileSummary | null {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return null;
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  rmSync(dir, { recursive: true, force: true });
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  let windowUs = 0;
  for (const [i, sample] of prof.samples.entries()) {
    t += prof.timeDeltas[i] ?? 0;
    if (t < skipMs * 1000) continue;
    const us = prof.timeDeltas[i + 1] ?? 0;
    windowUs += us;
    self.set(sample, (self.get(sample) ?? 0) + us);
  }
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id)?.callFrame;
    const c = frame ? category(frame) : null;
    if (!frame || c === null) continue;
    busy += us;
    cats.set(c, (cats.get(c) ?? 0) + us);
    const where = frame.url
      ? `${frame.url.replace(/^.*node_modules\//, '').replace(/^\.cache\/levqor-bench-api\/lib-\d+\//, 'lib/')}:${frame.lineNumber + 1}`
      : 'native';
    const key = `${frame.functionName || '(anonymous)'} (${where})`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, totalMs: windowUs / 1000, skipMs, categories: top(cats, 14), functions: top(fns, 15) };
}

/** A Levqor server with its queries traced and its CPU profiled, started for `use`; the trace and the profile after start-up. */
export async function tracedServer<T>(
  cli: string,
  url: string,
  label: string,
  use: (server: Awaited<ReturnType<typeof startLevqor>>) => Promise<T>,
): Promise<{ result: T; trace: QueryTrace; profile: ProfileSummary | null }> {
  const traceFile = join(tmpdir(), `levqor-bench-api-${label}-${process.pid}.json`);
  const profileDir = mkdtempSync(join(tmpdir(), 'levqor-bench-api-prof-'));
  const server = await startLevqor(cli, url, { traceFile, profileDir });
  const skipMs = performance.now() - server.proc.startedAt;
  const result = await use(server);
  await stopChild(server.proc);
  return { result, trace: readTrace(traceFile), profile: summarizeProfile(profileDir, skipMs) };
}

export interface TracedList {
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  trace: QueryTrace;
  profile: ProfileSummary | null;
}

/** A query-traced, CPU-profiled server under autocannon: round trips per list request, token UPDATEs. */
export async function tracedList(cli: string, url: string, token: string, connections: number): Promise<TracedList> {
  const { result, trace, profile } = await tracedServer(cli, url, `list-${connections}`, (server) =>
    cannon(server, token, connections, TRACED_LIST_S),
  );
  const { r, latencies } = result;
  return {
    connections,
    requests: r.requests.total,
    rps: r.requests.mean,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: maxOf(latencies),
    trace,
    profile,
  };
}
