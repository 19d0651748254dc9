import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config.js';
import { requireBotCredentials } from '../slack/env.js';
import { getSlackSettings, slackFailures } from '../slack/queries.js';
import { setSlackSettings } from '../slack/settings.js';
import { listTenants, resolveTenant } from '../tenants/queries.js';
import { cliConfig, iso, printJson, printTable, withDb } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';

interface ConfigureFlags {
  tenant?: string;
  team: string;
  approvalsChannel: string;
  reportsChannel?: string;
  alertsChannel?: string;
  internalChannels?: string;
  reportDay?: number;
  reportTime?: string;
  healthTime?: string;
  json?: boolean;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function weekday(value: string): number {
  const i = WEEKDAYS.indexOf(value.trim().toLowerCase().slice(0, 3));
  const n = i >= 0 ? i + 1 : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 7) throw new InvalidArgumentError('--report-day must be mon … sun (or 1 = Monday … 7 = Sunday)');
  return n;
}

/** "off" switches a scheduled post off; any other value is checked as HH:MM by the settings. */
const timeOrOff = (v: string | undefined) => (v === undefined ? undefined : v.trim().toLowerCase() === 'off' ? null : v.trim());

/** `levqor slack configure`: connects a tenant to a workspace and its channels. */
async function slackConfigure(flags: ConfigureFlags): Promise<number> {
  return withDb(async ({ db }) => {
    const tenant = await resolveTenant(db, flags.tenant);
    const s = await setSlackSettings(db, tenant.id, {
      team_id: flags.team,
      approvals_channel: flags.approvalsChannel,
      reports_channel: flags.reportsChannel === undefined ? undefined : flags.reportsChannel || null,
      alerts_channel: flags.alertsChannel === undefined ? undefined : flags.alertsChannel || null,
      internal_channels:
        flags.internalChannels === undefined
          ? undefined
          : flags.internalChannels
              .split(',')
              .map((c) => c.trim())
              .filter(Boolean),
      report_weekday: flags.reportDay,
      report_time: timeOrOff(flags.reportTime),
      health_time: timeOrOff(flags.healthTime),
    });
    if (flags.json) printJson({ tenant: tenant.name, ...s });
    else console.log(`tenant ${tenant.name} is connected to Slack workspace ${s.team_id}; approvals go to ${s.approvals_channel}`);
    return 0;
  });
}

/**
 * `levqor slack show`: each connected tenant's workspace and channels, whether the bot has its
 * credentials, and the Slack posts that are failing (with Slack's reason and the next try).
 */
async function slackShow(opts: { tenant?: string; json?: boolean }): Promise<number> {
  return withDb(async ({ config, db }) => {
    const tenants = opts.tenant ? [await resolveTenant(db, opts.tenant)] : await listTenants(db);
    const failures = await slackFailures(
      db,
      tenants.map((t) => t.id),
    );
    const rows = [];
    for (const t of tenants) {
      const s = await getSlackSettings(db, t.id);
      if (s || opts.tenant) {
        const failing = failures
          .filter((f) => f.tenant_id === t.id)
          .map(({ tenant_id: _, ...f }) => ({ ...f, retry_at: f.retry_at === null ? null : iso(f.retry_at) }));
        rows.push({
          tenant: t.name,
          team: s?.team_id ?? '(not connected)',
          approvals_channel: s?.approvals_channel ?? '-',
          reports_channel: s?.reports_channel ?? '-',
          alerts_channel: s?.alerts_channel ?? '-',
          internal_channels: s?.internal_channels.join(',') || '-',
          weekly_report: s ? (s.report_time ? `${WEEKDAYS[s.report_weekday - 1] ?? '?'} ${s.report_time}` : 'off') : '-',
          health_summary: s ? (s.health_time ?? 'off') : '-',
          updated: iso(s?.updated_at ?? null),
          ...(opts.json ? { failing } : { failing: failing.length }),
        });
      }
    }
    printTable(rows, opts.json, 'no tenant is connected to Slack: levqor slack configure --tenant NAME --team T… --approvals-channel C…');
    if (!opts.json) {
      if (failures.length > 0) {
        const name = new Map(tenants.map((t) => [t.id, t.name]));
        console.log('\nfailing Slack posts (fix the channel or the token, then `levqor slack configure` to try them again at once):');
        printTable(
          failures.map((f) => ({
            tenant: name.get(f.tenant_id) ?? f.tenant_id,
            post: f.post,
            channel: f.channel,
            error: f.error,
            attempts: f.attempts,
            next_try: f.retry_at === null ? 'after levqor slack configure' : iso(f.retry_at),
          })),
          false,
        );
      }
      console.log(
        `bot credentials: SLACK_SIGNING_SECRET ${config.SLACK_SIGNING_SECRET ? 'set' : 'missing'}, SLACK_BOT_TOKEN ${config.SLACK_BOT_TOKEN ? 'set' : 'missing'}; Slack API ${config.SLACK_API_URL}${config.SLACK_APP_TOKEN ? '; Socket Mode (SLACK_APP_TOKEN)' : ''}`,
      );
    }
    return 0;
  });
}

