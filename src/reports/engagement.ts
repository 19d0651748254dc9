import { z } from 'zod';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { dbNow } from '../workflows/queries.js';
import { insertEngagementEvents } from './queries.js';

/** Most events one POST /api/events may carry. */
const MAX_EVENTS_PER_BATCH = 500;
/** How far back a sender may date an event, and how far ahead (clock skew). */
const EVENT_MAX_AGE_SECONDS = 90 * 86_400;
const EVENT_MAX_SKEW_SECONDS = 300;

/** One engagement event as a tenant's product sends it. */
const engagementEventSchema = z
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
function eventTimeProblem(events: readonly EngagementEvent[], now: number): string | undefined {
  const i = events.findIndex(
    (e) => e.created_at !== undefined && (e.created_at < now - EVENT_MAX_AGE_SECONDS || e.created_at > now + EVENT_MAX_SKEW_SECONDS),
  );
  if (i < 0) return undefined;
  return `events[${i}].created_at: ${events[i]?.created_at} is outside the last 90 days (or more than 5 minutes ahead)`;
}

/**
 * Stores a batch a tenant's product sent, dated by the database's clock: refused whole (naming
 * the first bad event) when an event is dated outside the accepted window; repeated event_ids
 * are counted as duplicates.
 */
export async function recordEngagementEvents(
  db: Queryable,
  tenantId: string,
  events: readonly EngagementEvent[],
): Promise<{ accepted: number; duplicates: number }> {
  const now = await dbNow(db);
  const problem = eventTimeProblem(events, now);
  if (problem) throw new AppError('bad_input', `invalid request: body.${problem}`, [`body.${problem}`]);
  const stored = await insertEngagementEvents(db, tenantId, events, now);
  return { accepted: stored, duplicates: events.length - stored };
}
