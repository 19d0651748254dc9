import type { Command } from 'commander';
import { addWebhook, WEBHOOK_EVENTS } from '../notify/webhooks.js';
import { deleteWebhook, deliveryLog, listWebhooks } from '../notify/webhook-queries.js';
import { AppError } from '../lib/errors.js';
import { secretStoreFromConfig } from '../secrets/from-config.js';
import { resolveTenant } from '../tenants/queries.js';
import { iso, printJson, printTable, withDb } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';
import { cliActor } from './workflows.js';

interface AddFlags {
  tenant?: string;
  name: string;
  url: string;
  secretName: string;
  events?: string;
  as?: string;
  json?: boolean;
}

/** `levqor webhooks …`: approval events to Microsoft Teams, Discord, PagerDuty or a team's own bot. */
export function registerWebhooks(program: Command, act: Act): void {
  const hooks = program
    .command('webhooks')
    .description('outbound approval webhooks: every approval event, HMAC-signed, retried with back-off');
  hooks
    .command('add')
    .description('send approval events to a URL (from now on), signed with a secret from levqor secret set')
    .requiredOption('--name <name>', 'what to call it')
    .requiredOption('--url <url>', 'where to POST (the http step SSRF guard applies: LEVQOR_HTTP_ALLOW for private addresses)')
    .requiredOption('--secret-name <NAME>', 'the secret whose value signs each body (X-Levqor-Signature: t=…,v1=HMAC-SHA256)')
    .option('--events <list>', `comma-separated event types (default: all): ${WEBHOOK_EVENTS.join(', ')}`)
    .option('--as <name>', 'who to record as adding it')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((flags: AddFlags) =>
        withDb(async ({ config, db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          const store = secretStoreFromConfig(config);
          const events = (flags.events ?? '')
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean);
          const row = await addWebhook(
            db,
            { tenantId: tenant.id, name: flags.name, url: flags.url, secretName: flags.secretName, events, actor: cliActor(flags.as) },
            async (name) => (await store.missing(db, tenant.id, [name])).length === 0,
          );
          if (flags.json) printJson(row);
          else
            console.log(
              `webhook ${row.name} → ${row.url}: ${row.events.length ? row.events.join(', ') : 'every'} approval event from now on`,
            );
          return 0;
        }),
      ),
    );
  hooks
    .command('list')
    .description("the tenant's webhooks")
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((flags: { tenant?: string; json?: boolean }) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          printTable(
            (await listWebhooks(db, tenant.id)).map((w) => ({
              name: w.name,
              url: w.url,
              secret: w.secret_name,
              events: w.events.join(',') || 'all',
              created: iso(w.created_at),
            })),
            flags.json,
            'no webhooks (levqor webhooks add)',
          );
          return 0;
        }),
      ),
    );
  hooks
    .command('rm <name>')
    .description('remove a webhook (and its delivery log)')
    .addOption(tenantOption())
    .action(
      act((name: string, flags: { tenant?: string }) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          if (!(await deleteWebhook(db, tenant.id, name))) throw new AppError('not_found', `tenant ${tenant.name} has no webhook ${name}`);
          console.log(`removed webhook ${name}`);
          return 0;
        }),
      ),
    );
  hooks
    .command('deliveries')
    .description('the delivery log, newest first')
    .option('--failing', 'only deliveries that failed (being retried or given up)')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((flags: { tenant?: string; failing?: boolean; json?: boolean }) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          printTable(
            (await deliveryLog(db, tenant.id, { failing: flags.failing, limit: 100 })).map((d) => ({
              id: d.id,
              webhook: d.webhook,
              event: `${d.event_type} #${d.event_id}`,
              status: d.status,
              tries: d.attempts,
              last: d.last_status ?? d.last_error ?? '',
              delivered: iso(d.delivered_at),
            })),
            flags.json,
            'no deliveries',
          );
          return 0;
        }),
      ),
    );
}
