import { z } from 'zod';
import { rerequestAction, submitAction } from '../../approvals/actions.js';
import { getApproval, listApprovals, listVotes } from '../../approvals/queries.js';
import { BULK_MAX, decideApproval, decideMany, REASON_MAX } from '../../approvals/service.js';
import { actorOf, allowsActionType, assertActionType, channelOf } from '../../auth/tokens.js';
import { criticalFilesApproval, CRITICAL_FILES_ACTION } from '../../checks/levqor-approval.js';
import type { Db } from '../../db/types.js';
import { AppError } from '../../lib/errors.js';
import { withRedactedPayload } from '../../lib/redact.js';
import { impactClassSchema } from '../../workflows/schema.js';
import { HTTP_STATUS } from '../errors.js';
import {
  approvalPageReply,
  approvalReply,
  approvalWithVotesReply,
  bulkDecisionReply,
  decisionReply,
  gateOutcomeReply,
  linkedRunReply,
} from '../responses.js';
import type { createRouter } from '../route.js';

const idParams = z.object({ id: z.string().max(100) }).strict();

/** The safety gate's question over the API: a pull request's critical changes, as the action describes them. */
const criticalFilesBody = z
  .object({
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/repo'),
    pull_request: z.number().int().positive(),
    head_sha: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character commit sha'),
    base_sha: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character commit sha'),
    files: z.array(z.string().min(1).max(1000)).min(1).max(1000),
  })
  .strict();

