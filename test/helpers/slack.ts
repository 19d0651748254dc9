import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBot, type RunningBot } from '../../bot/app.js';
import type { BotDeps } from '../../bot/deps.js';
import type { Db } from '../../src/db/types.js';
import { createSlackClient } from '../../src/slack/client.js';
import { testConfig, silentLog, testSchedulerDeps } from './deps.js';
import { readFixture, setPaths, type FixtureVariant } from './fixtures.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-token';

export interface SlackCall {
  /** Web API method ("chat.update"), or "respond" for a POST to a response_url. */
  method: string;
  /** The request path ("/api/chat.update", "/respond/ID"). */
  path: string;
  args: Record<string, unknown>;
  /** performance.now() when it arrived. */
  at: number;
}

export interface FakeSlack {
  apiUrl: string;
  /** Base for response_url values. */
  respondUrl: string;
  calls: SlackCall[];
  of(method: string): SlackCall[];
  /** Channels whose chat.* calls Slack refuses, with the error code it answers (`{ ok: false, error }`). */
  refusals: Map<string, string>;
  /** The WebSocket URL apps.connections.open hands out (Socket Mode); set by the test. */
  socketUrl: string | null;
  /** Users users.info answers with, by id (others: user_not_found). */
  users: Map<string, Record<string, unknown>>;
  /** Resolves with the first call (already made or coming) matching, or rejects after `ms`. */
  waitFor(method: string, match?: (c: SlackCall) => boolean, ms?: number): Promise<SlackCall>;
  close(): Promise<void>;
}

