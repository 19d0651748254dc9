// The `## API` section's diagnosis (where the list request's time goes) and approvals parts.
import { table, type Cell } from '../lib/markdown.js';
import { backendLine, type BackendSamples } from '../lib/levqor.js';
import { maxOf, pct, percentile, round } from '../lib/stats.js';
import type { QueryTrace } from '../lib/trace.js';
import { APPROVE_S, DECIDERS, ENDPOINTS, POOL_MAX, PROBE_ROUNDS, SEQUENTIAL, TRACED_APPROVALS, TRACED_LIST_S } from './config.js';
import { PROBE_SHAPES, type ProfileSummary } from './diagnosis.js';
import type { Row } from './list.js';
import type { MachineInfo } from '../lib/machine.js';
import type { Wait } from '../lib/others.js';
import type { ApproveResults, TracedApprovals } from './approve.js';
import type { ListDiagnosis, ProbeRow, TracedList } from './diagnosis.js';
import type { ListResults } from './list.js';
import type { Setup } from './setup.js';
import type { Check } from './verify.js';

export interface ReportContext {
  machine: MachineInfo;
  date: string;
  loads: number[];
  wait: Wait;
  build: { sha: string; head: string; dirty: number };
  setupInfo: Setup;
  list: ListResults;
  diag: ListDiagnosis;
  tracedLists: TracedList[];
  approve: ApproveResults;
  tracedA: TracedApprovals;
  check: Check;
  probe: ProbeRow[];
  versions: Record<'fastify' | 'rateLimit' | 'autocannon' | 'pg' | 'zod', string>;
}

/** CPU per request: server + all of Postgres + load generator. */
export const cpu = (r: Row): number => r.serverCpuMs + (r.pgCpuMs ?? 0) + r.benchCpuMs;

/** A traced server's statements starting with `prefix`: calls and client ms per call. */
export function statementStats(t: TracedList, prefix: string): { count: number; ms: number | null } {
  const label = Object.keys(t.trace.queries).find((l) => l.startsWith(prefix));
  const s = label ? t.trace.queries[label] : undefined;
  return { count: s?.count ?? 0, ms: s?.count ? s.ms / s.count : null };
}
export const tokenStats = (t: TracedList) => statementStats(t, 'UPDATE api_tokens SET last_used_at');
/** The share of the pool's connection time the token look-ups held. */
export const tokenPoolShare = (t: TracedList): string =>
  pct((tokenStats(t).count * (tokenStats(t).ms ?? NaN)) / (POOL_MAX * TRACED_LIST_S * 1000));
export const expectedTokenUpdates = Math.ceil(TRACED_LIST_S / 5);

/** The decisions per second of an approve run. */
export const rate = (r: { decisions: unknown[]; elapsed: number }): number => r.decisions.length / r.elapsed;

/** Round trips and client ms per decision of the traced approvals (statements called at least once per decision). */
export function approveQueries(tracedA: TracedApprovals): { queries: number; ms: number } {
  const per = Object.values(tracedA.trace.queries).filter((s) => s.count >= TRACED_APPROVALS);
  return {
    queries: per.reduce((a, s) => a + s.count, 0) / TRACED_APPROVALS,
    ms: per.reduce((a, s) => a + s.ms, 0) / TRACED_APPROVALS,
  };
}

/** Statements of a trace, most called first: label, calls, calls per unit, client ms per call. */
function traceRows(trace: QueryTrace, n: number): Cell[][] {
  return Object.entries(trace.queries)
    .sort((a, b) => b[1].count - a[1].count || b[1].ms - a[1].ms)
    .map(([label, s]) => [`\`${label}\``, s.count, round(s.count / n, 3), round(s.ms / s.count, 3)]);
}

