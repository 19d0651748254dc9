import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';

/** A tenant's Slack workspace and channels (one row of slack_settings). */
export interface SlackSettings {
  tenant_id: string;
  team_id: string;
  approvals_channel: string;
  reports_channel: string | null;
  alerts_channel: string | null;
  internal_channels: string[];
  /** ISO weekday (1 = Monday) and local "HH:MM" of the weekly report; null time = off. */
  report_weekday: number;
  report_time: string | null;
  /** Local "HH:MM" of the daily health summary; null = off. */
  health_time: string | null;
  updated_at: number;
}

const COLUMNS =
  'tenant_id, team_id, approvals_channel, reports_channel, alerts_channel, internal_channels, report_weekday, report_time, health_time, updated_at';

/** A tenant's Slack settings, or undefined when it has not been connected to a workspace. */
export async function getSlackSettings(db: Queryable, tenantId: string): Promise<SlackSettings | undefined> {
  const { rows } = await db.query<SlackSettings>(`SELECT ${COLUMNS} FROM slack_settings WHERE tenant_id = $1`, [tenantId]);
  return rows[0];
}

/** The settings (and so the tenant) of a Slack workspace, or undefined for an unknown workspace. */
export async function tenantForTeam(db: Queryable, teamId: string): Promise<SlackSettings | undefined> {
  const { rows } = await db.query<SlackSettings>(`SELECT ${COLUMNS} FROM slack_settings WHERE team_id = $1`, [teamId]);
  return rows[0];
}

export interface SlackSettingsInput {
  team_id: string;
  approvals_channel: string;
  reports_channel?: string | null;
  alerts_channel?: string | null;
  internal_channels?: string[];
  report_weekday?: number;
  /** "HH:MM", or null to switch the post off; undefined keeps the stored value. */
  report_time?: string | null;
  health_time?: string | null;
}

const TEAM = /^[TE][A-Z0-9]{2,30}$/;
const CHANNEL = /^[CGD][A-Z0-9]{2,30}$/;

/** Problems with a settings input, one per bad field (pure). */
export function slackSettingsProblems(s: SlackSettingsInput): string[] {
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
export async function setSlackSettings(db: Queryable, tenantId: string, s: SlackSettingsInput): Promise<SlackSettings> {
  const problems = slackSettingsProblems(s);
  if (problems.length) throw new AppError('bad_input', problems.join('; '), problems);
  const owner = await tenantForTeam(db, s.team_id);
  if (owner && owner.tenant_id !== tenantId)
    throw new AppError('conflict', `workspace ${s.team_id} is already connected to another tenant`);
  const { rows } = await db.query<SlackSettings>(
    `INSERT INTO slack_settings (tenant_id, team_id, approvals_channel, reports_channel, alerts_channel, internal_channels, report_weekday, report_time, health_time)
     VALUES ($1, $2, $3, $4, $5, coalesce($6::text[], '{}'), coalesce($9::int, 1), CASE WHEN $11 THEN $10 ELSE '09:00' END, CASE WHEN $13 THEN $12 ELSE '09:00' END)
     ON CONFLICT (tenant_id) DO UPDATE SET team_id = excluded.team_id, approvals_channel = excluded.approvals_channel,
       reports_channel = CASE WHEN $7 THEN excluded.reports_channel ELSE slack_settings.reports_channel END,
       alerts_channel = CASE WHEN $8 THEN excluded.alerts_channel ELSE slack_settings.alerts_channel END,
       internal_channels = CASE WHEN $6::text[] IS NULL THEN slack_settings.internal_channels ELSE excluded.internal_channels END,
       report_weekday = coalesce($9::int, slack_settings.report_weekday),
       report_time = CASE WHEN $11 THEN excluded.report_time ELSE slack_settings.report_time END,
       health_time = CASE WHEN $13 THEN excluded.health_time ELSE slack_settings.health_time END,
       updated_at = extract(epoch FROM now())
     RETURNING ${COLUMNS}`,
    [
      tenantId,
      s.team_id,
      s.approvals_channel,
      s.reports_channel ?? null,
      s.alerts_channel ?? null,
      s.internal_channels ?? null,
      s.reports_channel !== undefined,
      s.alerts_channel !== undefined,
      s.report_weekday ?? null,
      s.report_time ?? null,
      s.report_time !== undefined,
      s.health_time ?? null,
      s.health_time !== undefined,
    ],
  );
  // Whatever failed before may work with the new settings (a channel the bot was not in, a
  // channel that changed): failed approval messages and scheduled posts are tried again now.
  await db.query('UPDATE approval_queue SET slack_retry_at = NULL WHERE tenant_id = $1 AND slack_retry_at IS NOT NULL', [tenantId]);
  await db.query(`DELETE FROM slack_posts WHERE tenant_id = $1 AND status IN ('retry', 'failed')`, [tenantId]);
  return rows[0] as SlackSettings;
}
