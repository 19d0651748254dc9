// Slack benchmark: `npm run bench:slack` (builds lib/ first).
//
// Click-to-updated-message latency: the real bot (`levqor bot`, a child process on Postgres)
// posts 500 Class C requests to a local fake Slack Web API; each Approve click is a correctly
// signed block_actions request; the latency is from sending the click to the fake API
// receiving the chat.update of that request's message. Clicked one at a time, then 8 at a
// time. Every request is verified approved exactly once with exactly one update.
// Writes the `## Slack` section of bench/RESULTS.md and drops its database. The requests are made
// as a workflow or the API makes them: insertApproval of src/approvals/queries.ts (row, event, NOTIFY).
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { URLSearchParams } from 'node:url';
import { insertApproval } from '../src/approvals/queries.js';
import { createDatabase, dbUrl, dropDatabase, one, queryable, withPg } from './lib/db.js';
import { ROOT, SMOKE, logger } from './lib/env.js';
import { load1, machineInfo } from './lib/machine.js';
import { table, writeSection } from './lib/markdown.js';
import { runProcess, startProcess, type Started } from './lib/proc.js';

const N = SMOKE ? 10 : Number(process.env.BENCH_SLACK_N ?? 500);
const log = logger('bench:slack');
const SECRET = 'bench-signing-secret';
const DB = `levqor_bench_slack_${process.pid}`;
const URL_ = dbUrl(DB);
const CLI = join(ROOT, 'lib/cli.js');
const TEAM = 'TBENCH1';
const CHANNEL = 'CBENCH1';

/** The fake Slack Web API: records when each message's chat.update arrives. */
interface FakeSlack {
  server: http.Server;
  port: number;
  /** ts → performance.now() of each chat.update. */
  updates: Map<string, number[]>;
  /** approval id → ts of its message. */
  posted: Map<string, string>;
}

function startFakeSlack(): Promise<FakeSlack> {
  const updates = new Map<string, number[]>();
  const posted = new Map<string, string>();
  let seq = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
      const args = Object.fromEntries(new URLSearchParams(body));
      let answer: Record<string, unknown> = { ok: true };
      if (method === 'chat.postMessage') {
        const ts = `1700000000.${String(++seq).padStart(6, '0')}`;
        const id = /approval `([0-9a-f-]{36})`/.exec(args.blocks ?? '')?.[1];
        if (id && !args.thread_ts) posted.set(id, ts);
        answer = { ok: true, channel: args.channel, ts };
      } else if (method === 'chat.update') {
        const ts = args.ts ?? '';
        updates.set(ts, [...(updates.get(ts) ?? []), performance.now()]);
        answer = { ok: true, channel: args.channel, ts: args.ts };
      } else if (method === 'auth.test') answer = { ok: true, user_id: 'UBOT', team_id: TEAM };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, updates, posted });
    }),
  );
}

