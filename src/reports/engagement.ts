import { z } from 'zod';
import type { Queryable } from '../db/types.js';

/** Most events one POST /api/events may carry. */
export const MAX_EVENTS_PER_BATCH = 500;
/** How far back a sender may date an event, and how far ahead (clock skew). */
export const EVENT_MAX_AGE_SECONDS = 90 * 86_400;
export const EVENT_MAX_SKEW_SECONDS = 300;

/** One engagement event as a tenant's product sends it. */
export const engagementEventSchema = z
  .object({
    user_id: z.string().min(1).max(200),
    event: z.string().regex(/^[A-Za-z0-9][\w.:-]{0,99}$/, 'letters, digits, ".", ":", "_" and "-" (at most 100)'),
    properties: z
      .record(z.string(), z.unknown())
      .refine((p) => JSON.stringify(p).length <= 8_192, { message: 'at most 8 KB of JSON' })
      .optional(),
    /** Epoch seconds; default: when the batch arrives. */
    created_at: z.number().finite().positive().optional(),
    /** Makes a retried batch harmless: a second event with the same id is ignored. */
    event_id: z.string().min(1).max(200).optional(),
  })
  .strict();

export const engagementBatchSchema = z.object({ events: z.array(engagementEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }).strict();

export type EngagementEvent = z.infer<typeof engagementEventSchema>;

/** The first event dated outside [now − 90 days, now + 5 min], as "events[i].created_at: …". */
export function eventTimeProblem(events: readonly EngagementEvent[], now: number): string | undefined {
  const i = events.findIndex(
    (e) => e.created_at !== undefined && (e.created_at < now - EVENT_MAX_AGE_SECONDS || e.created_at > now + EVENT_MAX_SKEW_SECONDS),
  );
  if (i < 0) return undefined;
  return `events[${i}].created_at: ${events[i]?.created_at} is outside the last 90 days (or more than 5 minutes ahead)`;
}

/** Stores a batch in one statement; returns how many were new (the rest repeated an event_id). */
export async function insertEngagementEvents(
  db: Queryable,
  tenantId: string,
  events: readonly EngagementEvent[],
  now: number,
): Promise<number> {
  const rows = events.map((e) => ({
    user_id: e.user_id,
    event: e.event,
    properties: e.properties ?? {},
    created_at: e.created_at ?? now,
    event_id: e.event_id ?? null,
  }));
  const res = await db.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, properties, created_at, event_id)
     SELECT $1, r.user_id, r.event, coalesce(r.properties, '{}'), r.created_at, r.event_id
     FROM jsonb_to_recordset($2::jsonb) AS r(user_id text, event text, properties jsonb, created_at float8, event_id text)
     ON CONFLICT (tenant_id, event_id) WHERE event_id IS NOT NULL DO NOTHING`,
    [tenantId, JSON.stringify(rows)],
  );
  return res.rowCount;
}
