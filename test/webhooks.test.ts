import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../src/approvals/service.js';
import { deliveryLog, insertWebhook } from '../src/notify/webhook-queries.js';
import {
  addWebhook,
  deliverWebhooks,
  MAX_ATTEMPTS,
  retryDelaySeconds,
  signBody,
  webhookDeliveryCheck,
  type WebhookDeps,
} from '../src/notify/webhooks.js';
import { guardedFetch } from '../src/workflows/steps/http.js';
import { requestDeploy } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { BACKENDS, openPgTestDb, useTestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';

// Outbound approval webhooks: a loopback receiver checks each HMAC signature; a 500 is tried
// again with back-off; a delivery is given up after MAX_ATTEMPTS and shows in doctor; two
// replicas sweeping at once deliver each event once.

const KEY = 'whsec-test-key-0123456789';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver answering the statuses queued in `answers` (then 200), recording every request. */
async function startReceiver(): Promise<{ url: string; got: Received[]; answers: number[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answers.shift() ?? 200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a receiver does: recompute the signature of the body it got. */
function verified(r: Received): boolean {
  const sig = String(r.headers['x-levqor-signature']);
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  if (!m) return false;
  return createHmac('sha256', KEY).update(`${m[1]}.${r.body}`).digest('hex') === m[2];
}

const quiet = { info: () => undefined, warn: () => undefined };

let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

it('signs like Stripe and Slack: t=<seconds>,v1=<hmac of "t.body">; backs off 10 s doubling to an hour', () => {
  expect(signBody('k', '{}', 1700000000.9)).toBe(`t=1700000000,v1=${createHmac('sha256', 'k').update('1700000000.{}').digest('hex')}`);
  expect([1, 2, 3, 9, 20].map(retryDelaySeconds)).toEqual([10, 20, 40, 2560, 3600]);
});

describe.each(BACKENDS)('approval webhooks on $name', ({ open }) => {
  const t = useTestDb(open);
  const deps = (): WebhookDeps => ({
    db: t.db,
    log: quiet,
    fetch: guardedFetch({ allow: ['127.0.0.1'] }, { timeoutMs: 5000, connectTimeoutMs: 2000, maxResponseBytes: 65536 }),
    signingKey: () => Promise.resolve(KEY),
    settleSeconds: 0,
  });

  it('delivers every event signed, retries a 500, and sends only the events asked for', async () => {
    const tenant = await makeTenant(t.db, 'hooks');
    await insertWebhook(t.db, {
      tenantId: tenant.id,
      name: 'all',
      url: receiver.url,
      secretName: 'HOOK_KEY',
      events: [],
      actor: 'cli:ops',
    });
    await insertWebhook(t.db, {
      tenantId: tenant.id,
      name: 'decisions',
      url: `${receiver.url}?only=approved`,
      secretName: 'HOOK_KEY',
      events: ['approved'],
      actor: 'cli:ops',
    });
    const a = await requestDeploy(t.db, tenant.id, { summary: 'deploy hooks', payload: { password: 'hunter2', version: '1' } });
    receiver.got.length = 0;
    receiver.answers.push(500);
    expect(await deliverWebhooks(deps())).toEqual({ delivered: 0, failed: 1 });
    const [pending] = await deliveryLog(t.db, tenant.id, { failing: true, limit: 10 });
    expect(pending).toMatchObject({
      webhook: 'all',
      event_type: 'requested',
      status: 'pending',
      attempts: 1,
      last_status: 500,
      last_error: 'answered 500',
    });
    expect(await deliverWebhooks(deps())).toEqual({ delivered: 0, failed: 0 }); // backing off
    await t.db.query('UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE tenant_id = $1', [tenant.id]);
    expect(await deliverWebhooks(deps())).toEqual({ delivered: 1, failed: 0 });

    await decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor: 'cli:lead', channel: 'cli' });
    expect(await deliverWebhooks(deps())).toEqual({ delivered: 2, failed: 0 });
    expect(receiver.got).toHaveLength(4);
    expect(receiver.got.every(verified)).toBe(true);
    const bodies = receiver.got.map(
      (r) => JSON.parse(r.body) as { event: { type: string }; approval: { id: string; status: string; payload: Record<string, unknown> } },
    );
    expect(bodies.map((b) => b.event.type)).toEqual(['requested', 'requested', 'approved', 'approved']);
    expect(bodies[3]?.approval).toMatchObject({ id: a.id, status: 'approved', payload: { version: '1' } });
    expect(JSON.stringify(bodies)).not.toContain('hunter2');
    expect(receiver.got.filter((r) => String(r.headers['x-levqor-event']) === 'approved')).toHaveLength(2);
    const log = await deliveryLog(t.db, tenant.id, { limit: 10 });
    // (Endpoints fan out in id order, so the two approved deliveries may be logged either way round.)
    expect(log.map((d) => [d.webhook, d.event_type, d.status, d.attempts]).sort()).toEqual([
      ['all', 'approved', 'delivered', 1],
      ['all', 'requested', 'delivered', 2],
      ['decisions', 'approved', 'delivered', 1],
    ]);
    expect((await webhookDeliveryCheck(t.db, tenant.id)).ok).toBe(true);
  });

  it('gives up after the last attempt and says so in doctor; the SSRF guard applies', async () => {
    const tenant = await makeTenant(t.db, 'hooks-down');
    await insertWebhook(t.db, {
      tenantId: tenant.id,
      name: 'metadata',
      url: 'http://169.254.169.254/hook',
      secretName: 'K',
      events: [],
      actor: 'cli:ops',
    });
    await requestDeploy(t.db, tenant.id, { summary: 'deploy down' });
    expect((await deliverWebhooks(deps())).failed).toBeGreaterThanOrEqual(1);
    const [first] = await deliveryLog(t.db, tenant.id, { limit: 1 });
    expect(first?.last_error).toMatch(/169\.254\.169\.254/);
    await t.db.query('UPDATE webhook_deliveries SET next_attempt_at = 0, attempts = $2 - 1 WHERE tenant_id = $1', [
      tenant.id,
      MAX_ATTEMPTS,
    ]);
    await deliverWebhooks(deps());
    const [given] = await deliveryLog(t.db, tenant.id, { failing: true, limit: 1 });
    expect(given).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    const check = await webhookDeliveryCheck(t.db, tenant.id);
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(/^metadata: 1 failing, last .*169\.254\.169\.254.*\(failed, 8 tries\)/);
  });

  it('refuses a bad webhook naming each problem', async () => {
    const tenant = await makeTenant(t.db, 'hooks-bad');
    await expect(
      addWebhook(
        t.db,
        { tenantId: tenant.id, name: 'x y', url: 'ftp://example.com', secretName: 'NOPE', events: ['merged'], actor: 'cli:ops' },
        () => Promise.resolve(false),
      ),
    ).rejects.toThrow(
      /--name "x y".*--url "ftp:\/\/example.com".*--secret-name NOPE: no such secret for this tenant \(levqor secret set NOPE\).*--events: unknown merged/,
    );
  });
});

describe('two replicas delivering at once (Postgres)', () => {
  const t = useTestDb(() => openPgTestDb({ poolMax: 6 }));

  it('sends each event once', async () => {
    const tenant = await makeTenant(t.db, 'hooks-race');
    await insertWebhook(t.db, {
      tenantId: tenant.id,
      name: 'race',
      url: `${receiver.url}?race`,
      secretName: 'K',
      events: [],
      actor: 'cli:ops',
    });
    await Promise.all(Array.from({ length: 10 }, (_, i) => requestDeploy(t.db, tenant.id, { summary: `race ${i}` })));
    const deps: WebhookDeps = {
      db: t.db,
      log: quiet,
      fetch: guardedFetch({ allow: ['127.0.0.1'] }, { timeoutMs: 5000, connectTimeoutMs: 2000, maxResponseBytes: 65536 }),
      signingKey: () => Promise.resolve(KEY),
      settleSeconds: 0,
    };
    const before = receiver.got.length;
    const results = await Promise.all([deliverWebhooks(deps), deliverWebhooks(deps), deliverWebhooks(deps)]);
    expect(results.reduce((n, r) => n + r.delivered, 0)).toBe(10);
    const ids = receiver.got.slice(before).map((r) => String(r.headers['x-levqor-delivery']));
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
  });

  it('levqor webhooks add needs the secret to exist, then lists and removes', async () => {
    const tenant = await makeTenant(t.db, 'hooks-cli');
    const env = { DATABASE_URL: t.url as string, LEVQOR_SECRET_TEAMS_KEY: 'from-env' };
    const missing = await runCli(
      ['webhooks', 'add', '--tenant', tenant.name, '--name', 'teams', '--url', 'https://example.com/h', '--secret-name', 'OTHER'],
      { env },
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('levqor secret set OTHER');
    const added = await runCli(
      [
        'webhooks',
        'add',
        '--tenant',
        tenant.name,
        '--name',
        'teams',
        '--url',
        'https://example.com/h',
        '--secret-name',
        'TEAMS_KEY',
        '--events',
        'requested,expired',
      ],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('webhook teams → https://example.com/h: requested, expired');
    expect((await runCli(['webhooks', 'list', '--tenant', tenant.name], { env })).stdout).toContain('TEAMS_KEY');
    expect((await runCli(['webhooks', 'rm', 'teams', '--tenant', tenant.name], { env })).code).toBe(0);
  });
});
