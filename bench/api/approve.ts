// Approve throughput: deciders, each with its own token and HTTP loop, on distinct requests, then
// a race of all of them on shared requests; and sequential approvals on a traced server.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { one, withPg } from '../lib/db.js';
import { sampleBackends, type BackendSamples } from '../lib/levqor.js';
import { load1 } from '../lib/machine.js';
import { ADMIN_URL } from '../lib/env.js';
import { othersRunning } from '../lib/others.js';
import { pidCpuSeconds, postgresCpuSeconds } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { APPROVE_S, DECIDERS, RACE_IDS, TRACED_APPROVALS, log } from './config.js';
import { tracedServer, type ProfileSummary } from './diagnosis.js';
import type { Token } from './setup.js';
import { request, startLevqor, stopChild, type Server } from './servers.js';
import type { QueryTrace } from '../lib/trace.js';

interface Decider extends Token {
  agent: http.Agent;
  /** The index of its next id. */
  next: number;
}

export interface Decision {
  id: string;
  by: string;
  status: number;
  outcome: string | null;
  ms: number;
  text: string;
}

async function decide(port: number, d: Decider, id: string): Promise<Decision> {
  const t0 = performance.now();
  const r = await request(port, 'POST', `/api/approvals/${id}/approve`, { token: d.token, body: {}, agent: d.agent });
  const ms = performance.now() - t0;
  let outcome: string | null = null;
  try {
    const body = JSON.parse(r.text) as { outcome?: string; error?: string };
    outcome = body.outcome ?? body.error ?? null;
  } catch {
    // not JSON: reported with the status
  }
  return { id, by: d.name, status: r.status, outcome, ms, text: r.status === 200 ? '' : r.text.slice(0, 200) };
}

/** Each decider approves its own ids, one request at a time, until the deadline (or `warmup` each) or its ids run out. */
async function approveLoop(port: number, deciders: Decider[], slices: string[][], deadline: number, warmup: number): Promise<Decision[]> {
  const per = await Promise.all(
    deciders.map(async (d, i) => {
      const out: Decision[] = [];
      const ids = slices[i] ?? [];
      for (let id = ids[d.next]; id !== undefined && (warmup ? out.length < warmup : performance.now() < deadline); id = ids[d.next]) {
        d.next++;
        out.push(await decide(port, d, id));
      }
      return out;
    }),
  );
  return per.flat();
}

export interface ApproveRun {
  deciders: number;
  decisions: Decision[];
  elapsed: number;
  serverCpu: number;
  pgCpu: number | null;
  genCpu: number;
  walBytes: number;
  backends: BackendSamples;
  load: number;
  busy: boolean;
  exhausted: boolean;
}

/** One timed run: `deciders` loops until the deadline, with CPU, WAL and backend states. */
async function approveRun(server: Server, db: string, deciders: Decider[], slices: string[][], seconds: number): Promise<ApproveRun> {
  const wal0 = await withPg(ADMIN_URL, async (c) => (await one<{ l: string }>(c, 'SELECT pg_current_wal_lsn()::text AS l')).l);
  const load = load1();
  const busy0 = othersRunning('api');
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
  const pg1 = postgresCpuSeconds();
  const backends = await sampling;
  const walBytes = await withPg(ADMIN_URL, async (c) =>
    Number((await one<{ b: number }>(c, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS b', [wal0])).b),
  );
  const exhausted = deciders.some((d, i) => d.next >= (slices[i]?.length ?? 0));
  log(
    `approve, ${deciders.length} decider(s): ${decisions.length} decisions in ${round(elapsed)} s → ${Math.round(decisions.length / elapsed)}/s`,
  );
  return {
    deciders: deciders.length,
    decisions,
    elapsed,
    serverCpu,
    pgCpu: pg0 === null || pg1 === null ? null : pg1 - pg0,
    genCpu: (me.user + me.system) / 1e6,
    walBytes,
    backends,
    load,
    busy: othersRunning('api') || busy0,
    exhausted,
  };
}

export interface ApproveResults {
  warm: Decision[];
  runs: ApproveRun[];
  race: Decision[];
  raceIds: string[];
  tracedIds: string[];
}

/**
 * Approvals on a fresh server (so that its pool holds only the deciders' connections): 1 decider,
 * then all of them, each on its own share of the ids; then a race of all of them on shared ids.
 */
export async function approveBenchmark(cli: string, url: string, db: string, tokens: Token[], ids: string[]): Promise<ApproveResults> {
  const raceIds = ids.slice(0, RACE_IDS);
  const tracedIds = ids.slice(RACE_IDS, RACE_IDS + TRACED_APPROVALS);
  const rest = ids.slice(RACE_IDS + TRACED_APPROVALS);
  const slices = tokens.map((_, i) => rest.filter((_, j) => j % DECIDERS === i));
  const deciders: Decider[] = tokens.map((t) => ({ ...t, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), next: 0 }));
  const server = await startLevqor(cli, url);
  const warm = await approveLoop(server.port, deciders, slices, 0, 10);
  const runs = [
    await approveRun(server, db, deciders.slice(0, 1), slices.slice(0, 1), APPROVE_S / 2),
    await approveRun(server, db, deciders, slices, APPROVE_S),
  ];
  // Race: all deciders approve the same ids in the same order; exactly one may win each.
  const race = (
    await Promise.all(
      deciders.map(async (d) => {
        const out: Decision[] = [];
        for (const id of raceIds) out.push(await decide(server.port, d, id));
        return out;
      }),
    )
  ).flat();
  for (const d of deciders) d.agent.destroy();
  await stopChild(server.proc);
  return { warm, runs, race, raceIds, tracedIds };
}

export interface TracedApprovals {
  results: Decision[];
  trace: QueryTrace;
  profile: ProfileSummary | null;
}

/** `ids` approved one at a time by one decider on a query-traced, CPU-profiled server. */
export async function tracedApprovals(cli: string, url: string, decider: Token, ids: string[]): Promise<TracedApprovals> {
  const {
    result: results,
    trace,
    profile,
  } = await tracedServer(cli, url, 'approve', async (server) => {
    const d: Decider = { ...decider, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }), next: 0 };
    const out: Decision[] = [];
    for (const id of ids) out.push(await decide(server.port, d, id));
    d.agent.destroy();
    return out;
  });
  return { results, trace, profile };
}
