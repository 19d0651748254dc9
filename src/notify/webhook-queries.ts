import type { Queryable } from '../db/types.js';

// The webhook capability's SQL: endpoints, the fan-out of approval events into deliveries, and
// the delivery log. Every statement a sweep runs is once-across-replicas by construction.

export interface WebhookRow {
  id: string;
  tenant_id: string;
  name: string;
  url: string;
  secret_name: string;
  events: string[];
  created_at: number;
  created_by: string;
}

const WEBHOOK = 'id, tenant_id, name, url, secret_name, events, created_at, created_by';

/** Adds an endpoint that hears events from now on; undefined when the tenant has one of that name. */
export async function insertWebhook(
  db: Queryable,
  w: { tenantId: string; name: string; url: string; secretName: string; events: readonly string[]; actor: string },
): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `INSERT INTO approval_webhooks (tenant_id, name, url, secret_name, events, created_by, cursor)
     VALUES ($1, $2, $3, $4, $5::text[], $6, (SELECT coalesce(max(id), 0) FROM approval_events))
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${WEBHOOK}`,
    [w.tenantId, w.name, w.url, w.secretName, w.events, w.actor],
  );
  return rows[0];
}

export async function listWebhooks(db: Queryable, tenantId: string): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>(`SELECT ${WEBHOOK} FROM approval_webhooks WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
  return rows;
}

export async function deleteWebhook(db: Queryable, tenantId: string, name: string): Promise<boolean> {
  const res = await db.query('DELETE FROM approval_webhooks WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
  return res.rowCount === 1;
}

/**
 * Turns each endpoint's new approval events into deliveries and moves its cursor, the endpoint
 * row locked SKIP LOCKED (one replica per endpoint at a time). Events younger than `settleSeconds`
 * wait: an event id taken by a transaction that commits later must not be passed over.
 */
export async function fanOutEvents(tx: Queryable, settleSeconds = 2, limit = 500): Promise<number> {
  const { rows } = await tx.query<{ n: string }>(
    `WITH hooks AS (
       SELECT id, tenant_id, events, cursor FROM approval_webhooks ORDER BY id FOR UPDATE SKIP LOCKED),
     picked AS (
       SELECT h.id AS webhook_id, h.tenant_id, e.id AS event_id, e.type, h.events
       FROM hooks h JOIN LATERAL (
         SELECT id, type FROM approval_events e
         WHERE e.tenant_id = h.tenant_id AND e.id > h.cursor AND e.created_at <= extract(epoch FROM now()) - $1
         ORDER BY e.id LIMIT $2) e ON true),
     inserted AS (
       INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id)
       SELECT tenant_id, webhook_id, event_id FROM picked WHERE cardinality(events) = 0 OR type = ANY(events)
       ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING 1),
     -- A data-modifying CTE runs to completion whether or not the query reads it.
     moved AS (
       UPDATE approval_webhooks w SET cursor = m.last FROM (SELECT webhook_id, max(event_id) AS last FROM picked GROUP BY webhook_id) m
       WHERE w.id = m.webhook_id RETURNING 1)
     SELECT count(*) AS n FROM inserted`,
    [settleSeconds, limit],
  );
  return Number(rows[0]?.n ?? 0);
}

export interface DueDelivery {
  id: string;
  tenant_id: string;
  webhook_id: string;
  webhook_name: string;
  url: string;
  secret_name: string;
  attempts: number;
  event_id: string;
  event_type: string;
  event_payload: Record<string, unknown>;
  event_at: number;
  approval: Record<string, unknown>;
}

/**
 * Claims due deliveries: each is leased for `leaseSeconds` (next_attempt_at moved on) so another
 * replica leaves it alone while this one sends it; attempts counts the try.
 */
export async function claimDueDeliveries(db: Queryable, limit: number, leaseSeconds: number): Promise<DueDelivery[]> {
  const { rows } = await db.query<DueDelivery>(
    `WITH due AS (
       SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= extract(epoch FROM now())
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
     claimed AS (
       UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = extract(epoch FROM now()) + $2
       FROM due WHERE d.id = due.id RETURNING d.*)
     SELECT c.id::text AS id, c.tenant_id, c.webhook_id, w.name AS webhook_name, w.url, w.secret_name, c.attempts,
       e.id::text AS event_id, e.type AS event_type, e.payload AS event_payload, e.created_at AS event_at,
       jsonb_build_object('id', a.id, 'action_type', a.action_type, 'impact_class', a.impact_class, 'summary', a.summary,
         'payload', a.payload, 'payload_hash', a.payload_hash, 'status', a.status, 'requested_by', a.requested_by,
         'requested_at', a.requested_at, 'expires_at', a.expires_at, 'processed_by', a.processed_by, 'reason', a.reason,
         'approvals_count', a.approvals_count, 'required_approvals', a.required_approvals, 'stage', a.stage) AS approval
     FROM claimed c JOIN approval_webhooks w ON w.id = c.webhook_id
       JOIN approval_events e ON e.id = c.event_id JOIN approval_queue a ON a.id = e.approval_id`,
    [limit, leaseSeconds],
  );
  return rows;
}

/** Records an answer: delivered, tried again at `retryAt`, or given up. */
export async function recordDelivery(
  db: Queryable,
  id: string,
  outcome: { delivered: boolean; status: number | null; error: string | null; retryAt: number | null },
): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries SET
       status = CASE WHEN $2 THEN 'delivered' WHEN $5::float8 IS NULL THEN 'failed' ELSE 'pending' END,
       delivered_at = CASE WHEN $2 THEN extract(epoch FROM now()) END,
       last_status = $3, last_error = $4, next_attempt_at = coalesce($5::float8, next_attempt_at)
     WHERE id = $1::bigint`,
    [id, outcome.delivered, outcome.status, outcome.error, outcome.retryAt],
  );
}

export interface DeliveryLogRow {
  id: string;
  webhook: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

/** A tenant's delivery log, newest first (only failing ones: given up, or pending after a failed try). */
export async function deliveryLog(
  db: Queryable,
  tenantId: string | undefined,
  opts: { failing?: boolean; limit: number },
): Promise<DeliveryLogRow[]> {
  const { rows } = await db.query<DeliveryLogRow>(
    `SELECT d.id::text AS id, w.name AS webhook, d.event_id::text AS event_id, e.type AS event_type, d.status, d.attempts,
       d.last_status, d.last_error, d.created_at, d.delivered_at
     FROM webhook_deliveries d JOIN approval_webhooks w ON w.id = d.webhook_id JOIN approval_events e ON e.id = d.event_id
     WHERE ($1::uuid IS NULL OR d.tenant_id = $1)
       AND (NOT $2 OR d.status = 'failed' OR (d.status = 'pending' AND d.last_error IS NOT NULL))
     ORDER BY d.id DESC LIMIT $3`,
    [tenantId ?? null, opts.failing ?? false, opts.limit],
  );
  return rows;
}
