import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { retryFailedSlackPosts, tenantForTeam, upsertSlackSettings, type SlackSettings, type SlackSettingsWrite } from './queries.js';

const TEAM = /^[TE][A-Z0-9]{2,30}$/;
const CHANNEL = /^[CGD][A-Z0-9]{2,30}$/;

/** Problems with a settings input, one per bad field (pure). */
function slackSettingsProblems(s: SlackSettingsWrite): string[] {
  const problems: string[] = [];
  if (!TEAM.test(s.team_id)) problems.push(`team: "${s.team_id}" is not a Slack workspace id (like T0123ABCD)`);
  const channel = (field: string, v: string | null | undefined) => {
    if (v !== undefined && v !== null && !CHANNEL.test(v))
      problems.push(`${field}: "${v}" is not a Slack channel id (like C0123ABCD; names are not accepted)`);
  };
  channel('approvals-channel', s.approvals_channel);
  channel('reports-channel', s.reports_channel);
  channel('alerts-channel', s.alerts_channel);
  for (const c of s.internal_channels ?? []) channel('internal-channels', c);
  if (s.report_weekday !== undefined && !(Number.isInteger(s.report_weekday) && s.report_weekday >= 1 && s.report_weekday <= 7)) {
    problems.push(`report-day: ${s.report_weekday} is not a weekday (1 = Monday … 7 = Sunday)`);
  }
  const time = (field: string, v: string | null | undefined) => {
    if (typeof v === 'string' && !/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(v))
      problems.push(`${field}: "${v}" is not a time of day like 09:00 (24-hour HH:MM), or "off"`);
  };
  time('report-time', s.report_time);
  time('health-time', s.health_time);
  return problems;
}

/**
 * Connects a tenant to a workspace (or changes its channels). Unset optional fields keep
 * their stored value; a workspace already connected to another tenant is a conflict.
 * Slack posts that failed for the tenant are tried again at the next sweep.
 */
export async function setSlackSettings(db: Queryable, tenantId: string, s: SlackSettingsWrite): Promise<SlackSettings> {
  const problems = slackSettingsProblems(s);
  if (problems.length) throw new AppError('bad_input', problems.join('; '), problems);
  const owner = await tenantForTeam(db, s.team_id);
  if (owner && owner.tenant_id !== tenantId)
    throw new AppError('conflict', `workspace ${s.team_id} is already connected to another tenant`);
  const settings = await upsertSlackSettings(db, tenantId, s);
  // Whatever failed before may work with the new settings (a channel the bot was not in, a
  // channel that changed): failed approval messages and scheduled posts are tried again now.
  await retryFailedSlackPosts(db, tenantId);
  return settings;
}
