import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { errorMessage } from '../src/lib/errors.js';
import { APPROVE_ACTION, REJECT_ACTION, REJECT_MODAL } from '../src/slack/blocks.js';
import { startApprovalFeed, type ApprovalFeed } from '../src/slack/feed.js';
import { answerCommand } from './commands.js';
import { afterReject, onApproveClick, onRejectClick, onRejectSubmit } from './decide.js';
import type { BotDeps } from './deps.js';
import { blockActionSchema, slashCommandSchema, viewSubmissionSchema } from './payloads.js';
import { boltLogger, dedupeDeliveries } from './security.js';

interface BotOptions {
  signingSecret: string;
  botToken: string;
  /** SLACK_API_URL: where the Web API is (a local fake in tests). */
  apiUrl: string;
  /** SLACK_APP_TOKEN: Socket Mode instead of the HTTP endpoint. */
  appToken?: string;
  port: number;
  host: string;
  /** Seconds between catch-up sweeps of the approval feed. */
  sweepSeconds?: number;
}

export interface RunningBot {
  app: App;
  feed: ApprovalFeed;
  /** The HTTP port (0 in Socket Mode). */
  port: number;
  /** The events URL to configure in Slack (HTTP mode). */
  url: string;
  /** Whether Slack can reach the bot: the Socket Mode connection is open (HTTP mode: listening). */
  connected(): boolean;
  stop(): Promise<void>;
}

/** Parses a payload with its schema; a malformed one is logged and answered with nothing. */
function parse<T>(
  deps: BotDeps,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  body: unknown,
  what: string,
): T | undefined {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  deps.log.warn({ what, err: parsed.error.message }, 'malformed Slack payload ignored');
  return undefined;
}

/** The Bolt app: dedup first, then approvals, the reject dialog and /levqor. */
function createBotApp(deps: BotDeps, opts: BotOptions): { app: App; receiver?: HTTPReceiver; socketMode?: SocketModeReceiver } {
  const logger = boltLogger(deps.log);
  // Bolt's own client (auth.test, respond): quick retries, not the library's half-hour default.
  const clientOptions = { slackApiUrl: opts.apiUrl, retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 } };
  const receiver = opts.appToken
    ? undefined
    : new HTTPReceiver({
        signingSecret: opts.signingSecret,
        signatureVerification: true,
        endpoints: '/slack/events',
        logger,
        customRoutes: [
          {
            path: '/healthz',
            method: 'GET',
            handler: (_req, res) => {
              res.writeHead(200, { 'content-type': 'text/plain' });
              res.end('ok');
            },
          },
        ],
      });
  // The token is checked once at start by the entry point (auth.test, with a clear message);
  // Bolt's own eager check would crash the process on a network error. No message events are
  // handled, so there is no own-message loop to ignore.
  const common = { token: opts.botToken, logger, clientOptions, tokenVerificationEnabled: false, ignoreSelf: false };
  // Socket Mode's receiver made here rather than by Bolt, to watch its connection (readiness).
  const socketMode = opts.appToken
    ? new SocketModeReceiver({ appToken: opts.appToken, logger, installerOptions: { clientOptions } })
    : undefined;
  const app = receiver
    ? new App({ ...common, receiver })
    : new App({ ...common, receiver: socketMode, socketMode: true, signingSecret: opts.signingSecret });

  app.use(dedupeDeliveries(deps));
  app.action(APPROVE_ACTION, async ({ ack, body }) => {
    await ack();
    const p = parse(deps, blockActionSchema, body, 'approve click');
    if (p) await onApproveClick(deps, p);
  });
  app.action(REJECT_ACTION, async ({ ack, body }) => {
    await ack();
    const p = parse(deps, blockActionSchema, body, 'reject click');
    if (p) await onRejectClick(deps, p);
  });
  app.view(REJECT_MODAL, async ({ ack, body }) => {
    const p = parse(deps, viewSubmissionSchema, body, 'reject dialog');
    if (!p) return ack();
    const { answer, decided } = await onRejectSubmit(deps, p);
    await ack(answer);
    if (decided) await afterReject(deps, decided);
  });
  app.command('/levqor', async ({ ack, command, respond }) => {
    await ack();
    const p = parse(deps, slashCommandSchema, command, '/levqor');
    if (!p) return;
    const reply = await answerCommand(deps, p);
    await respond(reply);
  });
  app.error(async (err) => {
    deps.log.error({ err: errorMessage(err) }, 'Slack handler failed');
    await Promise.resolve();
  });
  return { app, receiver, socketMode };
}

/** Starts the bot: the HTTP endpoint (or Socket Mode) and the approval feed follower. */
export async function startBot(deps: BotDeps, opts: BotOptions): Promise<RunningBot> {
  const { app, receiver, socketMode } = createBotApp(deps, opts);
  let socketOpen = false;
  socketMode?.client.on('connected', () => (socketOpen = true));
  for (const state of ['connecting', 'reconnecting', 'disconnecting', 'disconnected'])
    socketMode?.client.on(state, () => (socketOpen = false));
  let port = 0;
  if (receiver) {
    const server = await receiver.start({ port: opts.port, host: opts.host });
    port = (server.address() as AddressInfo).port;
  } else {
    await app.start();
  }
  const feed = startApprovalFeed(deps, { sweepSeconds: opts.sweepSeconds });
  await feed.ready;
  const host = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return {
    app,
    feed,
    port,
    url: receiver ? `http://${host}:${port}/slack/events` : 'socket-mode',
    connected: () => (socketMode ? socketOpen : true),
    async stop() {
      await feed.stop();
      await app.stop();
    },
  };
}