function signedClick(url: string, approvalId: string, user: string): Promise<Response> {
  const payload = {
    type: 'block_actions',
    user: { id: user, team_id: TEAM },
    team: { id: TEAM },
    channel: { id: CHANNEL },
    container: { type: 'message', channel_id: CHANNEL },
    trigger_id: `trigger.${randomUUID()}`,
    actions: [{ action_id: 'levqor_approve', value: approvalId, type: 'button', action_ts: String(Date.now() / 1000) }],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig },
    body,
  });
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function clickAll(bot: string, fake: FakeSlack, ids: string[], concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (w: number) => {
    for (let id = ids[next++]; id !== undefined; id = ids[next++]) {
      const ts = fake.posted.get(id) ?? '';
      const t0 = performance.now();
      const res = await signedClick(bot, id, `UBENCH${w}`);
      if (res.status !== 200) throw new Error(`click answered ${res.status}`);
      await waitUntil(`the update of ${id}`, () => (fake.updates.get(ts)?.length ?? 0) > 0, 10_000);
      latencies.push((fake.updates.get(ts)?.[0] ?? NaN) - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    n: latencies.length,
    p50: pct(latencies, 50),
    p90: pct(latencies, 90),
    p99: pct(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    perSecond: latencies.length / seconds,
  };
}

/** `count` pending Class C requests of tenant bench, each made by insertApproval (row, requested event, NOTIFY) in its own transaction. */
async function seed(count: number): Promise<string[]> {
  return withPg(URL_, async (c) => {
    const t = await one<{ id: string }>(c, "SELECT id FROM tenants WHERE name = 'bench'");
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      await c.query('BEGIN');
      const a = await insertApproval(queryable(c), {
        tenant_id: t.id,
        run_id: null,
        workflow_id: null,
        step_index: null,
        action_type: 'deploy',
        impact_class: 'C',
        summary: `deploy build ${i}`,
        payload: { build: i, token: 'secret' },
        requested_by: 'token:ci',
        ttl_seconds: 86_400,
        source: 'api',
      });
      await c.query('COMMIT');
      ids.push(a.id);
    }
    return ids;
  });
}

async function main() {
  const machine = await machineInfo();
  const loadBefore = load1();
  await createDatabase(DB);
  const fake = await startFakeSlack();
  const env = { ...process.env, DATABASE_URL: URL_, LEVQOR_LOG_LEVEL: 'warn', LEVQOR_LOG_PRETTY: 'false' };
  let bot: Started | undefined;
  try {
    for (const args of [
      ['tenant', 'create', 'bench'],
      ['slack', 'configure', '--tenant', 'bench', '--team', TEAM, '--approvals-channel', CHANNEL],
    ]) {
      const r = await runProcess(process.execPath, [CLI, ...args], { env });
      if (r.code !== 0) throw new Error(`levqor ${args.join(' ')}: ${r.stderr}`);
    }
    bot = startProcess(process.execPath, [CLI, 'bot', '--host', '127.0.0.1', '--port', '0', '--no-run'], {
      env: {
        ...env,
        LEVQOR_LOG_LEVEL: 'info',
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_BOT_TOKEN: 'xoxb-bench',
        SLACK_API_URL: `http://127.0.0.1:${fake.port}/api/`,
      },
    });
    let out = '';
    bot.child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil('the bot to start', () => /ready: (http:\/\/\S+)/.test(out), 60_000);
    const url = /ready: (http:\/\/[^\s"]+)/.exec(out)?.[1] ?? '';

    const warm = await seed(20);
    await waitUntil('warm-up posts', () => warm.every((id) => fake.posted.has(id)));
    await clickAll(url, fake, warm, 1);
    const ids = await seed(N);
    await waitUntil(`${N} posts`, () => ids.every((id) => fake.posted.has(id)));
    const half = Math.floor(N / 2);
    const loadDuring = load1();
    const sequential = await clickAll(url, fake, ids.slice(0, half), 1);
    const parallel = await clickAll(url, fake, ids.slice(half), 8);

    const verified = await withPg(URL_, (c) =>
      one<{ approved: number; total: number; votes: number }>(
        c,
        `SELECT count(*) FILTER (WHERE status = 'approved')::int AS approved, count(*)::int AS total,
           (SELECT count(*)::int FROM approval_votes v WHERE v.approval_id = ANY($1::uuid[])) AS votes
         FROM approval_queue WHERE id = ANY($1::uuid[])`,
        [ids],
      ),
    );
    const updatesOk = ids.every((id) => fake.updates.get(fake.posted.get(id) ?? '')?.length === 1);
    const ok = verified.approved === N && verified.votes === N && updatesOk;

    const ms = (v: number) => v.toFixed(1);
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine.nproc} CPU (${machine.cpu}), ${machine.memGiB} GiB, ${machine.postgres} (${machine.postgresSettings}), Node ${machine.node}.`,
      `Load average (1 min) before: ${loadBefore}, during: ${loadDuring} (the machine is shared with other sessions).`,
      '',
      `Command: \`npm run bench:slack\` (${N} approvals; BENCH_SLACK_N changes it). The bot is \`levqor bot --no-run\` as a child process on Postgres;`,
      'the fake Slack Web API runs in the benchmark process; latency = from sending the signed block_actions click to the fake API receiving',
      "that message's chat.update (ack, zod, dedup insert, decideApproval, advisory-locked sync, chat.update).",
      '',
      table(
        ['clicks', 'in flight', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'approvals/s'],
        [
          [
            sequential.n,
            1,
            ms(sequential.p50),
            ms(sequential.p90),
            ms(sequential.p99),
            ms(sequential.max),
            sequential.perSecond.toFixed(0),
          ],
          [parallel.n, 8, ms(parallel.p50), ms(parallel.p90), ms(parallel.p99), ms(parallel.max), parallel.perSecond.toFixed(0)],
        ],
      ),
      '',
      `- **p99 click-to-updated-message: ${ms(sequential.p99)} ms one at a time** (target < 250 ms: ${sequential.p99 < 250 ? 'met' : 'not met'}); ${ms(parallel.p99)} ms with 8 clicks in flight (${parallel.p99 < 250 ? 'also under' : 'over'} 250 ms on this loaded machine).`,
      `- **Verified** (${ok ? 'passed' : 'FAILED'}): ${verified.approved} of ${N} approved, ${verified.votes} votes, ${updatesOk ? 'exactly one' : 'NOT exactly one'} chat.update per message.`,
    ].join('\n');
    writeSection('Slack', body, log);
    if (!ok) process.exitCode = 1;
  } finally {
    bot?.child.kill('SIGTERM');
    await bot?.done;
    fake.server.close();
    await dropDatabase(DB);
  }
}

await main();
