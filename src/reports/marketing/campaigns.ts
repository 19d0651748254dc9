import { AppError } from '../../lib/errors.js';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createCriticalGate } from '../../approvals/gate.js';
import { insertAudit } from '../../audit/queries.js';
import type { Db } from '../../db/types.js';
import { queueRun, runQueuedNow, type RunNowDeps } from '../../scheduler/manual.js';
import { applyWorkflow } from '../../workflows/queries.js';
import { workflowSchema } from '../../workflows/schema.js';
import { claimCampaign, getCampaign, latestRunRequest, linkCampaignRun } from './queries.js';
import type { MarketingRecommendation } from './rules.js';

/** Who proposes campaigns: excluded from engagement, and never its own approver. */
const MARKETING_ACTOR = 'levqor:marketing';

export interface CampaignProposal {
  campaign: string;
  week: string;
  workflow: string;
  recipients: number;
  run_id: string | null;
  approval_id: string | null;
  /** "proposed" now, or "already_proposed" earlier this week (nothing new was created). */
  status: 'proposed' | 'already_proposed';
}

/**
 * Deps for starting a campaign run when the caller has no scheduler deps: the run's only
 * step is a Class C e-mail, so it parks for approval before any service is used (and no
 * Slack step asks for internal channels). Once approved, a scheduler (with the configured
 * SMTP mailer) runs it.
 */
export function parkingDeps(db: Db): RunNowDeps {
  return {
    db,
    owner: `marketing:${randomUUID().slice(0, 8)}`,
    services: {
      netPolicy: { allow: [] },
      http: { timeoutMs: 1_000, connectTimeoutMs: 1_000, maxResponseBytes: 1 },
      smtpFrom: 'levqor@localhost',
    },
    critical: createCriticalGate({ defaultTtlSeconds: 86_400 }),
    audit: insertAudit,
    internalChannels: () => Promise.resolve([]),
    // A campaign's e-mail refers to no secret; a scheduler with the configured store runs it once approved.
    secrets: () => Promise.reject(new AppError('config', 'no secret store in this process')),
    clock: () => Date.now() / 1000,
    random: Math.random,
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    leaseSeconds: 60,
  };
}

/** "campaign-re-engagement-2025w43": one workflow per tenant, campaign and week. */
function campaignWorkflowName(kind: string, week: string): string {
  return `campaign-${kind}-${week.toLowerCase().replace('-', '')}`;
}

/**
 * Proposes a recommendation's campaign as a workflow whose one step e-mails the audience,
 * and starts a run of it: the run parks at the Class C step, so the request waits in the
 * approval queue and nothing is sent before a human approves. The (tenant, campaign, week)
 * row is claimed first in the same transaction as the workflow and its queued run: a second
 * cycle in the same week, or two at once, propose it once, and a crash after the commit
 * leaves the run for a scheduler.
 */
export async function proposeCampaign(
  db: Db,
  deps: RunNowDeps,
  tenantId: string,
  week: string,
  rec: MarketingRecommendation,
): Promise<CampaignProposal | undefined> {
  const c = rec.campaign;
  if (!c) return undefined;
  const name = campaignWorkflowName(c.kind, week);
  const base = { campaign: c.kind, week, workflow: name, recipients: c.recipients.length };
  const created = await db.transaction(async (tx) => {
    const claimed = await claimCampaign(tx, {
      tenantId,
      campaign: c.kind,
      week,
      audience: c.recipients.length,
      evidence: { rule: rec.rule, message: rec.message, ...rec.evidence },
    });
    if (!claimed) return undefined;
    const spec = workflowSchema.parse({
      name,
      description: `Proposed by the marketing cycle for ${week}: ${rec.message}`.slice(0, 2_000),
      is_active: true,
      schedule_config: { enabled: false },
      // Blind copies: campaign recipients are other tenants' users and must not see each other.
      steps: [{ type: 'email', name: 'send', bcc: c.recipients, subject: c.subject, text: c.text }],
    });
    const { workflow } = await applyWorkflow(tx, tenantId, spec, MARKETING_ACTOR);
    // The run is queued in the same transaction: a process that dies right after the commit
    // leaves a queued run that any scheduler takes up, never a campaign without its run.
    const runId = await queueRun(tx, workflow, { trigger: 'manual', actor: MARKETING_ACTOR, notify: false });
    await linkCampaignRun(tx, { tenantId, campaign: c.kind, week, workflowId: workflow.id, runId });
    return runId;
  });
  if (!created) {
    const runId = (await getCampaign(db, tenantId, c.kind, week))?.run_id ?? null;
    return { ...base, run_id: runId, approval_id: runId ? await latestRunRequest(db, tenantId, runId) : null, status: 'already_proposed' };
  }
  // Run here now, up to its Class C step (a scheduler that claimed it first does the same).
  const { outcome } = await runQueuedNow(deps, created);
  return {
    ...base,
    run_id: created,
    approval_id: outcome?.kind === 'parked' ? outcome.approvalId : await latestRunRequest(db, tenantId, created),
    status: 'proposed',
  };
}
