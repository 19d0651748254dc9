import type { Db } from '../db/types.js';
import { apiApprovalClient, dbApprovalClient, type ApprovalClient, type ApprovalView } from './approval-client.js';
import { runUrl, type ActionContext } from './context.js';
import { actionTenant, openActionDb } from './db.js';
import { boolInput, INPUTS, InputError, numberInput, requiredInput } from './inputs.js';
import type { Runner } from './runner.js';

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
    throw new InputError(INPUTS.payload, `not JSON (${(err as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InputError(INPUTS.payload, 'must be a JSON object');
  return value as Record<string, unknown>;
}

async function openClient(runner: Runner, ctx: ActionContext, onDb: (db: Db) => void): Promise<ApprovalClient> {
  const url = runner.input(INPUTS.databaseUrl);
  const apiUrl = runner.input(INPUTS.apiUrl);
  if (url) {
    const db = await openActionDb(url);
    onDb(db);
    const tenant = await actionTenant(db, runner.input(INPUTS.tenant));
    return dbApprovalClient(db, tenant.id, runner.input(INPUTS.requester) || `github:${ctx.actor || 'unknown'}`);
  }
  if (apiUrl) return apiApprovalClient(apiUrl, requiredInput(runner, INPUTS.apiToken, 'with api-url'));
  throw new InputError(INPUTS.databaseUrl, 'required for command: request-approval (or give api-url and api-token)');
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
 * with `wait: false` submits and exits: Levqor then sends a repository_dispatch when approved.
 */
export async function requestApprovalCommand(runner: Runner, ctx: ActionContext): Promise<void> {
  const title = requiredInput(runner, INPUTS.title, 'for command: request-approval');
  const details = runner.input(INPUTS.details);
  const wait = boolInput(runner, INPUTS.wait, true);
  const timeoutMinutes = numberInput(runner, INPUTS.timeoutMinutes, 60, 7 * 24 * 60);
  const first = numberInput(runner, INPUTS.pollIntervalSeconds, 5, 3600);
  const max = numberInput(runner, INPUTS.maxPollIntervalSeconds, 60, 3600);
  const payload: Record<string, unknown> = {
    ...parsePayload(runner.input(INPUTS.payload)),
    title,
    ...(details ? { details } : {}),
    github: { repository: ctx.repository, sha: ctx.sha, actor: ctx.actor, run_url: runUrl(ctx) ?? null },
  };
  if (!wait) {
    payload.dispatch = {
      repository: runner.input(INPUTS.dispatchRepository) || ctx.repository,
      event_type: runner.input(INPUTS.dispatchEventType) || 'levqor-approved',
    };
  }
  const held: { db?: Db } = {};
  try {
    const client = await openClient(runner, ctx, (d) => (held.db = d));
    const actionType = runner.input(INPUTS.actionType) || 'deploy';
    const submitted = await client.submit({ action_type: actionType, summary: title.slice(0, 500), payload });
    runner.setOutput('approval-id', submitted.id);
    runner.info(`requested approval ${submitted.id} (${actionType}): ${title}`);
    if (!wait) {
      const d = payload.dispatch as { repository: string; event_type: string };
      runner.setOutput('decision', 'pending');
      runner.summary(
        `### ⏳ Approval requested\n\n${title}\n\nApproval \`${submitted.id}\`: when it is approved, Levqor sends \`${d.event_type}\` to ${d.repository}.\n`,
      );
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
        runner.warning(`could not read approval ${submitted.id} (${(err as Error).message}); trying again`);
      }
    }
    report(runner, current, title, timeoutMinutes);
  } finally {
    await held.db?.close();
  }
}

function report(runner: Runner, a: ApprovalView, title: string, timeoutMinutes: number): void {
  runner.setOutput('decision', a.status);
  runner.setOutput('approver', a.processed_by ?? '');
  runner.setOutput('reason', a.reason ?? '');
  const icon = a.status === 'approved' ? '✅' : a.status === 'pending' ? '⏳' : '❌';
  runner.summary(
    `### ${icon} ${title}: ${a.status}\n\nApproval \`${a.id}\`${a.processed_by ? ` — by ${a.processed_by}` : ''}${a.reason ? `: ${a.reason}` : ''}\n`,
  );
  if (a.status === 'approved') runner.info(`approved by ${a.processed_by ?? '?'}`);
  else if (a.status === 'rejected') runner.fail(`approval ${a.id} rejected by ${a.processed_by ?? '?'}: ${a.reason ?? '(no reason)'}`);
  else if (a.status === 'expired') runner.fail(`approval ${a.id} expired: ${a.reason ?? 'no decision in time'}`);
  else runner.fail(`no decision on approval ${a.id} within ${timeoutMinutes} minute(s); it is still pending`);
}