/** Opaque pagination cursor: the last row's (requested_at, id). */
export function encodeCursor(row: { requested_at: number; id: string }): string {
  return Buffer.from(JSON.stringify([row.requested_at, row.id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { requested_at: number; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [requestedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (
      typeof requestedAt === 'number' &&
      Number.isFinite(requestedAt) &&
      typeof id === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
    ) {
      return { requested_at: requestedAt, id };
    }
  } catch {
    // fall through
  }
  throw new AppError('bad_input', 'query.cursor: not a cursor returned by this API', ['query.cursor: invalid']);
}

/** GET /api/approvals's query (exported for bench/api, which times its parse). */
export const listApprovalsQuery = z
  .object({
    status: z.enum(['pending', 'approved', 'rejected', 'expired']).default('pending'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(500).optional(),
  })
  .strict();

// A reason is at most 500 code points, as validateReason (the rule every face shares) counts them
// and as JSON Schema's maxLength means it; zod's max() would count UTF-16 units.
const fitsReason = [(s: string) => [...s].length <= REASON_MAX, `at most ${REASON_MAX} characters`] as const;
const reasonText = z
  .string()
  .trim()
  .refine(...fitsReason)
  .meta({ maxLength: REASON_MAX });
const decideBody = z.object({ reason: reasonText.optional() }).strict().optional();
/** POST /api/approvals/decide: one decision (and reason: required to reject) for several requests. */
const bulkBody = z
  .object({
    ids: z.array(z.string().max(100)).min(1).max(BULK_MAX),
    decision: z.enum(['approve', 'reject']),
    reason: reasonText.optional(),
  })
  .strict();
const rejectBody = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'a rejection needs a reason')
      .refine(...fitsReason)
      .meta({ maxLength: REASON_MAX }),
  })
  .strict();

const actionBody = z
  .object({
    action_type: z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'lowercase letters, digits, "_", "." and "-"'),
    summary: z.string().trim().min(1).max(500),
    payload: z.record(z.string(), z.unknown()).default({}),
    impact_class: impactClassSchema.optional(),
  })
  .strict();

/** The guide's approval endpoints, plus show, re-request and the generic action entry. */
export function approvalRoutes(router: ReturnType<typeof createRouter>, db: Db): void {
  router.add({
    method: 'GET',
    url: '/api/approvals',
    operationId: 'listApprovals',
    tag: 'approvals',
    scope: 'approvals:read',
    query: listApprovalsQuery,
    summary: 'List approval requests (pending by default), oldest first, with cursor pagination',
    replies: { 200: approvalPageReply },
    handler: async ({ query, auth }) => {
      // A keyless GitHub identity sees only requests of its own action types, one at a time.
      if (auth.actionTypes)
        throw new AppError(
          'forbidden',
          `${actorOf(auth)} (a GitHub OIDC token) does not list requests: read one with GET /api/approvals/:id`,
        );
      const rows = await listApprovals(db, auth.tenant_id, query.status, query.limit + 1, decodeCursor(query.cursor));
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { approvals: page.map(withRedactedPayload), next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null };
    },
  });
  router.add({
    method: 'GET',
    url: '/api/approvals/:id',
    operationId: 'getApproval',
    tag: 'approvals',
    scope: 'approvals:read',
    params: idParams,
    summary: 'One approval request with its votes',
    replies: { 200: approvalWithVotesReply },
    errors: { 404: 'no such approval for this tenant' },
    handler: async ({ params, auth }) => {
      const approval = await getApproval(db, params.id, auth.tenant_id);
      // A keyless GitHub identity reads only the action types its trust policy lets it request.
      if (!approval || !allowsActionType(auth, approval.action_type)) throw new AppError('not_found', `approval ${params.id} not found`);
      return { ...withRedactedPayload(approval), votes: await listVotes(db, approval.id) };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/approvals/:id/approve',
    operationId: 'approveApproval',
    tag: 'approvals',
    scope: 'approvals:decide',
    params: idParams,
    body: decideBody,
    summary: 'Approve (or, under a quorum, vote to approve) a pending request',
    replies: { 200: decisionReply },
    errors: {
      403: 'the token lacks the scope, or the approval rules refuse this decider (self-approval, not an approver)',
      404: 'no such approval for this tenant',
      409: 'already decided or expired',
    },
    handler: async ({ params, body, auth }) => {
      const { approval, outcome } = await decideApproval(db, {
        id: params.id,
        tenantId: auth.tenant_id,
        decision: 'approve',
        actor: actorOf(auth),
        channel: 'api',
        reason: body?.reason,
      });
      return { outcome, approval: withRedactedPayload(approval) };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/approvals/decide',
    operationId: 'decideApprovals',
    tag: 'approvals',
    scope: 'approvals:decide',
    body: bulkBody,
    summary:
      'Approve or reject several pending requests with one reason: each is its own vote, audit entry and policy check, and gets its own result (200 decided or vote recorded, 403, 404, 409)',
    replies: { 200: bulkDecisionReply },
    handler: async ({ body, auth }) => {
      const results = await decideMany(db, {
        ids: body.ids,
        tenantId: auth.tenant_id,
        decision: body.decision,
        actor: actorOf(auth),
        channel: channelOf(auth),
        reason: body.reason,
      });
      return {
        decision: body.decision,
        decided: results.filter((r) => 'outcome' in r).length,
        failed: results.filter((r) => 'error' in r).length,
        results: results.map((r) =>
          'outcome' in r
            ? { id: r.id, status: 200, outcome: r.outcome, approval: withRedactedPayload(r.approval) }
            : { id: r.id, status: HTTP_STATUS[r.error], error: r.error, message: r.message },
        ),
      };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/approvals/:id/reject',
    operationId: 'rejectApproval',
    tag: 'approvals',
    scope: 'approvals:decide',
    params: idParams,
    body: rejectBody,
    summary: 'Reject a pending request, with a reason (1–500 characters)',
    replies: { 200: decisionReply },
    errors: {
      403: 'the token lacks the scope, or the approval rules refuse this decider (self-approval, not an approver)',
      404: 'no such approval for this tenant',
      409: 'already decided or expired',
    },
    handler: async ({ params, body, auth }) => {
      const { approval, outcome } = await decideApproval(db, {
        id: params.id,
        tenantId: auth.tenant_id,
        decision: 'reject',
        actor: actorOf(auth),
        channel: 'api',
        reason: body.reason,
      });
      return { outcome, approval: withRedactedPayload(approval) };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/approvals/:id/rerequest',
    operationId: 'rerequestApproval',
    tag: 'approvals',
    scope: 'actions:write',
    params: idParams,
    status: 201,
    summary:
      'Ask again for a rejected or expired action: a new request linked to the old one (201), or for a workflow step a linked new run that asks again at that step (202)',
    replies: { 201: approvalReply, 202: linkedRunReply },
    errors: {
      403: "the token lacks the scope, or the request's action type is not allowed for a keyless GitHub identity",
      404: 'no such approval for this tenant',
      409: 'not rejected or expired, or already asked again',
    },
    handler: async ({ params, auth, reply }) => {
      if (auth.actionTypes) {
        const old = await getApproval(db, params.id, auth.tenant_id);
        if (old) assertActionType(auth, old.action_type);
      }
      const made = await rerequestAction(db, params.id, auth.tenant_id, actorOf(auth), channelOf(auth));
      if (made.kind === 'approval') return withRedactedPayload(made.approval);
      void reply.status(202);
      return { status: 'queued' as const, ...made.run };
    },
  });
  router.add({
    method: 'POST',
    url: '/api/actions',
    operationId: 'submitAction',
    tag: 'approvals',
    scope: 'actions:write',
    body: actionBody,
    status: 201,
    summary: 'Submit an action: Class A and B are approved at once (B audited), Class C waits for a human',
    replies: { 201: approvalReply },
    errors: { 403: 'the token lacks the scope, or the action type is not allowed for a keyless GitHub identity (its trust policy)' },
    handler: async ({ body, auth }) => {
      assertActionType(auth, body.action_type);
      return withRedactedPayload(
        await submitAction(db, {
          tenantId: auth.tenant_id,
          actor: actorOf(auth),
          channel: channelOf(auth),
          action_type: body.action_type,
          summary: body.summary,
          payload: body.payload,
          impact_class: body.impact_class,
        }),
      );
    },
  });
  router.add({
    method: 'POST',
    url: '/api/gate/critical-files',
    operationId: 'gateCriticalFiles',
    tag: 'approvals',
    scope: 'actions:write',
    body: criticalFilesBody,
    summary:
      "The safety gate's Class C request for a pull request's critical-file changes: its state (approved, pending, rejected), asking anew when there is none or the last one expired",
    replies: { 200: gateOutcomeReply },
    errors: {
      403: `the token lacks the scope, or ${CRITICAL_FILES_ACTION} is not allowed for a keyless GitHub identity (its trust policy)`,
    },
    handler: ({ body, auth }) => {
      assertActionType(auth, CRITICAL_FILES_ACTION);
      const pr = { repository: body.repository, number: body.pull_request, headSha: body.head_sha, baseSha: body.base_sha };
      return criticalFilesApproval(db, auth.tenant_id, actorOf(auth), pr, body.files);
    },
  });
}
