import * as core from '@actions/core';
import type { Db } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { escapeHtml } from '../lib/html.js';
import { apiApprovalClient, dbApprovalClient, type ApprovalClient, type ApprovalView } from './approval-client.js';
import { runUrl, type ActionContext } from './context.js';
import { actionTenant, openActionDb } from './db.js';
import { apiCredential, boolInput, input, inputError, INPUTS, numberInput, output, requiredInput } from './inputs.js';
import { writeSummary } from './summary.js';

/** Waits between polls: starts at `first`, grows by half each time, never above `max`. */
export function backoff(first: number, max: number, attempt: number): number {
  return Math.min(max, first * 1.5 ** attempt);
}

function parsePayload(text: string): Record<string, unknown> {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw inputError(INPUTS.payload, `not JSON (${errorMessage(err)})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw inputError(INPUTS.payload, 'must be a JSON object');
  return value as Record<string, unknown>;
}

async function openClient(ctx: ActionContext, onDb: (db: Db) => void): Promise<ApprovalClient> {
  const url = input(INPUTS.databaseUrl);
  const apiUrl = input(INPUTS.apiUrl);
  if (url) {
    const db = await openActionDb(url);
    onDb(db);
    const tenant = await actionTenant(db, input(INPUTS.tenant));
    return dbApprovalClient(db, tenant.id, input(INPUTS.requester) || `github:${ctx.actor || 'unknown'}`);
  }
  if (apiUrl) return apiApprovalClient(apiUrl, await apiCredential());
  throw inputError(
    INPUTS.databaseUrl,
    'required for command: request-approval (or give api-url, with api-token or keyless with id-token: write)',
  );
}

function finalState(a: ApprovalView, nowSeconds: number): ApprovalView {
  // Past its time nobody can decide it any more (the decision would be refused): it has expired.
  if (a.status === 'pending' && nowSeconds >= a.expires_at)
    return { ...a, status: 'expired', reason: a.reason ?? 'no decision before it expired' };
  return a;
}

/**
 * `command: request-approval`: a deploy gate. Submits a Class C action and waits for the
 * decision from Slack, the API or the CLI (polling with backoff up to `timeout-minutes`), or
 * with `wait: false` submits and exits: Levqor then sends a repository_dispatch when it is decided.
 */
export async function requestApprovalCommand(ctx: ActionContext): Promise<void> {
  const title = requiredInput(INPUTS.title, 'for command: request-approval');
  const details = input(INPUTS.details);
  const wait = boolInput(INPUTS.wait, true);
  const timeoutMinutes = numberInput(INPUTS.timeoutMinutes, 60, 7 * 24 * 60);
  const first = numberInput(INPUTS.pollIntervalSeconds, 5, 3600);
  const max = numberInput(INPUTS.maxPollIntervalSeconds, 60, 3600);
  const payload: Record<string, unknown> = {
    ...parsePayload(input(INPUTS.payload)),
    title,
    ...(details ? { details } : {}),
    github: { repository: ctx.repository, sha: ctx.sha, actor: ctx.actor, run_url: runUrl(ctx) ?? null },
  };
  if (!wait) {
    payload.dispatch = {
      repository: input(INPUTS.dispatchRepository) || ctx.repository,
      event_type: input(INPUTS.dispatchEventType) || 'levqor-approved',
      rejected_event_type: input(INPUTS.dispatchRejectedEventType) || 'levqor-rejected',
      expired_event_type: input(INPUTS.dispatchExpiredEventType) || 'levqor-expired',
    };
  }
  const held: { db?: Db } = {};
  try {
    const client = await openClient(ctx, (d) => (held.db = d));
    const actionType = input(INPUTS.actionType) || 'deploy';
    const submitted = await client.submit({ action_type: actionType, summary: title.slice(0, 500), payload });
    output('approval-id', submitted.id);
    core.info(`requested approval ${submitted.id} (${actionType}): ${title}`);
    if (!wait) {
      const d = payload.dispatch as { repository: string; event_type: string; rejected_event_type: string; expired_event_type: string };
      output('decision', 'pending');
      core.summary
        .addHeading('⏳ Approval requested', 3)
        .addRaw(`<p>${escapeHtml(title)}</p>`, true)
        .addRaw(
          `<p>Approval <code>${escapeHtml(submitted.id)}</code>: when it is approved, Levqor sends <code>${escapeHtml(d.event_type)}</code> to ${escapeHtml(d.repository)} (<code>${escapeHtml(d.rejected_event_type)}</code> when rejected, <code>${escapeHtml(d.expired_event_type)}</code> when it expires).</p>`,
          true,
        );
      await writeSummary();
      return;
    }
    const deadline = Date.now() + timeoutMinutes * 60_000;
    let current = finalState(submitted, Date.now() / 1000);
    for (let attempt = 0; current.status === 'pending' && Date.now() < deadline; attempt++) {
      const pause = Math.min(backoff(first, max, attempt) * 1000, Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, pause));
      try {
        current = finalState(await client.get(submitted.id), Date.now() / 1000);
      } catch (err) {
        // A dropped connection or a restarting API must not end the wait: try again at the next poll.
        core.warning(`could not read approval ${submitted.id} (${errorMessage(err)}); trying again`);
      }
    }
    await report(current, title, timeoutMinutes);
  } finally {
    await held.db?.close();
  }
}

async function report(a: ApprovalView, title: string, timeoutMinutes: number): Promise<void> {
  output('decision', a.status);
  output('approver', a.processed_by ?? '');
  output('reason', a.reason ?? '');
  const icon = a.status === 'approved' ? '✅' : a.status === 'pending' ? '⏳' : '❌';
  const by = a.processed_by ? ` — by ${escapeHtml(a.processed_by)}` : '';
  core.summary
    .addHeading(`${icon} ${escapeHtml(title)}: ${a.status}`, 3)
    .addRaw(`<p>Approval <code>${escapeHtml(a.id)}</code>${by}${a.reason ? `: ${escapeHtml(a.reason)}` : ''}</p>`, true);
  await writeSummary();
  if (a.status === 'approved') core.info(`approved by ${a.processed_by ?? '?'}`);
  else if (a.status === 'rejected') core.setFailed(`approval ${a.id} rejected by ${a.processed_by ?? '?'}: ${a.reason ?? '(no reason)'}`);
  else if (a.status === 'expired') core.setFailed(`approval ${a.id} expired: ${a.reason ?? 'no decision in time'}`);
  else core.setFailed(`no decision on approval ${a.id} within ${timeoutMinutes} minute(s); it is still pending`);
}
