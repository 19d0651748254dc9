import { createHmac } from 'node:crypto';
import { APPROVALS_CHANNEL } from '../approvals/queries.js';
import type { Db, Queryable } from '../db/types.js';
import { AppError, errorMessage } from '../lib/errors.js';
import { createPause } from '../lib/pause.js';
import type { Logger } from '../lib/log.js';
import { redactPayload } from '../lib/redact.js';
import type { DoctorCheck } from '../health/doctor.js';
import {
  claimDueDeliveries,
  deliveryLog,
  fanOutEvents,
  insertWebhook,
  recordDelivery,
  type DeliveryLogRow,
  type DueDelivery,
  type WebhookRow,
} from './webhook-queries.js';

/** The event types an endpoint may ask for (approval_events.type). */
export const WEBHOOK_EVENTS = ['requested', 'vote', 'approved', 'rejected', 'expired', 'reminder', 'escalated'] as const;

/** Tries before a delivery is given up, and the back-off between them (10 s doubling, at most an hour). */
export const MAX_ATTEMPTS = 8;
export function retryDelaySeconds(attempt: number): number {
  return Math.min(3600, 10 * 2 ** (attempt - 1));
}

/**
 * The signature header of a body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as
 * Stripe and Slack sign theirs, so a receiver can check the sender and refuse a replay.
 */
export function signBody(key: string, body: string, timestamp: number): string {
  const t = Math.floor(timestamp);
  return `t=${t},v1=${createHmac('sha256', key).update(`${t}.${body}`).digest('hex')}`;
}

/** Checks a webhook URL and settings before they are stored; every problem is named. */
export async function addWebhook(
  db: Queryable,
  input: { tenantId: string; name: string; url: string; secretName: string; events: readonly string[]; actor: string },
  secretExists: (name: string) => Promise<boolean>,
): Promise<WebhookRow> {
  const problems: string[] = [];
  if (!/^[a-z][\w-]{0,62}$/i.test(input.name)) problems.push(`--name "${input.name}": letters, digits, "_" and "-"`);
  if (!URL.canParse(input.url) || !/^https?:$/.test(new URL(input.url).protocol))
    problems.push(`--url "${input.url}": an http:// or https:// URL`);
  else if (new URL(input.url).username || new URL(input.url).password)
    problems.push('--url: no credentials in the URL (the body is signed with --secret-name instead)');
  if (!/^[A-Z][A-Z0-9_]{0,63}$/.test(input.secretName))
    problems.push(`--secret-name "${input.secretName}": a secret name like TEAMS_WEBHOOK_KEY`);
  else if (!(await secretExists(input.secretName)))
    problems.push(`--secret-name ${input.secretName}: no such secret for this tenant (levqor secret set ${input.secretName})`);
  const unknown = input.events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length) problems.push(`--events: unknown ${unknown.join(', ')} (known: ${WEBHOOK_EVENTS.join(', ')})`);
  if (problems.length) throw new AppError('bad_input', problems.join('; '), problems);
  const row = await insertWebhook(db, input);
  if (!row) throw new AppError('conflict', `a webhook named ${input.name} already exists (levqor webhooks rm ${input.name} first)`);
  return row;
}

/** The JSON a delivery sends: the event and the request as it stands (payload redacted, as every face shows it). */
function deliveryBody(d: DueDelivery): string {
  return JSON.stringify({
    delivery_id: d.id,
    event: { id: d.event_id, type: d.event_type, at: d.event_at, detail: d.event_payload },
    approval: { ...d.approval, payload: redactPayload(d.approval.payload) },
  });
}

export interface WebhookDeps {
  db: Db;
  log: Pick<Logger, 'info' | 'warn'>;
  /** The SSRF-guarded fetch (the `http` step's policy and limits). */
  fetch: typeof fetch;
  /** The signing key of an endpoint: the secret store's value for its secret name. */
  signingKey(tenantId: string, secretName: string): Promise<string>;
  now?: () => number;
  /** How old an event must be before it is fanned out (default 2 s; see fanOutEvents). */
  settleSeconds?: number;
}

