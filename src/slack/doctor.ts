import type { Queryable } from '../db/types.js';
import type { DoctorCheck } from '../health/doctor.js';
import { slackDeliveryStatus } from './queries.js';

/**
 * "The request is pending but nobody saw it in Slack": pending Class C requests of tenants
 * connected to Slack whose message is missing, failing (with Slack's reasons) or not posted
 * a minute after the request (no bot running?).
 */
export async function slackDeliveryCheck(db: Queryable, tenantId: string | undefined): Promise<DoctorCheck> {
  const r = await slackDeliveryStatus(db, tenantId);
  const check = 'posted to Slack';
  if (r.connected === 0)
    return {
      ok: true,
      check,
      detail: 'no tenant is connected to Slack (levqor slack configure): requests are seen in the API and CLI only',
    };
  const problems = [
    r.failing > 0
      ? `${r.failing} could not be posted: ${r.errors ?? '?'} (levqor slack show lists them; fix, then levqor slack configure)`
      : '',
    r.late > 0 ? `${r.late} not posted a minute after the request: is \`levqor bot\` running with SLACK_BOT_TOKEN?` : '',
  ].filter(Boolean);
  return problems.length
    ? { ok: false, check, detail: `of ${r.pending} pending Class C requests of Slack-connected tenants, ${problems.join('; ')}` }
    : { ok: true, check, detail: `${r.pending} pending Class C requests of Slack-connected tenants, none missing in Slack` };
}
