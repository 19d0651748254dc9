import type { Command } from 'commander';
import { assertPeopleExist } from '../approvals/deciders.js';
import { deleteRoute, listRoutes } from '../approvals/queries.js';
import { parseRoute, setRoute } from '../approvals/routes.js';
import { AppError } from '../lib/errors.js';
import { resolveTenant } from '../tenants/queries.js';
import { printJson, withDb } from './context.js';
import { type Act, jsonOption, tenantOption } from './options.js';
import { cliActor } from './workflows.js';

interface RouteFlags {
  tenant?: string;
  actionType: string;
  stage: string[];
  remindEvery?: string;
  remindAt?: string;
  as?: string;
}

/** `levqor approvals route …`: who is asked, in which order, and how often they are reminded. */
export function registerRoutes(approvals: Command, act: Act): void {
  const route = approvals
    .command('route')
    .description('escalation: stages of approvers that become eligible one after another, and reminders');
  route
    .command('set')
    .description('set the route for an action type (replaces it; requests already waiting keep theirs)')
    .option('--action-type <type>', 'the action type it applies to (* for any without its own)', '*')
    .requiredOption(
      '--stage <NAME=IDS[@WAIT]>',
      'a stage, in order (repeat): oncall=slack:U1,group:sre then manager=slack:U2@30m (eligible 30 min after the request)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--remind-every <duration>', 'a reminder (Slack thread + DM to each eligible approver) every so often, e.g. 30m, or off', 'off')
    .option('--remind-at <percent>', 'a reminder at this percent of the lifetime, or off', '80')
    .option('--as <name>', 'who to record as setting it')
    .addOption(tenantOption())
    .addOption(jsonOption(true))
    .action(
      act((flags: RouteFlags) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          const parsed = parseRoute(
            { actionType: flags.actionType, stages: flags.stage, remindEvery: flags.remindEvery, remindAt: flags.remindAt },
            cliActor(flags.as),
          );
          await assertPeopleExist(
            db,
            tenant.id,
            parsed.stages.flatMap((s) => s.approvers),
            'route',
          );
          printJson({ tenant: tenant.name, ...(await db.transaction((tx) => setRoute(tx, tenant.id, parsed))) });
          return 0;
        }),
      ),
    );
  route
    .command('show')
    .description("the tenant's routes as JSON")
    .addOption(tenantOption())
    .addOption(jsonOption(true))
    .action(
      act((flags: { tenant?: string }) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          printJson({ tenant: tenant.name, routes: await listRoutes(db, tenant.id) });
          return 0;
        }),
      ),
    );
  route
    .command('rm')
    .description('remove the route of an action type')
    .option('--action-type <type>', 'the action type (* for the catch-all)', '*')
    .addOption(tenantOption())
    .action(
      act((flags: { tenant?: string; actionType: string }) =>
        withDb(async ({ db }) => {
          const tenant = await resolveTenant(db, flags.tenant);
          if (!(await deleteRoute(db, tenant.id, flags.actionType)))
            throw new AppError(
              'not_found',
              `tenant ${tenant.name} has no route for action type ${flags.actionType} (levqor approvals route show)`,
            );
          console.log(`removed the route for ${flags.actionType}; requests already waiting keep theirs`);
          return 0;
        }),
      ),
    );
}