function parseArgs(body: string, type: string | undefined): Record<string, unknown> {
  if (type?.includes('application/json')) return JSON.parse(body || '{}') as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    out[k] = /^[[{]/.test(v) ? (JSON.parse(v) as unknown) : v;
  }
  return out;
}

/**
 * A local stand-in for Slack's Web API: records chat.postMessage, chat.update,
 * chat.postEphemeral, views.open (and response_url posts) and answers auth.test and users.info; refuses
 * chat.* calls to the channels in `refusals` the way Slack does (HTTP 200, ok: false).
 */
export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const refusals = new Map<string, string>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let ts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const args = parseArgs(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      const method = path.startsWith('/respond/') ? 'respond' : path.replace(/^\/api\//, '');
      const call: SlackCall = { method, path, args, at: performance.now() };
      calls.push(call);
      let answer: Record<string, unknown> = { ok: true };
      if (method === 'auth.test') answer = { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'TFAKE', user: 'levqor' };
      else if (method === 'chat.postMessage')
        answer = { ok: true, channel: args.channel, ts: `1700000000.${String(++ts).padStart(6, '0')}` };
      else if (method === 'chat.update') answer = { ok: true, channel: args.channel, ts: args.ts };
      else if (method === 'chat.postEphemeral') answer = { ok: true, message_ts: `1700000000.${String(++ts).padStart(6, '0')}` };
      else if (method === 'views.open') answer = { ok: true, view: { id: `V${calls.length}` } };
      else if (method === 'users.info') {
        const user = fake.users.get(String(args.user));
        answer = user ? { ok: true, user } : { ok: false, error: 'user_not_found' };
      } else if (method === 'apps.connections.open')
        answer = fake.socketUrl ? { ok: true, url: fake.socketUrl } : { ok: false, error: 'invalid_auth' };
      const refused = method.startsWith('chat.') ? refusals.get(String(args.channel)) : undefined;
      if (refused) answer = { ok: false, error: refused };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
      events.emit('call', call);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeSlack = {
    apiUrl: `${base}/api/`,
    respondUrl: `${base}/respond/`,
    calls,
    refusals,
    socketUrl: null,
    users: new Map(),
    of: (method) => calls.filter((c) => c.method === method),
    waitFor(method, match = () => true, ms = 15_000) {
      const hit = calls.find((c) => c.method === method && match(c));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const onCall = (c: SlackCall) => {
          if (c.method !== method || !match(c)) return;
          clearTimeout(timer);
          events.off('call', onCall);
          resolve(c);
        };
        const timer = setTimeout(() => {
          events.off('call', onCall);
          reject(new Error(`no matching ${method} call within ${ms} ms; calls so far: ${calls.map((c) => c.method).join(', ')}`));
        }, ms);
        events.on('call', onCall);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** Slack's request signature: v0=HMAC-SHA256(secret, "v0:timestamp:body"). */
export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  /** Epoch seconds for X-Slack-Request-Timestamp (default now). */
  timestamp?: number;
  retryNum?: number;
  /** Sign with another secret (a forged request). */
  secret?: string;
}

/** POSTs a correctly signed (unless told otherwise) form body to the bot. */
export async function sendSigned(
  url: string,
  form: Record<string, string>,
  opts: SendOptions = {},
): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams(form).toString();
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sign(body, timestamp, opts.secret),
  };
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

let seq = 0;
const next = () => `${Date.now()}${++seq}`;

type Payload = Record<string, unknown>;

/** The buttons Levqor puts under a request, as Slack echoes them back in a click. */
const BUTTONS: Record<string, { text: string; style: string }> = {
  levqor_approve: { text: 'Approve', style: 'primary' },
  levqor_reject: { text: 'Reject', style: 'danger' },
};

/**
 * A block_actions payload as Slack sends it when a button is clicked (test/fixtures/slack/
 * block-actions.json): the button's action_id and request id, who clicked, where.
 */
export function blockAction(o: {
  user: string;
  team: string;
  /** The clicker's own workspace (user.team_id) when it is not `team`; null leaves it out. */
  userTeam?: string | null;
  /** The Enterprise Grid org of `team` (team.enterprise_id). */
  enterprise?: string;
  actionId: string;
  approvalId: string;
  channel?: string;
  messageTs?: string;
}): Payload {
  const n = next();
  const channel = o.channel ?? 'CAPPROVALS';
  const ts = o.messageTs ?? '1700000000.000001';
  const button = BUTTONS[o.actionId] ?? { text: o.actionId, style: 'primary' };
  return setPaths(readFixture('slack/block-actions.json'), {
    ...userPaths(o),
    'channel.id': channel,
    'container.channel_id': channel,
    'container.message_ts': ts,
    'message.ts': ts,
    trigger_id: `${n}.1111111111.trigger`,
    'actions.0.action_id': o.actionId,
    'actions.0.block_id': `levqor_decide:${o.approvalId}`,
    'actions.0.value': o.approvalId,
    'actions.0.text.text': button.text,
    'actions.0.style': button.style,
    'actions.0.action_ts': `${n}.1`,
  });
}

function userPaths(o: { user: string; team: string; userTeam?: string | null; enterprise?: string }): Payload {
  return {
    'user.id': o.user,
    'user.username': o.user.toLowerCase(),
    'user.name': o.user.toLowerCase(),
    'user.team_id': o.userTeam === undefined ? o.team : (o.userTeam ?? undefined),
    'team.id': o.team,
    ...(o.enterprise ? { 'team.enterprise_id': o.enterprise } : {}),
  };
}

/** A view_submission of the reject dialog (test/fixtures/slack/view-submission.json) giving `reason`. */
export function rejectSubmission(o: { user: string; team: string; userTeam?: string | null; approvalId: string; reason: string }): Payload {
  return setPaths(readFixture('slack/view-submission.json'), {
    ...userPaths(o),
    trigger_id: `${next()}.1111111111.trigger`,
    'view.team_id': o.team,
    'view.private_metadata': JSON.stringify({ approval_id: o.approvalId }),
    'view.state.values.reason.reason_input.value': o.reason,
  });
}

/** The form fields of `/levqor TEXT` as Slack posts them (test/fixtures/slack/slash-command.json). */
export function slashCommand(o: {
  user: string;
  team: string;
  /** The Enterprise Grid org the workspace belongs to. */
  enterprise?: string;
  text: string;
  responseUrl: string;
  channel?: string;
}): Record<string, string> {
  const p = readFixture<Record<string, string>>('slack/slash-command.json');
  return {
    ...p,
    text: o.text,
    user_id: o.user,
    user_name: o.user.toLowerCase(),
    team_id: o.team,
    ...(o.enterprise ? { enterprise_id: o.enterprise } : {}),
    channel_id: o.channel ?? p.channel_id ?? '',
    response_url: o.responseUrl,
    trigger_id: `${next()}.1111111111.trigger`,
  };
}

/** Malformed and hostile variants of the interactive payloads (test/fixtures/slack/hostile.json); `{approval}` fills from vars. */
export function hostileSlackVariants(): { block_actions: FixtureVariant[]; view_submission: FixtureVariant[] } {
  return readFixture('slack/hostile.json');
}

/** Sends an interactive payload (form field "payload", as Slack does). */
export function sendInteraction(bot: RunningBot, payload: Record<string, unknown>, opts: SendOptions = {}) {
  return sendSigned(bot.url, { payload: JSON.stringify(payload) }, opts);
}

/** Sends `/levqor TEXT`; the answer arrives at fake.respondUrl + the returned id. */
export async function sendCommand(
  bot: RunningBot,
  fake: FakeSlack,
  o: { user: string; team: string; enterprise?: string; text: string; channel?: string },
  opts: SendOptions = {},
): Promise<{ status: number; respondId: string }> {
  const respondId = next();
  const res = await sendSigned(bot.url, slashCommand({ ...o, responseUrl: `${fake.respondUrl}${respondId}` }), opts);
  return { status: res.status, respondId };
}

/** The bot's dependencies against a test database and the fake Slack API. */
export function testBotDeps(db: Db, fake: FakeSlack, env: Record<string, string> = {}): BotDeps {
  const full = { LEVQOR_HTTP_ALLOW: '127.0.0.1', ...env };
  return {
    db,
    log: silentLog,
    slack: createSlackClient({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: fake.apiUrl }),
    config: testConfig(full),
    runDeps: testSchedulerDeps(db, full),
    executeRuns: true,
    processStartedAt: Date.now() / 1000,
  };
}

/** A real Bolt app on a loopback port, following the approval feed. */
export function startTestBot(db: Db, fake: FakeSlack, deps: Partial<BotDeps> = {}): Promise<RunningBot> {
  return startBot(
    { ...testBotDeps(db, fake), ...deps },
    {
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      apiUrl: fake.apiUrl,
      port: 0,
      host: '127.0.0.1',
      sweepSeconds: 3600,
    },
  );
}

/** The text of every block of a message, joined (for assertions on what a user sees). */
export function blockText(args: Record<string, unknown>): string {
  return JSON.stringify(args.blocks ?? []);
}
