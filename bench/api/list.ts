// The read endpoints under load: autocannon against Levqor and the bare server, alternating
// round by round, then one request at a time and other page sizes.
import autocannon from 'autocannon';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { load1 } from '../lib/machine.js';
import { othersRunning } from '../lib/others.js';
import { pidCpuSeconds, postgresCpuSeconds } from '../lib/proc.js';
import { lowerMedian, maxOf, percentile, round } from '../lib/stats.js';
import { CONNECTIONS, DURATION_S, ENDPOINTS, PAGE_LIMITS, ROUNDS, SEQUENTIAL, WARMUP_S, log, type Endpoint } from './config.js';
import { request, type SameBody, type Server } from './servers.js';

/** autocannon against `target.url` for `seconds`, with every response time; fails on any error or non-2xx. */
export async function cannon(target: Server, token: string, connections: number, seconds: number) {
  const latencies: number[] = [];
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

export interface Row {
  name: string;
  endpoint: string;
  connections: number;
  round: number;
  rps: number;
  total: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  bytes: number;
  serverCpuMs: number;
  pgCpuMs: number | null;
  benchCpuMs: number;
  load: number;
  busy: boolean;
}

/** One measurement: warm-up, then DURATION_S of autocannon, with CPU per request of server, Postgres and this process. */
export async function measure(target: Server, token: string, connections: number, roundNo: number, endpoint = 'list'): Promise<Row> {
  const busy = othersRunning('api');
  await cannon(target, token, connections, WARMUP_S);
  const load = load1();
  const cpu0 = pidCpuSeconds(target.pid);
  const pg0 = postgresCpuSeconds();
  const me0 = process.cpuUsage();
  const { r, latencies } = await cannon(target, token, connections, DURATION_S);
  const me = process.cpuUsage(me0);
  const pg1 = postgresCpuSeconds();
  const n = r.requests.total;
  const row: Row = {
    name: target.name,
    endpoint,
    connections,
    round: roundNo,
    rps: r.requests.mean,
    total: n,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: maxOf(latencies),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytes: r.throughput.total / n,
    serverCpuMs: ((pidCpuSeconds(target.pid) - cpu0) * 1000) / n,
    pgCpuMs: pg0 === null || pg1 === null ? null : ((pg1 - pg0) * 1000) / n,
    benchCpuMs: (me.user + me.system) / 1000 / n,
    load,
    busy: othersRunning('api') || busy,
  };
  log(
    `${target.name.padEnd(9)} ${endpoint.padEnd(4)} c=${connections} #${roundNo}: ${Math.round(row.rps)} req/s, p50 ${round(row.p50)} ms, p99 ${round(row.p99)} ms`,
  );
  return row;
}

async function sequentialLatency(target: Server, token: string, n: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const path = new URL(target.url).pathname;
  const ms: number[] = [];
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now();
    const r = await request(target.port, 'GET', path, { token, agent });
    if (r.status !== 200) throw new Error(`${target.name}: GET ${path} → ${r.status} ${r.text}`);
    if (i >= 50) ms.push(performance.now() - t0);
  }
  agent.destroy();
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** One endpoint on one server, as a measurement target. */
function endpointTarget(server: Server, endpoint: Endpoint, approvalId: string): Server {
  const path = server.name === 'levqor' ? endpoint.levqor(approvalId) : endpoint.bare(approvalId);
  return { ...server, url: `http://127.0.0.1:${server.port}${path}` };
}

export interface ListResults {
  rows: Row[];
  plain: Row[];
  sequential: Record<string, { p50: number; p99: number }>;
  pages: (Row & { limit: number })[];
  same: SameBody[];
}

/**
 * Levqor against the bare server, each endpoint at each connection count, ROUNDS rounds; within a
 * round each pair runs back to back, Levqor first in odd rounds and bare first in even ones, so that
 * drifting background load does not favour one side. Then the `{"ok":true}` reference, one request
 * at a time latencies, and Levqor's list at other page sizes.
 */
export async function compareBenchmark(
  levqor: Server,
  bare: Server,
  token: string,
  approvalId: string,
  same: SameBody[],
): Promise<ListResults> {
  const rows: Row[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    for (const endpoint of ENDPOINTS) {
      for (const c of CONNECTIONS) {
        for (const server of r % 2 === 1 ? [levqor, bare] : [bare, levqor]) {
          rows.push(await measure(endpointTarget(server, endpoint, approvalId), token, c, r, endpoint.key));
        }
      }
    }
  }
  const plain: Row[] = [];
  for (const c of CONNECTIONS) plain.push(await measure(bare, token, c, 1, 'ok'));
  const sequential: ListResults['sequential'] = {};
  for (const endpoint of ENDPOINTS) {
    for (const server of [levqor, bare])
      sequential[`${server.name} ${endpoint.key}`] = await sequentialLatency(
        endpointTarget(server, endpoint, approvalId),
        token,
        SEQUENTIAL,
      );
  }
  const pages: ListResults['pages'] = [];
  for (const limit of PAGE_LIMITS)
    pages.push({
      limit,
      ...(await measure({ ...levqor, name: `levqor?limit=${limit}`, url: `${levqor.url}?limit=${limit}` }, token, 10, 1)),
    });
  return { rows, plain, sequential, pages, same };
}

export interface Comparison {
  endpoint: Endpoint;
  c: number;
  lq: Row[];
  bq: Row[];
  ratios: number[];
  levqorMedian: number;
  bareMedian: number;
  ratio: number;
  pairedMedian: number;
  met: boolean;
  /** The median round of each side. */
  L: Row;
  B: Row;
}

/** The comparison of one endpoint at one connection count: medians, per-round ratios, the median round of each side. */
export function comparison(rows: readonly Row[], endpoint: Endpoint, c: number): Comparison {
  const of = (name: string) =>
    rows.filter((r) => r.name === name && r.endpoint === endpoint.key && r.connections === c).sort((a, b) => a.round - b.round);
  const lq = of('levqor');
  const bq = of('bare');
  const ratios = lq.map((l, i) => l.rps / (bq[i]?.rps ?? NaN));
  const mid = (xs: Row[]): Row => {
    const row = [...xs].sort((a, b) => a.rps - b.rps)[Math.floor((xs.length - 1) / 2)];
    if (!row) throw new Error(`no ${endpoint.key} rounds at ${c} connections`);
    return row;
  };
  const levqorMedian = lowerMedian(lq.map((r) => r.rps));
  const bareMedian = lowerMedian(bq.map((r) => r.rps));
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
    pairedMedian: lowerMedian(ratios),
    met: ratio >= endpoint.target,
    L: mid(lq),
    B: mid(bq),
  };
}
