import { decisionProblem } from '../src/approvals/policy.js';
import { getPolicy, listApprovals } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { healthOptions } from '../src/health/options.js';
import { healthSummary } from '../src/health/summary.js';
import { AppError } from '../src/lib/errors.js';
import { generateWeeklyReport } from '../src/reports/weekly.js';
import { getRun } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { decisionButtons, esc, slackDate, type SlackBlock, type SlackMessage } from '../src/slack/blocks.js';
import { healthMessage, markdownToBlocks } from '../src/slack/report-blocks.js';
import type { SlackSettings } from '../src/slack/queries.js';
import { requireWorkflow } from '../src/workflows/queries.js';
import { actingTenant, explain, type BotDeps } from './deps.js';
import { actingOfCommand, type SlashCommand } from './payloads.js';

interface CommandReply extends SlackMessage {
  response_type: 'ephemeral' | 'in_channel';
}

/** `/levqor help`: what each subcommand does. */
function helpMessage(note?: string): SlackMessage {
  const lines = [
    '*/levqor health*: the health summary (database, queues, failure rate, scheduler)',
    '*/levqor approvals*: pending approvals, with Approve / Reject buttons',
    '*/levqor report [YYYY-Www]*: the weekly report (default: last week)',
    '*/levqor run WORKFLOW*: run a workflow now (Class C steps still wait for approval)',
    '*/levqor help*: this list',
    'Answers are only visible to you; add *--share* to post one in the channel.',
  ];
  const blocks: SlackBlock[] = [];
  if (note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: note } });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  return { text: `${note ? `${note}\n` : ''}${lines.join('\n').replace(/\*/g, '')}`, blocks };
}

/** Splits "/levqor" text into the subcommand, its arguments and --share. */
export function parseCommandText(text: string): { sub: string; args: string[]; share: boolean } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const share = words.some((w) => w === '--share');
  const rest = words.filter((w) => w !== '--share');
  return { sub: (rest[0] ?? 'help').toLowerCase(), args: rest.slice(1), share };
}

async function approvalsMessage(deps: BotDeps, tenantId: string): Promise<SlackMessage> {
  const pending = await listApprovals(deps.db, tenantId, 'pending', 11);
  if (pending.length === 0)
    return { text: 'No pending approvals.', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '✅ No pending approvals.' } }] };
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `Pending approvals (${pending.length > 10 ? '10+' : pending.length})` } },
  ];
  for (const a of pending.slice(0, 10)) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${esc(a.summary)}*\n\`${esc(a.action_type)}\` · requested by \`${esc(a.requested_by)}\` · expires ${slackDate(a.expires_at)}${a.required_approvals > 1 ? ` · ${a.approvals_count} of ${a.required_approvals} approvals` : ''}`,
      },
    });
    blocks.push(decisionButtons(a.id));
  }
  if (pending.length > 10)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'More are waiting: `levqor approvals list` shows them all.' }] });
  return {
    text: `${pending.length > 10 ? '10+' : pending.length} pending approvals: ${pending
      .slice(0, 10)
      .map((a) => a.summary)
      .join('; ')}`,
    blocks,
  };
}

async function reportMessage(deps: BotDeps, tenantId: string, week: string | undefined): Promise<SlackMessage> {
  const markdown = await generateWeeklyReport(deps.db, { tenantId, week });
  const firstLine = markdown.split('\n').find((l) => l.trim()) ?? 'Weekly report';
  return { text: firstLine.replace(/^#+\s*/, ''), blocks: markdownToBlocks(markdown) };
}

async function runMessage(deps: BotDeps, settings: SlackSettings, cmd: SlashCommand, name: string | undefined): Promise<SlackMessage> {
  if (!name) throw new AppError('bad_input', 'Which workflow? Usage: /levqor run WORKFLOW');
  const actor = `slack:${cmd.user_id}`;
  const policy = (await getPolicy(deps.db, settings.tenant_id)) ?? DEFAULT_POLICY;
  if (policy.approvers.length && decisionProblem({ ...policy, allow_self_approval: true }, { requested_by: '' }, actor)) {
    throw new AppError('forbidden', `only this tenant's approvers may start runs from Slack (allowed: ${policy.approvers.join(', ')})`);
  }
  const wf = await requireWorkflow(deps.db, settings.tenant_id, name);
  const result = await startRun(deps.runDeps, wf, { enqueue: !deps.executeRuns, trigger: 'manual', actor });
  const run = await getRun(deps.db, result.runId);
  const status = run?.status ?? 'queued';
  const icon = status === 'succeeded' ? '✅' : status === 'failed' ? '❌' : status === 'waiting_approval' ? '⏸️' : '▶️';
  const waiting = result.outcome?.kind === 'parked' ? `\nA step needs approval: it is posted in <#${settings.approvals_channel}>.` : '';
  const text = `${icon} Run of *${esc(wf.name)}*: ${status}${run?.error ? ` (${esc(run.error)})` : ''}\nrun \`${result.runId}\`${waiting}`;
  return { text: text.replace(/\*/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** Answers `/levqor …` for a user of a connected workspace; unknown input gets the help. */
export async function answerCommand(deps: BotDeps, cmd: SlashCommand): Promise<CommandReply> {
  const { sub, args, share } = parseCommandText(cmd.text);
  const reply = (m: SlackMessage, shared = share): CommandReply => ({ response_type: shared ? 'in_channel' : 'ephemeral', ...m });
  if (sub === 'help') return reply(helpMessage());
  const acting = await actingTenant(deps.db, actingOfCommand(cmd));
  if ('refusal' in acting) return reply({ text: acting.refusal, blocks: [] }, false);
  const { settings } = acting;
  try {
    switch (sub) {
      case 'health': {
        // The workspace's tenant: its queues and failure rates, never another tenant's.
        const s = await healthSummary(deps.db, {
          ...healthOptions(deps.config).thresholds,
          processStartedAt: deps.processStartedAt,
          tenantId: settings.tenant_id,
        });
        return reply(healthMessage(s));
      }
      case 'approvals':
        return reply(await approvalsMessage(deps, settings.tenant_id));
      case 'report':
        return reply(await reportMessage(deps, settings.tenant_id, args[0]));
      case 'run':
        return reply(await runMessage(deps, settings, cmd, args[0]));
      default:
        return reply(helpMessage(`Unknown command "${esc(sub)}". Here is what /levqor does:`), false);
    }
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return reply({ text: explain(err), blocks: [] }, false);
  }
}
