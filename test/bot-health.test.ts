// The bot's probe port (LEVQOR_BOT_HEALTH_PORT), for Socket Mode, which opens no other port:
// `levqor bot` processes (the built CLI) against a fake Slack Web API and a fake Socket Mode
// server. Liveness answers while the process runs; readiness follows the Socket Mode connection
// and the database, on Postgres and on the embedded database through `levqor serve`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgTestDb } from './helpers/db.js';
import { killLeftovers, pollUntil, spawnCli, type CliProcess } from './helpers/proc.js';
import { BOT_TOKEN, SIGNING_SECRET, startFakeSlack, type FakeSlack } from './helpers/slack.js';
import { startFakeSocketMode, type FakeSocketMode } from './helpers/socket-mode.js';

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

/** The health port a bot logged at start. */
async function healthUrl(bot: CliProcess): Promise<string> {
  const line = await bot.waitForLog((l) => l.msg.startsWith('bot health:'), { what: 'the bot health line', timeoutMs: 120_000 });
  return `http://127.0.0.1:${line.port as number}`;
}

async function readyz(base: string): Promise<{ code: number; body: Readiness }> {
  const res = await fetch(`${base}/readyz`);
  return { code: res.status, body: (await res.json()) as Readiness };
}

/** Polls /readyz until it answers `code` (readiness changes as connections come and go). */
function readinessBecomes(base: string, code: number, what: string) {
  return pollUntil(
    async () => {
      const r = await readyz(base);
      return r.code === code ? r : undefined;
    },
    { what, attempts: 1200 },
  );
}

let slack: FakeSlack;
let socket: FakeSocketMode;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await killLeftovers();
  await socket?.close();
});
afterAll(async () => {
  await slack.close();
});

const botEnv = (db: Record<string, string>, health: string | undefined): Record<string, string> => ({
  ...db,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_APP_TOKEN: 'xapp-1-health',
  SLACK_API_URL: slack.apiUrl,
  ...(health === undefined ? {} : { LEVQOR_BOT_HEALTH_PORT: health }),
});

describe('the bot health port in Socket Mode (Postgres)', () => {
  it('answers liveness, and readiness that follows the Socket Mode connection and the database', { timeout: 240_000 }, async () => {
    const t = await openPgTestDb();
    socket = await startFakeSocketMode();
    slack.socketUrl = socket.url;
    const bot = spawnCli(['bot', '--host', '127.0.0.1'], botEnv({ DATABASE_URL: t.url ?? '' }, '0'));
    const base = await healthUrl(bot);
    await bot.waitForLog((l) => l.msg === 'Levqor Slack bot ready: socket-mode', { what: 'the ready line' });

    const live = await fetch(`${base}/healthz`);
    expect([live.status, await live.text()]).toEqual([200, 'ok']);
    expect(await readyz(base)).toEqual({ code: 200, body: { status: 'ready', checks: { database: 'ok', slack: 'ok', shutdown: 'ok' } } });
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    // The Socket Mode connection drops and Slack refuses the next one: not ready, still alive.
    const before = socket.connections();
    socket.drop({ refuse: true });
    const down = await readinessBecomes(base, 503, 'not ready after the connection dropped');
    expect(down.body).toEqual({
      status: 'not_ready',
      checks: { database: 'ok', slack: 'the Socket Mode connection is not open', shutdown: 'ok' },
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    socket.accept();
    await readinessBecomes(base, 200, 'ready again once the bot reconnected');
    expect(socket.connections()).toBeGreaterThan(before);

    // The database goes away (this test's own database, dropped with its connections).
    await t.close();
    const noDb = await readinessBecomes(base, 503, 'not ready without its database');
    expect(noDb.body.checks).toEqual({ database: 'not answering', slack: 'ok', shutdown: 'ok' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    bot.signal('SIGTERM');
    expect((await bot.waitForExit(60_000)).code).toBe(0);
  });

  it('opens no probe port unless LEVQOR_BOT_HEALTH_PORT is set', { timeout: 120_000 }, async () => {
    const db = await openPgTestDb();
    try {
      socket = await startFakeSocketMode();
      slack.socketUrl = socket.url;
      const bot = spawnCli(['bot', '--host', '127.0.0.1'], botEnv({ DATABASE_URL: db.url ?? '' }, undefined));
      await bot.waitForLog((l) => l.msg === 'Levqor Slack bot ready: socket-mode', { what: 'the ready line', timeoutMs: 60_000 });
      bot.signal('SIGTERM');
      expect((await bot.waitForExit(60_000)).code).toBe(0);
      expect(bot.logs.filter((l) => l.msg.startsWith('bot health:'))).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

describe('the bot health port on the embedded database through levqor serve', () => {
  it('the bot connects through serve; readiness fails once serve (its database) stops', { timeout: 300_000 }, async () => {
    const parent = await mkdtemp(join(tmpdir(), 'levqor-bot-health-'));
    try {
      const dataDir = join(parent, 'data');
      socket = await startFakeSocketMode();
      slack.socketUrl = socket.url;
      const serve = spawnCli(['serve', '--port', '0', '--interval', '3600'], { LEVQOR_DATA_DIR: dataDir });
      await serve.waitForLog((l) => l.msg.startsWith('levqor API listening on'), { what: 'serve listening', timeoutMs: 120_000 });
      const bot = spawnCli(['bot', '--host', '127.0.0.1'], botEnv({ LEVQOR_DATA_DIR: dataDir }, '0'));
      const base = await healthUrl(bot);
      const ready = await bot.waitForLog((l) => l.msg === 'Levqor Slack bot ready: socket-mode', { what: 'the ready line' });
      expect(ready.db).toBe(`embedded PGlite at ${dataDir} through levqor serve (${dataDir}.run/.s.PGSQL.5432)`);
      expect((await readyz(base)).code).toBe(200);

      serve.signal('SIGTERM');
      expect((await serve.waitForExit(60_000)).code).toBe(0);
      // The bot outlives its database: if it exited instead, its own last lines say why.
      const noDb = await readinessBecomes(base, 503, 'not ready once serve stopped').catch((err: unknown) => {
        throw new Error(`${String(err)}; the bot: ${JSON.stringify(bot.exit)}\n${bot.tail(40)}`);
      });
      expect(noDb.body.checks.database).toBe('not answering');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      bot.signal('SIGTERM');
      expect((await bot.waitForExit(60_000)).code).toBe(0);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