interface BotFlags {
  port?: number;
  host?: string;
  run?: boolean;
}

/** `levqor bot`: checks the credentials, then loads the bot bundle (lib/bot.js) only now. */
async function botCommand(flags: BotFlags): Promise<number> {
  const config = cliConfig();
  requireBotCredentials(config);
  // A runtime path, so the CLI bundle stays free of Bolt: lib/bot.js sits next to lib/cli.js.
  const url = new URL('./bot.js', import.meta.url).href;
  const mod = (await import(url)) as { runBot(config: Config, flags: BotFlags): Promise<number> };
  return mod.runBot(config, flags);
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be 0–65535');
  return n;
}

/** Registers `levqor bot` and `levqor slack configure|show`. */
export function registerSlack(program: Command, act: Act): void {
  program
    .command('bot')
    .description('the Slack app: approval requests with buttons, /levqor commands (needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN)')
    .option('--port <port>', 'port for Slack requests (LEVQOR_BOT_PORT, default 3000)', port)
    .option('--host <host>', 'address to listen on (LEVQOR_BOT_HOST, default 0.0.0.0)')
    .option('--no-run', 'only record decisions; a running scheduler executes approved steps')
    .action(act((opts: { port?: number; host?: string; run?: boolean }) => botCommand(opts)));
  const slack = program.command('slack').description("a tenant's Slack workspace and channels");
  slack
    .command('configure')
    .description('connect a tenant to a Slack workspace (unset optional flags keep their value; pass "" to clear a channel)')
    .requiredOption(
      '--team <id>',
      'the Slack workspace id (T…; E… for an org-wide Enterprise Grid install): Slack → workspace menu → Settings, or the URL of app.slack.com/client/T…',
    )
    .requiredOption('--approvals-channel <id>', 'channel id (C…) where Class C requests are posted')
    .option('--reports-channel <id>', 'channel id for the weekly report and daily health summary')
    .option('--alerts-channel <id>', 'channel id for alerts')
    .option('--internal-channels <list>', 'comma-separated channel ids where a slack_message step is only Class B')
    .option('--report-day <day>', 'weekday of the weekly report (default mon)', weekday)
    .option('--report-time <HH:MM|off>', "local time (tenant's time zone) of the weekly report (default 09:00)")
    .option('--health-time <HH:MM|off>', 'local time of the daily health summary (default 09:00)')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: ConfigureFlags) => slackConfigure(opts)));
  slack
    .command('show')
    .description('the Slack settings of every connected tenant (or of --tenant)')
    .addOption(tenantOption('every connected tenant'))
    .addOption(jsonOption())
    .action(act((opts: { tenant?: string; json?: boolean }) => slackShow(opts)));
}
