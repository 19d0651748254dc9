import { z } from 'zod';
import type { Db } from '../../db/types.js';
import { tenantAnalytics } from '../../reports/analytics.js';
import { engagementBatchSchema, recordEngagementEvents } from '../../reports/engagement.js';
import { analyticsReply, eventsAcceptedReply } from '../responses.js';
import type { createRouter } from '../route.js';

/** Analytics over the last N days, and the engagement events a tenant's product sends. */
export function analyticsRoutes(router: ReturnType<typeof createRouter>, db: Db): void {
  router.add({
    method: 'GET',
    url: '/api/analytics',
    operationId: 'getAnalytics',
    tag: 'analytics',
    scope: 'analytics:read',
    query: z.object({ days: z.coerce.number().int().min(1).max(366).default(7) }).strict(),
    summary: 'Runs, success and failure rate, p50/p95 duration and approvals, per workflow and for the tenant',
    replies: { 200: analyticsReply },
    handler: ({ query, auth }) => tenantAnalytics(db, { tenantId: auth.tenant_id, days: query.days }),
  });
  router.add({
    method: 'POST',
    url: '/api/events',
    operationId: 'recordEvents',
    tag: 'analytics',
    scope: 'events:write',
    body: engagementBatchSchema,
    status: 202,
    summary: 'Record up to 500 engagement events (user_id, event, properties, created_at, event_id for safe retries)',
    replies: { 202: eventsAcceptedReply },
    handler: ({ body, auth }) => recordEngagementEvents(db, auth.tenant_id, body.events),
  });
}
