import { createHash } from 'node:crypto';
import type { AllMiddlewareArgs, AnyMiddlewareArgs, Logger as BoltLogger } from '@slack/bolt';
import { LogLevel } from '@slack/bolt';
import { errorMessage } from '../src/lib/errors.js';
import type { Logger } from '../src/lib/log.js';
import { recordDelivery } from '../src/slack/queries.js';
import type { BotDeps } from './deps.js';

/** The identity of a delivery: a hash of its (signed) payload, equal for Slack's retries of it. */
function deliveryKey(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

function describe(body: Record<string, unknown>): { kind: string; team: string | null } {
  const kind = typeof body.type === 'string' ? body.type : typeof body.command === 'string' ? 'command' : 'unknown';
  const team = (body.team as { id?: string } | null | undefined)?.id ?? (typeof body.team_id === 'string' ? body.team_id : null);
  return { kind, team };
}

/**
 * Global middleware: every delivery is recorded in Postgres by the hash of its payload; one
 * already recorded (Slack's X-Slack-Retry-Num retry, or a replay inside the signature
 * window) is acknowledged and dropped, whichever bot process received the first one.
 */
export function dedupeDeliveries(deps: BotDeps) {
  return async (args: AnyMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const body = args.body as unknown as Record<string, unknown>;
    const { kind, team } = describe(body);
    let fresh: boolean;
    try {
      fresh = await recordDelivery(deps.db, { key: deliveryKey(body), team_id: team, kind });
    } catch (err) {
      deps.log.error({ err: errorMessage(err) }, 'could not record a Slack delivery; processing it anyway');
      fresh = true;
    }
    if (!fresh) {
      deps.log.info(
        { kind, team, retry: args.context.retryNum ?? null, reason: args.context.retryReason ?? null },
        'duplicate Slack delivery dropped',
      );
      if ('ack' in args && typeof args.ack === 'function') await args.ack();
      return;
    }
    await args.next();
  };
}

/** Bolt's logger interface over our pino logger. */
export function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) =>
    msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug({ src: 'bolt' }, text(msg)),
    info: (...msg: unknown[]) => log.info({ src: 'bolt' }, text(msg)),
    warn: (...msg: unknown[]) => log.warn({ src: 'bolt' }, text(msg)),
    error: (...msg: unknown[]) => log.error({ src: 'bolt' }, text(msg)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
