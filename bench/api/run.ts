// bench/api's run: set up, compare the read endpoints, diagnose, approve, verify, report.
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { rows, withPg, scratchDatabases } from '../lib/db.js';
import { isoNow } from '../lib/env.js';
import { load1, machineInfo, snapshotCli, version, type CliSnapshot } from '../lib/machine.js';
import { writeSection } from '../lib/markdown.js';
import { waitForQuiet } from '../lib/others.js';
import { round } from '../lib/stats.js';
import { approveBenchmark, tracedApprovals } from './approve.js';
import { CONNECTIONS, KEEP, PROBE_S, SNAPSHOT_DIR, log } from './config.js';
import { commitProbe, listDiagnosis, tracedList, type TracedList } from './diagnosis.js';
import { compareBenchmark } from './list.js';
import { report } from './report.js';
import { checkSameBodies, request, startBare, startLevqor, stopAll, stopChild } from './servers.js';
import { setup } from './setup.js';
import { verify } from './verify.js';

const databases = scratchDatabases('levqor_bench', log);
let snapshot: CliSnapshot | null = null;

/** The whole benchmark; `self` is this bundle (the bare server is it with `--variant bare`). */
export async function main(self = fileURLToPath(import.meta.url)): Promise<void> {
  snapshot = await snapshotCli(SNAPSHOT_DIR, 'bench:api');
  const { cli } = snapshot;
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
    `machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}, fastify ${versions.fastify}; build ${snapshot.sha}`,
  );
  const quiet = { self: 'api', ownDb: `levqor_bench_api_${process.pid}`, maxMinutes: 30, log };
  const wait = await waitForQuiet(quiet);
  const db = await databases.create('api');
  const setupInfo = await setup(cli, db);
  const { url, tenantId, reader, deciders } = setupInfo;

  const levqor = await startLevqor(cli, url);
  const first = await request(levqor.port, 'GET', '/api/approvals', { token: reader.token });
  const page = JSON.parse(first.text) as { approvals?: { id: string }[]; next_cursor?: string | null };
  const approvalId = page.approvals?.[0]?.id;
  if (first.status !== 200 || page.approvals?.length !== 50 || !page.next_cursor || !approvalId) {
    throw new Error(`GET /api/approvals: ${first.status} ${first.text.slice(0, 300)}`);
  }
  const bare = await startBare(self, { BENCH_DB_URL: url, BENCH_TENANT_ID: tenantId });
  const same = await checkSameBodies(levqor, bare, reader.token, approvalId);

  wait.waitedS += (await waitForQuiet(quiet)).waitedS;
  const date = isoNow(); // when the measurements start
  loads.push(load1());
  const list = await compareBenchmark(levqor, bare, reader.token, approvalId, same);
  await stopChild(levqor.proc);
  await stopChild(bare.proc);

  const diag = await listDiagnosis(url, tenantId, page, reader.token);
  log(`list query: ${round(diag.unnamed, 3)} ms unnamed, ${round(diag.prepared, 3)} ms prepared; body ${diag.bodyBytes} bytes`);

  const ids = await withPg(url, async (c) =>
    (await rows<{ id: string }>(c, `SELECT id FROM approval_queue WHERE status = 'pending' ORDER BY requested_at, id`)).map((r) => r.id),
  );
  const approve = await approveBenchmark(cli, url, db, deciders, ids);

  const tracedLists: TracedList[] = [];
  for (const c of CONNECTIONS) {
    const t = await tracedList(cli, url, reader.token, c);
    tracedLists.push(t);
    log(`traced list at ${c} connections: ${t.requests} requests`);
  }
  const [decider] = deciders;
  if (!decider) throw new Error('no decider');
  const tracedA = await tracedApprovals(cli, url, decider, approve.tracedIds);
  const check = await verify(url, {
    ok: [...approve.warm, ...approve.runs.flatMap((r) => r.decisions), ...tracedA.results],
    race: approve.race,
    raceIds: new Set(approve.raceIds),
  });
  if (check.problems.length) throw new Error(`approval check failed:\n  ${check.problems.join('\n  ')}`);
  log(`verified: ${check.approved} approved exactly once, ${check.audits} audit entries`);
  const probe = await commitProbe(url, PROBE_S);
  loads.push(load1());

  const build = { sha: snapshot.sha, head: snapshot.head, dirty: snapshot.dirty };
  const body = report({ machine, date, loads, wait, build, setupInfo, list, diag, tracedLists, approve, tracedA, check, probe, versions });
  writeSection('API', body, log);
}

/** Stops the servers, removes the copy of lib/ and drops the database (unless --keep). */
export async function cleanup(): Promise<void> {
  await stopAll();
  snapshot?.remove();
  await databases.dropAll(KEEP);
}
