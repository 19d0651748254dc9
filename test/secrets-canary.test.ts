// The canary (issue 22): a full credentialed flow with a random secret value, on both backends,
// then a search of everything Levqor wrote or showed for it: 0 occurrences.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../bot/app.js';
import { setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { createLogger } from '../src/lib/log.js';
import { generateWeeklyReport, generateWeeklyReportJson } from '../src/reports/weekly.js';
import { getRun } from '../src/runs/queries.js';
import { runTick } from '../src/scheduler/tick.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { makeApiTenant, startApi, type TestApi } from './helpers/api.js';
import { csrfOf, getPage, postForm, signInCookie } from './helpers/console.js';
import { BACKENDS, type TestDb } from './helpers/db.js';
import { capturingLog, testConfig, testSchedulerDeps } from './helpers/deps.js';
import { blockAction, blockText, sendInteraction, startFakeSlack, startTestBot, type FakeSlack } from './helpers/slack.js';

const run = promisify(execFile);

/** A loopback API that wants `Authorization: Bearer <token>` and, to tempt a leak, echoes it back. */
async function startTarget(): Promise<{ url: string; seen: { path: string; auth: string | undefined }[]; close(): Promise<void> }> {
  const seen: { path: string; auth: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const auth = req.headers.authorization;
      seen.push({ path: req.url ?? '', auth });
      const failing = (req.url ?? '').startsWith('/fail');
      res.writeHead(failing ? 400 : 200, { 'content-type': 'application/json', 'x-echo': auth ?? '' });
      res.end(JSON.stringify({ ok: !failing, you_sent: auth, path: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every row of every table of the public schema, as text. */
async function dumpTables(t: TestDb): Promise<string> {
  const { rows: tables } = await t.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await t.db.query<{ row: string }>(`SELECT row_to_json(x)::text AS row FROM "${table_name}" x`);
    parts.push(`-- ${table_name}\n${rows.map((r) => r.row).join('\n')}`);
  }
  return parts.join('\n');
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe.each(BACKENDS)('secrets canary on $name', ({ open }) => {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  const rotated = `rotated-${randomBytes(12).toString('hex')}`;
  const env = { LEVQOR_HTTP_ALLOW: '127.0.0.1', LEVQOR_SECRET_KEY: randomBytes(32).toString('base64') };
  const captured = capturingLog();
  const responses: string[] = [];
  let t: TestDb;
  let fake: FakeSlack;
  let bot: RunningBot;
  let api: TestApi;
  let target: Awaited<ReturnType<typeof startTarget>>;

  beforeAll(async () => {
    t = await open();
    fake = await startFakeSlack();
    target = await startTarget();
    const runDeps = testSchedulerDeps(t.db, env, { log: captured.log });
    bot = await startTestBot(t.db, fake, { log: captured.log, runDeps, config: testConfig(env) });
    api = await startApi(t.db, { env, log: captured.log });
  });
  afterAll(async () => {
    await bot.stop();
    await api.close();
    await fake.close();
    await target.close();
    await t.close();
  });

  /** An API call whose response text joins the haystack. */
  async function call<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) {
    const res = await api.request<T>(method, path, { token, body });
    responses.push(res.text);
    return res;
  }

  it('runs credentialed steps with the value, and nothing Levqor keeps or shows holds it', async () => {
    const ten = await makeApiTenant(t.db);
    const team = `TCANARY${process.pid}${t.kind === 'postgres' ? 'P' : 'L'}`;
    await setSlackSettings(t.db, ten.tenant.id, { team_id: team, approvals_channel: 'CCANARY' });
    await setPolicy(t.db, ten.tenant.id, { ...DEFAULT_POLICY, approvers: ['slack:UALICE', 'token:lead'] }, 'test');
    const ops = ten.token('ops');
    const lead = ten.token('lead');

    // The value goes in once, write-only.
    const put = await call('PUT', '/api/secrets/DEPLOY_TOKEN', ops, { value: canary });
    expect(put.status, put.text).toBe(200);
    expect((await call('PUT', '/api/secrets/OTHER_TOKEN', ops, { value: `other-${canary}` })).status).toBe(200);
    const listed = await call<{ secrets: { name: string; provider: string; version: number }[] }>('GET', '/api/secrets', lead);
    expect(listed.json.secrets.map((s) => [s.name, s.provider, s.version])).toEqual([
      ['DEPLOY_TOKEN', 'db', 1],
      ['OTHER_TOKEN', 'db', 1],
    ]);

    const define = async (name: string, path: string, secret = 'DEPLOY_TOKEN') => {
      const res = await call('PUT', `/api/workflows/${name}`, ops, {
        name,
        steps: [
          {
            type: 'http',
            method: 'POST',
            url: `${target.url}${path}`,
            headers: { Authorization: `Bearer {{secrets.${secret}}}` },
            body: { deploy: name },
          },
        ],
      });
      expect(res.status, res.text).toBe(201);
    };
    await define('via-slack', '/deploy/slack');
    await define('via-console', '/deploy/console');
    await define('rejected', '/deploy/rejected');
    await define('failing', `/fail?token={{secrets.DEPLOY_TOKEN}}`);
    await define('vanishing', '/deploy/vanishing', 'OTHER_TOKEN');

    // An unknown secret is refused at apply time, naming the command that sets it.
    const unknown = await call('PUT', '/api/workflows/unknown', ops, {
      name: 'unknown',
      steps: [{ type: 'http', method: 'GET', url: `${target.url}/x`, headers: { 'X-Api-Key': '{{secrets.NOT_SET}}' } }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain(`secret NOT_SET is not set for tenant ${ten.tenant.name}: levqor secret set NOT_SET`);

    const runs: Record<string, string> = {};
    for (const name of ['via-slack', 'via-console', 'rejected', 'failing', 'vanishing']) {
      const res = await call<{ run_id: string }>('POST', `/api/workflows/${name}/run`, ops);
      runs[name] = res.json.run_id;
    }
    const deps = testSchedulerDeps(t.db, env, { log: captured.log });
    expect((await runTick(deps)).waiting_approval).toBe(5);
    expect(target.seen).toEqual([]);

    const page = await call<{ approvals: { id: string; run_id: string; payload: { headers: Record<string, string> } }[] }>(
      'GET',
      '/api/approvals',
      lead,
    );
    const approvalOf = (name: string) => {
      const a = page.json.approvals.find((x) => x.run_id === runs[name]);
      if (!a) throw new Error(`no request for ${name}`);
      return a;
    };
    // Every face shows the reference.
    expect(approvalOf('via-slack').payload.headers.Authorization).toBe('Bearer {{secrets.DEPLOY_TOKEN}}');

    // Slack: the request is posted with the reference; Approve runs it with the value.
    const posted = await fake.waitFor('chat.postMessage', (c) => blockText(c.args).includes(approvalOf('via-slack').id));
    expect(blockText(posted.args)).toContain('{{secrets.DEPLOY_TOKEN}}');
    const click = await sendInteraction(
      bot,
      blockAction({ user: 'UALICE', team, actionId: 'levqor_approve', approvalId: approvalOf('via-slack').id, channel: 'CCANARY' }),
    );
    expect(click.status).toBe(200);
    await expect.poll(async () => (await getRun(t.db, runs['via-slack'] ?? ''))?.status, { timeout: 15_000 }).toBe('succeeded');

    // Rotation does not invalidate a pending approval: it is bound to the reference.
    expect((await call('PUT', '/api/secrets/DEPLOY_TOKEN', ops, { value: rotated })).json).toMatchObject({ secret: { version: 2 } });
    const cookie = await signInCookie(api.baseUrl, lead);
    const consolePage = await getPage(api.baseUrl, '/console/approvals', cookie);
    responses.push(consolePage.html);
    expect(consolePage.html).toContain('{{secrets.DEPLOY_TOKEN}}');
    const decided = await postForm(api.baseUrl, `/console/approvals/${approvalOf('via-console').id}/approve`, cookie, {
      csrf: csrfOf(consolePage.html),
    });
    expect(decided.status).toBe(303);

    expect((await call('POST', `/api/approvals/${approvalOf('rejected').id}/reject`, lead, { reason: 'not today' })).status).toBe(200);
    expect((await call('POST', `/api/approvals/${approvalOf('failing').id}/approve`, lead)).status).toBe(200);
    // A secret removed after the request: the approved step fails before anything is sent.
    expect((await call('DELETE', '/api/secrets/OTHER_TOKEN', ops)).status).toBe(200);
    expect((await call('POST', `/api/approvals/${approvalOf('vanishing').id}/approve`, lead)).status).toBe(200);
    await runTick(deps);
    const status = async (name: string) => (await getRun(t.db, runs[name] ?? ''))?.status;
    await expect.poll(() => status('via-console'), { timeout: 15_000 }).toBe('succeeded');
    await expect.poll(() => status('failing'), { timeout: 15_000 }).toBe('failed');
    await expect.poll(() => status('vanishing'), { timeout: 15_000 }).toBe('failed');
    expect(await status('rejected')).toBe('rejected');

    // The loopback server got the values: the test would see a leak.
    const byPath = (p: string) => target.seen.filter((s) => s.path.startsWith(p)).map((s) => s.auth);
    expect(byPath('/deploy/slack')).toEqual([`Bearer ${canary}`]);
    expect(byPath('/deploy/console')).toEqual([`Bearer ${rotated}`]);
    expect(byPath('/fail')).toEqual([`Bearer ${rotated}`]);
    expect(target.seen.find((s) => s.path.startsWith('/fail'))?.path).toBe(`/fail?token=${rotated}`);
    expect(byPath('/deploy/rejected')).toEqual([]);
    expect(byPath('/deploy/vanishing')).toEqual([]);

    const vanished = await getRun(t.db, runs.vanishing ?? '');
    expect(vanished?.error).toContain('secret OTHER_TOKEN is not set for this tenant: levqor secret set OTHER_TOKEN');
    const failed = await getRun(t.db, runs.failing ?? '');
    expect(failed?.error).toContain('/fail?token=[secrets.DEPLOY_TOKEN] answered 400');
    // The echoed token in a response body is scrubbed from the step's output.
    const ok = await call<{ events: { type: string; payload: Record<string, unknown> }[] }>('GET', `/api/runs/${runs['via-slack']}`, lead);
    expect(JSON.stringify(ok.json.events)).toContain('Bearer [secrets.DEPLOY_TOKEN]');

    for (const name of Object.values(runs)) {
      responses.push((await getPage(api.baseUrl, `/console/runs/${name}`, cookie)).html);
      responses.push((await call('GET', `/api/runs/${name}`, lead)).text);
    }
    responses.push((await getPage(api.baseUrl, '/console/workflows', cookie)).html);
    responses.push((await call('GET', '/api/approvals?status=approved', lead)).text);
    responses.push((await call('GET', '/api/audit', lead)).text);
    responses.push((await call('GET', '/api/workflows', lead)).text);
    responses.push(await (await fetch(`${api.baseUrl}/metrics`)).text());
    const report = await generateWeeklyReport(t.db, { tenantId: ten.tenant.id });
    const reportJson = JSON.stringify(await generateWeeklyReportJson(t.db, { tenantId: ten.tenant.id }));
    expect(report).toContain('Approval');

    let dump = await dumpTables(t);
    expect(dump).toContain('{{secrets.DEPLOY_TOKEN}}');
    if (t.url) dump += (await run('pg_dump', ['--data-only', t.url], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    const logs = JSON.stringify(captured.lines);
    expect(captured.lines.length).toBeGreaterThan(0);
    const slack = JSON.stringify(fake.calls);
    const faces = responses.join('\n');
    for (const value of [canary, rotated]) {
      expect({ where: 'database', n: count(dump, value) }).toEqual({ where: 'database', n: 0 });
      expect({ where: 'logs', n: count(logs, value) }).toEqual({ where: 'logs', n: 0 });
      expect({ where: 'slack', n: count(slack, value) }).toEqual({ where: 'slack', n: 0 });
      expect({ where: 'api/console', n: count(faces, value) }).toEqual({ where: 'api/console', n: 0 });
      expect({ where: 'report', n: count(report + reportJson, value) }).toEqual({ where: 'report', n: 0 });
    }
  });

  it('refuses an inline credential through the API unless overridden, and records the override', async () => {
    const ten = await makeApiTenant(t.db);
    const body = {
      name: 'inline',
      steps: [{ type: 'http', method: 'POST', url: `${target.url}/x`, headers: { Authorization: 'Bearer sk_live_inline123456' } }],
    };
    const refused = await call('PUT', '/api/workflows/inline', ten.token('ops'), body);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('steps[0].headers.Authorization holds a literal credential');
    expect(refused.text).toContain('levqor secret set INLINE_TOKEN');
    expect(refused.text).not.toContain('sk_live_inline123456');
    const allowed = await call('PUT', '/api/workflows/inline?allow_inline_credentials=true', ten.token('ops'), body);
    expect(allowed.status, allowed.text).toBe(201);
    const audit = await call<{ entries: { action: string; actor: string; detail: Record<string, unknown> }[] }>(
      'GET',
      '/api/audit',
      ten.token('lead'),
    );
    expect(audit.json.entries.find((e) => e.action === 'workflow.inline_credentials_allowed')).toMatchObject({
      actor: 'token:ops',
      detail: { workflow: 'inline', fields: ['steps[0].headers.Authorization'] },
    });
    expect(audit.text).not.toContain('sk_live_inline123456');
  });

  it("never reaches another tenant's secret, through any route", async () => {
    const a = await makeApiTenant(t.db);
    const b = await makeApiTenant(t.db);
    expect((await call('PUT', '/api/secrets/SHARED_NAME', a.token('ops'), { value: `a-${canary}` })).status).toBe(200);
    expect((await call<{ secrets: unknown[] }>('GET', '/api/secrets', b.token('ops'))).json.secrets).toEqual([]);
    expect((await call('DELETE', '/api/secrets/SHARED_NAME', b.token('ops'))).status).toBe(404);
    const apply = await call('PUT', '/api/workflows/steal', b.token('ops'), {
      name: 'steal',
      steps: [{ type: 'http', method: 'GET', url: `${target.url}/steal`, headers: { Authorization: 'Bearer {{secrets.SHARED_NAME}}' } }],
    });
    expect(apply.status).toBe(400);
    expect(apply.text).toContain('secret SHARED_NAME is not set');
  });
});

describe('log lines', () => {
  it('redact credential-shaped values in messages, fields and errors, and keep the field names', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const log = createLogger('info', false, out);
    const url = 'https://deploy:hunter2-pw@deploy.example.com/hook';
    log.warn({ url, token: 'ops-laptop', headers: { echoed: 'Bearer sk_live_abcdefgh12345678' } }, `POST ${url} failed`);
    log.error({ err: new Error(`connect ECONNREFUSED ${url}`) }, 'step failed');
    log.info('plain xoxb-1234-5678-abcdef in a message');
    // Host errors (an aborted fetch's DOMException) have getter-only fields: logged, never thrown.
    log.warn({ err: new DOMException(`aborted ${url}`, 'AbortError') }, 'fetch aborted');
    log.warn({ err: new DOMException('The operation was aborted due to timeout', 'TimeoutError') }, 'timed out');
    const text = chunks.join('');
    for (const secret of ['hunter2-pw', 'sk_live_abcdefgh12345678', 'xoxb-1234-5678-abcdef']) expect(text).not.toContain(secret);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ token: 'ops-laptop', url: 'https://deploy:[redacted]@deploy.example.com/hook' });
    expect(lines[1]?.err).toMatchObject({
      type: 'Error',
      message: 'connect ECONNREFUSED https://deploy:[redacted]@deploy.example.com/hook',
    });
    expect(lines[2]?.msg).toBe('plain [redacted] in a message');
    expect(lines[3]?.err).toMatchObject({ type: 'DOMException', message: 'aborted https://deploy:[redacted]@deploy.example.com/hook' });
    expect(lines[4]?.err).toMatchObject({ type: 'DOMException', message: 'The operation was aborted due to timeout' });
  });
});
