import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killRunningClis, parseJson, runCli, startCli, type CliEnv } from './helpers/cli.js';

// The embedded database (PGlite) has one owner process per data dir: the CLI's file lock.
// `levqor serve` (and `start`) shares it with the other commands on its socket
// (test/embedded-serve.test.ts); any other owner, such as a standalone scheduler, holds it alone.
// A PGlite start (WASM Postgres plus migrations) takes 3-6 s on an idle machine and several
// times that on a loaded one: these tests start few processes, and have longer limits.
// They synchronise on output lines and exits only, never on a clock.
const PGLITE = { timeout: 150_000 };
const LINE_WAIT_MS = 120_000;

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
const dirs: string[] = [];

afterEach(async () => {
  await killRunningClis();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh data dir (not yet created) and the environment that points the CLI at it. */
async function embedded(): Promise<{ dataDir: string; lockPath: string; env: CliEnv }> {
  const parent = await mkdtemp(join(tmpdir(), 'levqor-pglite-'));
  dirs.push(parent);
  const dataDir = join(parent, 'data');
  return { dataDir, lockPath: `${dataDir}.lock`, env: { LEVQOR_DATA_DIR: dataDir, DATABASE_URL: undefined } };
}

describe('embedded database lock', PGLITE, () => {
  it('a second process is refused while the scheduler holds the data dir; SIGTERM frees it', async () => {
    const { dataDir, lockPath, env } = await embedded();
    // A long grace period: had it waited for runs in flight, it would outlast the test.
    const scheduler = startCli(['scheduler', '--interval', '3600'], { env: { ...env, LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: '300' } });
    await scheduler.waitForLine('scheduler: checking for due workflows', LINE_WAIT_MS);
    expect(await readFile(lockPath, 'utf8')).toBe(`${scheduler.child.pid}@${hostname()}`);

    const refused = await runCli(['workflow', 'list'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `levqor: the embedded database at ${dataDir} is in use by another Levqor process (pid ${scheduler.child.pid}@${hostname()})`,
    );
    expect(refused.stderr).toContain('set DATABASE_URL');
    expect(refused.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(lockPath)).toBe(true);

    scheduler.child.kill('SIGTERM');
    // Nothing was in flight, so it does not wait out the 300 s grace period (which would outlast the test).
    const stopped = await scheduler.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/"signal":"SIGTERM".*stopping: no new runs are claimed/);
    expect(stopped.stdout).toContain('"msg":"scheduler stopped"');
    expect(existsSync(lockPath)).toBe(false);

    const after = await runCli(['tenant', 'list', '--json'], { env });
    expect(after.code, after.stderr).toBe(0);
    expect(parseJson(after)).toEqual([]);
    expect(existsSync(lockPath)).toBe(false);
  });

  it('a stale lock left by a dead process is taken over silently', async () => {
    const { lockPath, env } = await embedded();
    const deadPid = 999_999;
    expect(() => process.kill(deadPid, 0)).toThrow(); // the premise: no such process
    await writeFile(lockPath, `${deadPid}@${hostname()}`);

    const r = await runCli(['tenant', 'create', 'solo'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^created tenant solo /);
    expect(r.stderr).toBe('');
    expect(existsSync(lockPath)).toBe(false);
  });

  it.each([
    { name: 'a live process on this host (the test runner)', holder: () => `${process.pid}@${hostname()}` },
    // Another host's pid cannot be checked from here, so its lock is respected.
    { name: 'a process on another host', holder: () => `${999_999}@not-${hostname()}` },
  ])('a lock it cannot prove stale is respected: $name', async ({ holder }) => {
    const { lockPath, env } = await embedded();
    await writeFile(lockPath, holder());
    const r = await runCli(['tenant', 'list'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is in use by another Levqor process (pid ${holder()})`);
    expect(r.stderr).toContain(`delete ${lockPath}`);
    expect(await readFile(lockPath, 'utf8')).toBe(holder());
  });
});

describe('levqor start (npm start) on a fresh data dir', PGLITE, () => {
  it('creates the demo tenant and workflows, serves commands while it runs, stops on SIGTERM, and they persist', async () => {
    const { lockPath, env } = await embedded();
    const start = startCli(['start', '--interval', '3600', '--port', '0'], { env });
    const seeded = JSON.parse(await start.waitForLine('first start: created the demo tenant and workflows', LINE_WAIT_MS)) as Record<
      string,
      unknown
    >;
    expect(seeded).toMatchObject({ tenant: 'demo', workflows: ['customer-newsletter', 'daily-digest', 'heartbeat', 'notify-partner'] });
    await start.waitForLine('levqor API listening on', LINE_WAIT_MS);
    // No need to stop it to use the CLI: the command goes through its socket.
    const during = await runCli(['workflow', 'list', '--tenant', 'demo', '--json'], { env });
    expect(during.code, during.stderr).toBe(0);
    expect(parseJson(during).map((w) => w.name)).toEqual(['customer-newsletter', 'daily-digest', 'heartbeat', 'notify-partner']);

    start.child.kill('SIGTERM');
    const stopped = await start.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(existsSync(lockPath)).toBe(false);

    const r = await runCli(['workflow', 'list', '--tenant', 'demo', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const workflows = parseJson(r);
    expect(workflows.map((w) => w.name)).toEqual(['customer-newsletter', 'daily-digest', 'heartbeat', 'notify-partner']);
    expect(workflows.find((w) => w.name === 'daily-digest')).toMatchObject({ schedule: 'cron 0 9 * * 1-5 Europe/London' });
  });
});
