// The embedded default shared by several processes: while `levqor serve` runs on a data dir,
// every other command reaches the database through its Unix socket; without it (or after it was
// killed) they open PGlite themselves. Real processes (the built lib/cli.js); they synchronise on
// output lines and exits only, never on a clock.
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { socketDirOf, socketPathOf } from '../src/db/socket-path.js';
import { killRunningClis, parseJson, runCli, startCli, type CliEnv, type StartedCli } from './helpers/cli.js';

// A PGlite start takes seconds on an idle machine and several times that on a loaded one.
const PGLITE = { timeout: 300_000 };
const LINE_WAIT_MS = 120_000;
const dirs: string[] = [];

afterEach(async () => {
  await killRunningClis();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function embedded(extra: CliEnv = {}): Promise<{ dataDir: string; parent: string; env: CliEnv }> {
  const parent = await mkdtemp(join(tmpdir(), 'levqor-emb-'));
  dirs.push(parent);
  const dataDir = join(parent, 'data');
  return { dataDir, parent, env: { LEVQOR_DATA_DIR: dataDir, DATABASE_URL: undefined, ...extra } };
}

/** Starts `levqor serve` (no HTTP port clash, no timer-driven ticks) and waits until it listens. */
async function startServe(env: CliEnv): Promise<StartedCli> {
  const serve = startCli(['serve', '--port', '0', '--interval', '3600'], { env });
  await serve.waitForLine('levqor API listening on', LINE_WAIT_MS);
  return serve;
}

function ok(r: { code: number | null; stderr: string }, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
}

describe('the embedded database shared by levqor serve', PGLITE, () => {
  it('serves concurrent commands through its socket; transactions never mix; a queued run wakes its scheduler', async () => {
    const { dataDir, parent, env } = await embedded();
    const serve = await startServe(env);
    const socket = socketPathOf(dataDir);
    expect(serve.stdout()).toContain(`"db":"embedded PGlite at ${dataDir}, shared on ${socket}"`);
    expect((await lstat(socketDirOf(dataDir))).mode & 0o777).toBe(0o700);
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${dataDir}.lock`, 'utf8')).toBe(`${serve.child.pid}@${hostname()}`);

    ok(await runCli(['tenant', 'create', 'shared'], { env }), 'tenant create');
    const file = join(parent, 'workflows.json');
    const names = Array.from({ length: 40 }, (_, i) => `wf-${i}`);
    await writeFile(
      file,
      JSON.stringify({ workflows: names.map((name) => ({ name, schedule_config: { enabled: false }, steps: [{ type: 'noop' }] })) }),
    );
    // Three writers of the same 40 workflows at once, each one transaction of some 120 statements,
    // beside readers. In one shared backend, interleaved transactions would collide on the unique
    // names (and abort each other); taking whole turns, one creates them and the others find them
    // unchanged.
    const apply = () => runCli(['workflow', 'apply', '-f', file, '--tenant', 'shared', '--json'], { env });
    const [a, b, c, ...readers] = await Promise.all([
      apply(),
      apply(),
      apply(),
      runCli(['runs', 'list', '--tenant', 'shared'], { env }),
      runCli(['approvals', 'list', '--tenant', 'shared'], { env }),
      runCli(['workflow', 'list', '--tenant', 'shared'], { env }),
    ]);
    const outcomes = [a, b, c].map((r) => {
      ok(r, 'workflow apply');
      return [...new Set(parseJson<{ outcome: string }[]>(r).map((w) => w.outcome))].join();
    });
    expect(outcomes.sort()).toEqual(['created', 'unchanged', 'unchanged']);
    for (const r of readers) ok(r, 'reader');
    const listed = await runCli(['workflow', 'list', '--tenant', 'shared', '--json'], { env });
    ok(listed, 'workflow list');
    expect(
      parseJson<{ name: string }[]>(listed)
        .map((w) => w.name)
        .sort(),
    ).toEqual([...names].sort());

    // `run --enqueue` NOTIFYs through the socket; serve's loop (ticking once an hour) wakes on it.
    const queued = await runCli(['run', 'wf-7', '--tenant', 'shared', '--enqueue', '--json'], { env });
    ok(queued, 'run --enqueue');
    const runId = parseJson<{ id: string }>(queued).id;
    await serve.waitForLine(new RegExp(`"run_id":"${runId}".*"msg":"run finished"`), LINE_WAIT_MS);

    // No command took the lock or left anything behind.
    expect(await readFile(`${dataDir}.lock`, 'utf8')).toBe(`${serve.child.pid}@${hostname()}`);
    serve.child.kill('SIGTERM');
    const stopped = await serve.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).not.toMatch(/"level":50/);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(socketDirOf(dataDir))).toBe(false);

    // Without serve, a command opens the database itself, and the data is there.
    const runs = await runCli(['runs', 'list', '--tenant', 'shared', '--json'], { env });
    ok(runs, 'runs list after serve');
    expect(parseJson<{ id: string; status: string }[]>(runs)).toEqual([expect.objectContaining({ id: runId, status: 'succeeded' })]);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('levqor scheduler connects through serve; a queued run is executed exactly once by one of the two loops', async () => {
    const { parent, env } = await embedded();
    const serve = await startServe(env);
    ok(await runCli(['tenant', 'create', 'pair'], { env }), 'tenant create');
    const scheduler = startCli(['scheduler', '--interval', '3600'], { env });
    const started = await scheduler.waitForLine('scheduler: checking for due workflows', LINE_WAIT_MS);
    expect(started).toContain('through levqor serve');
    const file = join(parent, 'one.json');
    await writeFile(file, JSON.stringify({ name: 'once', schedule_config: { enabled: false }, steps: [{ type: 'log', message: 'hi' }] }));
    ok(await runCli(['workflow', 'apply', '-f', file, '--tenant', 'pair'], { env }), 'workflow apply');
    const queued = await runCli(['run', 'once', '--tenant', 'pair', '--enqueue', '--json'], { env });
    ok(queued, 'run --enqueue');
    const runId = parseJson<{ id: string }>(queued).id;
    const finishedLine = new RegExp(`"run_id":"${runId}".*"msg":"run finished"`);
    await Promise.any([serve.waitForLine(finishedLine, LINE_WAIT_MS), scheduler.waitForLine(finishedLine, LINE_WAIT_MS)]);

    scheduler.child.kill('SIGTERM');
    expect((await scheduler.exited).code).toBe(0);
    serve.child.kill('SIGTERM');
    expect((await serve.exited).code).toBe(0);
    const executed = [serve.stdout(), scheduler.stdout()]
      .join('\n')
      .split('\n')
      .filter((l) => finishedLine.test(l));
    expect(executed).toHaveLength(1);
  });

  it('a socket left by kill -9 of serve blocks nobody: commands fall back, and serve starts again', async () => {
    const { dataDir, env } = await embedded();
    const first = await startServe(env);
    ok(await runCli(['tenant', 'create', 'before-kill'], { env }), 'tenant create');
    first.child.kill('SIGKILL');
    await first.exited;
    const socket = socketPathOf(dataDir);
    expect(existsSync(socket)).toBe(true); // the premise: a stale socket and a stale lock

    // A command finds nobody listening, takes over the stale lock and removes the stale socket.
    const listed = await runCli(['tenant', 'list', '--json'], { env });
    ok(listed, 'tenant list');
    expect(listed.stderr).toBe('');
    expect(parseJson<{ name: string }[]>(listed).map((t) => t.name)).toEqual(['before-kill']);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(socketDirOf(dataDir))).toBe(false);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);

    // And serve, killed again, starts over its own stale socket and lock.
    const second = await startServe(env);
    second.child.kill('SIGKILL');
    await second.exited;
    expect(existsSync(socket)).toBe(true);
    const third = await startServe(env);
    const through = await runCli(['tenant', 'create', 'after-kill'], { env });
    ok(through, 'tenant create through the new serve');
    expect(await readFile(`${dataDir}.lock`, 'utf8')).toBe(`${third.child.pid}@${hostname()}`);
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
  });

  it('LEVQOR_DB_SOCKET=false: serve shares nothing and holds the database alone', async () => {
    const { dataDir, env } = await embedded({ LEVQOR_DB_SOCKET: 'false' });
    const serve = await startServe(env);
    expect(existsSync(socketDirOf(dataDir))).toBe(false);
    const refused = await runCli(['tenant', 'list'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by another Levqor process (pid ${serve.child.pid}@${hostname()})`);
    serve.child.kill('SIGTERM');
    expect((await serve.exited).code).toBe(0);
  });
});
