import { z } from 'zod';
import { listAudit } from '../../audit/queries.js';
import { actorOf } from '../../auth/tokens.js';
import type { Db } from '../../db/types.js';
import { AppError } from '../../lib/errors.js';
import { withRedactedPayload } from '../../lib/redact.js';
import { getRun, getRunEvents, listRuns } from '../../runs/queries.js';
import { startRun, type RunNowDeps } from '../../scheduler/manual.js';
import { applyWorkflow, listWorkflows, requireWorkflow } from '../../workflows/queries.js';
import { workflowSchema } from '../../workflows/schema.js';
import {
  appliedWorkflowReply,
  auditPageReply,
  queuedRunReply,
  runListReply,
  runStatusSchema,
  runWithEventsReply,
  workflowListReply,
  workflowReply,
} from '../responses.js';
import type { createRouter } from '../route.js';
import { checkWorkflowCredentials } from '../../secrets/apply-check.js';
import type { SecretStore } from '../../secrets/store.js';
import { findTenant } from '../../tenants/queries.js';

const workflowName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,127}$/, 'not a workflow name');
const nameParams = z.object({ name: workflowName }).strict();

/** Workflows (same schema as `levqor workflow apply`), manual runs, runs with their events, the audit log. */
export function workflowRoutes(router: ReturnType<typeof createRouter>, db: Db, runDeps: () => RunNowDeps, secrets: SecretStore): void {
  router.add({
    method: 'GET',
    url: '/api/workflows',
    operationId: 'listWorkflows',
    tag: 'workflows',
    scope: 'workflows:read',
    summary: 'List workflows',
    replies: { 200: workflowListReply },
    handler: async ({ auth }) => ({ workflows: await listWorkflows(db, auth.tenant_id) }),
  });
  router.add({
    method: 'GET',
    url: '/api/workflows/:name',
    operationId: 'getWorkflow',
    tag: 'workflows',
    scope: 'workflows:read',
    params: nameParams,
    summary: 'One workflow',
    replies: { 200: workflowReply },
    errors: { 404: 'no such workflow for this tenant' },
    handler: ({ params, auth }) => requireWorkflow(db, auth.tenant_id, params.name),
  });
  router.add({
    method: 'PUT',
    url: '/api/workflows/:name',
    operationId: 'applyWorkflow',
    tag: 'workflows',
    scope: 'workflows:write',
    params: nameParams,
    query: z.object({ allow_inline_credentials: z.enum(['true', 'false']).optional() }).strict(),
    body: workflowSchema,
    summary:
      'Create or update a workflow (the workflow file schema; the name must match the URL). A literal credential in a header or URL is refused (400) unless ?allow_inline_credentials=true (recorded in the audit log)',
    replies: { 200: appliedWorkflowReply, 201: appliedWorkflowReply },
    handler: async ({ params, query, body, auth, reply }) => {
      if (body.name !== params.name)
        throw new AppError('bad_input', `body.name: "${body.name}" differs from the URL's "${params.name}"`, [
          'body.name: must match the URL',
        ]);
      const tenant = await findTenant(db, auth.tenant_id);
      if (!tenant) throw new AppError('not_found', 'tenant not found');
      const actor = actorOf(auth);
      const { workflow, outcome } = await db.transaction(async (tx) => {
        await checkWorkflowCredentials(tx, secrets, [body], {
          tenant,
          actor,
          allowInline: query.allow_inline_credentials === 'true',
          overrideHint: '?allow_inline_credentials=true',
        });
        return applyWorkflow(tx, auth.tenant_id, body, actor);
      });
      void reply.status(outcome === 'created' ? 201 : 200);
      return { outcome, workflow };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/workflows/:name/run',
    operationId: 'runWorkflow',
    tag: 'workflows',
    scope: 'workflows:write',
    params: nameParams,
    status: 202,
    summary: 'Queue a run now; a scheduler starts it at once (NOTIFY)',
    replies: { 202: queuedRunReply },
    errors: { 404: 'no such workflow for this tenant' },
    handler: async ({ params, auth }) => {
      const wf = await requireWorkflow(db, auth.tenant_id, params.name);
      const { runId } = await startRun(runDeps(), wf, { enqueue: true, trigger: 'api', actor: actorOf(auth) });
      return { run_id: runId, status: 'queued' as const };
    },
  });
  router.add({
    method: 'GET',
    url: '/api/runs',
    operationId: 'listRuns',
    tag: 'runs',
    scope: 'runs:read',
    query: z
      .object({
        workflow: workflowName.optional(),
        status: runStatusSchema.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      })
      .strict(),
    summary: 'Recent runs, newest first',
    replies: { 200: runListReply },
    errors: { 404: 'the workflow filter names no workflow of this tenant' },
    handler: async ({ query, auth }) => {
      const wf = query.workflow ? await requireWorkflow(db, auth.tenant_id, query.workflow) : undefined;
      return { runs: await listRuns(db, { tenantId: auth.tenant_id, workflowId: wf?.id, status: query.status, limit: query.limit }) };
    },
  });
  router.add({
    method: 'GET',
    url: '/api/runs/:id',
    operationId: 'getRun',
    tag: 'runs',
    scope: 'runs:read',
    params: z.object({ id: z.string().max(100) }).strict(),
    summary: 'One run with its events',
    replies: { 200: runWithEventsReply },
    errors: { 404: 'no such run for this tenant' },
    handler: async ({ params, auth }) => {
      const run = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(params.id)
        ? await getRun(db, params.id, auth.tenant_id)
        : undefined;
      if (!run) throw new AppError('not_found', `run ${params.id} not found`);
      return { ...run, events: (await getRunEvents(db, run.id)).map(withRedactedPayload) };
    },
  });
  router.add({
    method: 'GET',
    url: '/api/audit',
    operationId: 'listAudit',
    tag: 'audit',
    scope: 'audit:read',
    query: z
      .object({ limit: z.coerce.number().int().min(1).max(500).default(100), before: z.coerce.number().int().positive().optional() })
      .strict(),
    summary: 'The audit log, newest first (page with ?before=<id>)',
    replies: { 200: auditPageReply },
    handler: async ({ query, auth }) => {
      const entries = await listAudit(db, auth.tenant_id, query.limit, query.before);
      return { entries, next_before: entries.length === query.limit ? (entries.at(-1)?.id ?? null) : null };
    },
  });
}