function profileTables(profile: ProfileSummary | null, perUnit: number, unit: string): string {
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

const mainState = (b: BackendSamples): string => [...b.counts].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'n/a';

/** One request at a time, page sizes, the list query's own costs, and the traced servers. */
export function listTimeSection(ctx: ReportContext, L10: Row): string {
  const { list, diag: q, tracedLists } = ctx;
  const t50 = tracedLists.find((t) => t.connections === 50) ?? tracedLists.at(-1);
  const seq = (k: string) => list.sequential[k] ?? { p50: NaN, p99: NaN };
  return `One request at a time (${SEQUENTIAL} sequential requests on one keep-alive connection, p50 / p99 ms):
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
  authenticator and the rate-limit key). The list's zod query schema (listApprovalsQuery, imported from the route), \`safeParse({})\`: ${round(q.zodUs, 2)} µs.

Query-traced and CPU-profiled Levqor (\`node --import .levqor/bench/lib/trace-hook.mjs --cpu-prof lib/cli.js serve …\`, a fresh process each, autocannon
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
  tracedLists.map((t) => {
    const listStats = statementStats(t, 'SELECT id, tenant_id, run_id');
    return [
      t.connections,
      t.requests,
      Math.round(t.rps),
      round(t.p50),
      round(t.p99),
      round(t.max),
      round(listStats.count / t.requests, 3),
      round(listStats.ms, 3),
      tokenStats(t).count,
      expectedTokenUpdates,
      round(tokenStats(t).ms, 2),
      tokenPoolShare(t),
    ];
  }),
)}

The authenticator (src/auth/tokens.ts) caches a token for 5 s, and concurrent misses for one token share one look-up: an
\`UPDATE api_tokens SET last_used_at … RETURNING\` and its commit (a WAL flush), holding one pool connection meanwhile.

Where the Levqor process's CPU went at ${t50?.connections} connections (self time from the profile after start-up, idle excluded; ${round(t50?.profile?.busyMs, 0)} ms busy of ${round(t50?.profile?.totalMs, 0)} ms):

${profileTables(t50?.profile ?? null, t50?.requests ?? NaN, 'request')}`;
}

/** Approve throughput, the verification, the traced approvals and the commit probe. */
export function approveSection(ctx: ReportContext): string {
  const { approve, tracedA, check, probe } = ctx;
  const [one, all] = approve.runs;
  if (!one || !all) throw new Error('approve runs missing');
  const seqApprove = tracedA.results.map((x) => x.ms);
  const per = approveQueries(tracedA);
  const probeOf = (clients: number, shape: string) => Math.round(probe.find((p) => p.clients === clients && p.shape === shape)?.tps ?? NaN);
  return `### Approve throughput: ${DECIDERS} deciders on distinct requests

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
    const perDecider = r.decisions.reduce((acc, x) => acc.set(x.by, (acc.get(x.by) ?? 0) + 1), new Map<string, number>());
    const n = r.decisions.length;
    return [
      r.deciders,
      n,
      round(r.elapsed),
      Math.round(n / r.elapsed),
      round(percentile(lat, 50)),
      round(percentile(lat, 99)),
      round(maxOf(lat)),
      [...perDecider.values()].join('/'),
      round((r.serverCpu * 1000) / n, 3),
      round(r.pgCpu === null ? null : (r.pgCpu * 1000) / n, 3),
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
- Round trips per decision (query-traced, CPU-profiled server, ${TRACED_APPROVALS} sequential approvals by one decider): **${round(per.queries, 1)}**, all
  in one transaction; ${round(per.ms, 2)} ms per decision waiting on them (send → result), of a latency of p50 ${round(percentile(seqApprove, 50), 2)} ms / p99 ${round(percentile(seqApprove, 99), 2)} ms:

${table(['statement (first line)', 'calls', 'per decision', 'client ms/call'], traceRows(tracedA.trace, TRACED_APPROVALS))}

Where that process's CPU went after start-up (${round(tracedA.profile?.busyMs, 0)} ms busy of ${round(tracedA.profile?.totalMs, 0)} ms):

${profileTables(tracedA.profile, TRACED_APPROVALS, 'decision')}

- Commit probe: pg clients in the benchmark process on the benchmark database, each looping \`BEGIN; …; COMMIT\`;
  best of ${PROBE_ROUNDS} interleaved 2 s run(s) per cell:

${table(
  ['transaction', 'round trips', 'TPS, 1 client', `TPS, ${DECIDERS} clients`],
  PROBE_SHAPES.map(([shape, st]) => [shape, st.length + 2, probeOf(1, shape), probeOf(DECIDERS, shape)]),
)}

  A transaction that called pg_notify takes a database-wide lock on the notification queue at commit and holds it through
  its WAL flush, so such commits do not group: every decision commits with a NOTIFY (decidePending's approval event).
  The third shape is a decision's round trips without its work: ${probeOf(1, '10 round trips + notify')}/s from 1 client and ${probeOf(DECIDERS, '10 round trips + notify')}/s from ${DECIDERS}, against
  Levqor's ${Math.round(rate(one))}/s and ${Math.round(rate(all))}/s through HTTP; the backends were mostly "${mainState(all.backends)}" with ${DECIDERS} deciders.
`;
}
