// The `## API` section of bench/RESULTS.md: summary, machine, commands and every round; the
// diagnosis and the approvals follow (report-detail.ts).
import { table } from '../lib/markdown.js';
import { seenOthers } from '../lib/others.js';
import { pct, percentile, round } from '../lib/stats.js';
import { CONNECTIONS, DECIDERS, DURATION_S, ENDPOINTS, POOL_MAX, RATE_LIMIT, ROUNDS, TRACED_LIST_S, WARMUP_S } from './config.js';
import { comparison, type Row } from './list.js';
import {
  approveQueries,
  approveSection,
  cpu,
  expectedTokenUpdates,
  listTimeSection,
  rate,
  tokenPoolShare,
  tokenStats,
  type ReportContext,
} from './report-detail.js';
import { SEED_SQL } from './setup.js';

export function report(ctx: ReportContext): string {
  const { machine, date, loads, wait, build, setupInfo, list, tracedLists, approve, versions } = ctx;
  const comps = ENDPOINTS.flatMap((e) => CONNECTIONS.map((c) => comparison(list.rows, e, c)));
  const comp = (key: string, c: number) => {
    const x = comps.find((y) => y.endpoint.key === key && y.c === c);
    if (!x) throw new Error(`no comparison of ${key} at ${c} connections`);
    return x;
  };
  const plainRps = (c: number) => list.plain.find((r) => r.connections === c)?.rps ?? NaN;
  const loadCell = (rs: Row[]) =>
    `${round(Math.min(...rs.map((r) => r.load)), 2)}–${round(Math.max(...rs.map((r) => r.load)), 2)}${rs.some((r) => r.busy) ? ' (busy)' : ''}`;
  const anyBusy = list.rows.some((r) => r.busy) || approve.runs.some((r) => r.busy);
  const [one, all] = approve.runs;
  if (!one || !all) throw new Error('approve runs missing');
  const c10 = CONNECTIONS[0] ?? 10;

  return `_Written by \`npm run bench:api\` (bench/api.ts) on ${date}. Rerun it to refresh this section._

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
  byte for byte from both servers. The bare server sends the statements src/approvals/queries.ts exports (GET_APPROVAL_SQL, LIST_APPROVALS_SQL, LIST_VOTES_SQL).
- For reference, the target of issue 3: bare Fastify's \`{"ok":true}\` route serves ${CONNECTIONS.map((c) => `${Math.round(plainRps(c))} req/s at ${c} connections`).join(', ')};
  Levqor's list is ${CONNECTIONS.map((c) => pct(comp('list', c).levqorMedian / plainRps(c))).join(' / ')} of it, the bare list ${CONNECTIONS.map((c) => pct(comp('list', c).bareMedian / plainRps(c))).join(' / ')}:
  a 34 KB page out of Postgres cannot come near \`{"ok":true}\`.
- CPU per request at ${c10} connections (server process + all of Postgres + load generator; all three share ${machine.nproc} cores):
${ENDPOINTS.map((e) => {
  const x = comp(e.key, c10);
  return `  ${e.label}: Levqor ${round(cpu(x.L), 3)} ms (server ${round(x.L.serverCpuMs, 3)}), bare ${round(cpu(x.B), 3)} ms (server ${round(x.B.serverCpuMs, 3)}).`;
}).join('\n')}
  What Levqor adds to the bare server (auth and its token cache, rate limit, zod, router, metrics hooks): ${ENDPOINTS.map((e) => {
    const x = comp(e.key, c10);
    return `${round(x.L.serverCpuMs - x.B.serverCpuMs, 3)} ms`;
  }).join(' / ')} of server CPU per request.
- Token cache: ${tracedLists.map((t) => `${tokenStats(t).count} token look-ups (an UPDATE and a commit each) in ${TRACED_LIST_S} s at ${t.connections} connections`).join(', ')},
  where one per 5 s period would be ${expectedTokenUpdates} (they held ${tracedLists.map(tokenPoolShare).join(' / ')} of the pool's connection time).
- Approvals: **${Math.round(rate(all))} decisions/s with ${all.deciders} deciders** (p50 ${round(
    percentile(
      all.decisions.map((x) => x.ms),
      50,
    ),
  )} ms), ${Math.round(rate(one))}/s with 1;
  ${round(approveQueries(ctx.tracedA).queries, 1)} round trips per decision in one transaction; every decision verified exactly once.

### Machine and versions

- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}; memory ${machine.memGiB} GiB. Server, Postgres and the load generator share these cores.
- ${machine.postgres} on the same machine (${machine.postgresSettings})
- Node ${machine.node}; fastify ${versions.fastify}; @fastify/rate-limit ${versions.rateLimit}; autocannon ${versions.autocannon}; pg ${versions.pg}; zod ${versions.zod}
- Levqor: lib/cli.js built from git ${build.head}${build.dirty ? ` plus uncommitted changes (${build.dirty} files under src/ or migrations/)` : ''}, sha256 ${build.sha}…; every Levqor
  process of the run uses a copy taken at start, since other sessions rebuild lib/cli.js.
- 1-minute load average at start / before the first measurement / end: ${loads.join(' / ')}${wait.waitedS > 1 ? `; waited ${round(wait.waitedS, 0)} s for other benchmarks to finish first` : ''};
  per measurement in the tables (the range over a comparison's rounds in the summary). The load average counts this
  benchmark's own server, Postgres backends and load generator too (about 2 while they keep both cores busy).
  ${anyBusy ? `**Another benchmark was running at the start or end of some measurements** (flagged "busy" in the tables): ${[...seenOthers].map((c) => `\`${c}\``).join(', ')}.` : 'No other benchmark (bench/**) ran during the measurements.'} The machine and the
  Postgres server are shared with other sessions (test suites), so single numbers carry ±20 % noise or more, and
  **PG CPU** (every postgres process) counts their queries too: hence alternating rounds and medians.

### Commands

\`\`\`sh
npm run bench:api              # node scripts/build.mjs && node scripts/bench.mjs api [--quick] [--keep] [--no-wait]
DATABASE_URL=postgres://…/DB node lib/cli.js migrate
DATABASE_URL=postgres://…/DB node lib/cli.js token create --tenant bench --name bench --json        # reader (all scopes)
DATABASE_URL=postgres://…/DB node lib/cli.js token create --tenant bench --name decider-N --scopes approvals:read,approvals:decide --json   # N = 1…${DECIDERS}
DATABASE_URL=postgres://…/DB LEVQOR_API_RATE_LIMIT=${RATE_LIMIT} LEVQOR_LOG_LEVEL=warn node lib/cli.js serve --no-scheduler --port P
BENCH_DB_URL=postgres://…/DB BENCH_TENANT_ID=… node .levqor/bench/api.mjs --variant bare   # the bare server: same fastify and pg, port 0
# autocannon (programmatic): { url, connections: C, duration: ${WARMUP_S} } warm-up, then { url, connections: C, duration: ${DURATION_S} },
#   headers { authorization: 'Bearer <reader token>' } on every target
\`\`\`

- Seed: tenant \`bench\` by SQL, tokens by the CLI, then one statement (${round(setupInfo.seedMs / 1000)} s; \`levqor migrate\` ${round(setupInfo.migrateMs / 1000)} s), then \`VACUUM ANALYZE\`:

  \`\`\`sql
  ${SEED_SQL.split('\n').join('\n  ')}
  \`\`\`
- The bare server (\`--variant bare\`, bench/api/bare.ts: the statements and the cursor encoding it imports from src/, nothing else): Fastify with default options, a pg pool of
  ${POOL_MAX} (Levqor's default), and three routes: \`GET /bench/approvals\` runs LIST_APPROVALS_SQL with (tenant, 'pending', 51, null, null)
  and returns \`{ approvals: first 50, next_cursor }\`; \`GET /bench/approvals/:id\` runs GET_APPROVAL_SQL and LIST_VOTES_SQL and returns
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
    (
      [
        ['levqor', x.lq, x.L, x.levqorMedian],
        ['bare', x.bq, x.B, x.bareMedian],
      ] as const
    ).map(([name, rs, mid, rps]) => [
      x.endpoint.label,
      name,
      x.c,
      Math.round(rps),
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

${listTimeSection(ctx, comp('list', c10).L)}

${approveSection(ctx)}`;
}