/**
 * One sweep: new events become deliveries, due deliveries are sent (signed), and each answer is
 * recorded — 2xx delivered, anything else tried again after a back-off, given up after
 * MAX_ATTEMPTS. Claims are leased, so replicas never send one delivery at once.
 */
export async function deliverWebhooks(deps: WebhookDeps, limit = 50): Promise<{ delivered: number; failed: number }> {
  await deps.db.transaction((tx) => fanOutEvents(tx, deps.settleSeconds ?? 2));
  let delivered = 0;
  let failed = 0;
  const now = deps.now ?? (() => Date.now() / 1000);
  for (const d of await claimDueDeliveries(deps.db, limit, 120)) {
    let status: number | null = null;
    let error: string | null = null;
    try {
      const body = deliveryBody(d);
      const key = await deps.signingKey(d.tenant_id, d.secret_name);
      const res = await deps.fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'levqor-webhooks',
          'x-levqor-event': d.event_type,
          'x-levqor-delivery': d.id,
          'x-levqor-signature': signBody(key, body, now()),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) error = `answered ${res.status}`;
    } catch (err) {
      error = errorMessage(err).slice(0, 300);
    }
    if (error === null) {
      delivered++;
      await recordDelivery(deps.db, d.id, { delivered: true, status, error: null, retryAt: null });
      continue;
    }
    failed++;
    const retryAt = d.attempts >= MAX_ATTEMPTS ? null : now() + retryDelaySeconds(d.attempts);
    await recordDelivery(deps.db, d.id, { delivered: false, status, error, retryAt });
    deps.log.warn(
      { webhook: d.webhook_name, delivery: d.id, attempt: d.attempts, err: error },
      retryAt === null ? 'webhook delivery given up' : 'webhook delivery failed; will retry',
    );
  }
  return { delivered, failed };
}

/**
 * Runs the approval notifiers (webhook deliveries, approval emails) until `signal` aborts: at
 * start, on every approval NOTIFY (after the settle delay) and every `intervalSeconds`.
 */
export async function startApprovalNotifiers(opts: {
  db: Db;
  log: Pick<Logger, 'warn'>;
  signal: AbortSignal;
  tasks: (() => Promise<unknown>)[];
  intervalSeconds?: number;
}): Promise<void> {
  const pause = createPause(opts.signal);
  const unlisten = await opts.db
    .listen(APPROVALS_CHANNEL, () => void setTimeout(() => pause.wake(), 2_500).unref())
    .catch(() => () => Promise.resolve());
  try {
    while (!opts.signal.aborted) {
      for (const task of opts.tasks) {
        try {
          await task();
        } catch (err) {
          opts.log.warn({ err: errorMessage(err) }, 'approval notification sweep failed; retrying');
        }
      }
      await pause.wait(opts.intervalSeconds ?? 10);
    }
  } finally {
    await unlisten().catch(() => undefined);
  }
}

/** `levqor doctor approvals`: webhook deliveries that are failing or were given up. */
export async function webhookDeliveryCheck(db: Queryable, tenantId: string | undefined): Promise<DoctorCheck> {
  const check = 'approval webhooks';
  const failing = await deliveryLog(db, tenantId, { failing: true, limit: 100 });
  if (failing.length === 0) return { ok: true, check, detail: 'no failing deliveries' };
  // Per endpoint: how many fail, and the newest failure (the log is newest first).
  const byHook = new Map<string, { latest: DeliveryLogRow; count: number }>();
  for (const f of failing) {
    const seen = byHook.get(f.webhook);
    if (seen) seen.count++;
    else byHook.set(f.webhook, { latest: f, count: 1 });
  }
  const detail = [...byHook.values()]
    .map(({ latest: f, count }) => `${f.webhook}: ${count} failing, last ${f.last_error ?? '?'} (${f.status}, ${f.attempts} tries)`)
    .join('; ');
  return { ok: false, check, detail: `${detail} (levqor webhooks deliveries --failing)` };
}
