#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { approvalsDecide, approvalsList, approvalsShow } from './cli/approvals.js';
import { policySet, policyShow, tokenCreate, tokenList, tokenRevoke, type PolicyFlags } from './cli/admin.js';
import { cliConfig, withDb } from './cli/context.js';
import { applyTenantDefault, jsonOption, tenantOption } from './cli/options.js';
import { cleanupCommand, doctorApprovals, healthCommand, type CleanupFlags } from './cli/health.js';
import type { ServeFlags } from './cli/serve.js';
import { SCOPES } from './auth/tokens.js';
import { schedulerCommand } from './cli/scheduler.js';
import { registerSlack } from './cli/slack.js';
import { registerGitHub } from './cli/github.js';
import { doctorSecrets, registerSecrets } from './cli/secrets.js';
import { registerRoutes } from './cli/routes.js';
import { registerWebhooks } from './cli/webhooks.js';
import { registerChecks } from './cli/checks.js';
import { registerReports } from './cli/reports.js';
import { registerConfig } from './cli/config.js';
import { registerAlerts } from './cli/alerts.js';
import { registerPeople } from './cli/people.js';
import { doctorWorkflow, runsList, runsShow, runWorkflow, tenantCreate, tenantList, workflowApply, workflowList } from './cli/workflows.js';
import { describeDb } from './lib/describe-db.js';
import { applyMigrations } from './maintenance/migrations.js';
import { AppError, type ErrorCode } from './lib/errors.js';

/** Exit codes: 0 ok, 1 failed, 2 bad usage or bad input. */
const EXIT: Partial<Record<ErrorCode, number>> = { bad_input: 2, config: 2 };

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return n;
  };
}

function positiveNumberOf(unit: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number of ${unit}`);
    return n;
  };
}
const positiveNumber = positiveNumberOf('seconds');
const positiveDays = positiveNumberOf('days');

/** Builds the `levqor` command tree; each action resolves to an exit code. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('levqor')
    .description('Levqor: scheduled workflows, human approval for critical actions, health and CI safety checks.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Set before subcommands exist: commander copies these settings to each subcommand when it is created.
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    // --tenant defaults to LEVQOR_TENANT from the configuration, for every command that has it.
    .hook('preAction', (_program, command) => applyTenantDefault(command, cliConfig));
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      setExit(await fn(...args));

  program
    .command('migrate')
    .description('apply pending database migrations (every command also does this first)')
    .action(
      act(async () => {
        const config = cliConfig();
        return withDb(
          async ({ db }) => {
            const result = await applyMigrations(db);
            console.log(
              `${describeDb(config, db)}: schema at migration ${result.current}${result.applied.length ? ` (applied ${result.applied.join(', ')})` : ' (up to date)'}`,
            );
            return 0;
          },
          { migrate: false },
        );
      }),
    );

  program
    .command('scheduler')
    .description('run due workflows: once (--once, for cron) or in a loop (every 60 s by default)')
    .option('--once', 'run every due workflow once and exit (0 when all succeeded, 1 when any failed)')
    .option('--interval <seconds>', 'longest wait between checks in loop mode (LEVQOR_SCHEDULER_INTERVAL_SECONDS)', positiveNumber)
    .option('--batch-size <n>', 'due workflows claimed per transaction', positiveInt('--batch-size'))
    .option('--concurrency <n>', 'runs executed at once', positiveInt('--concurrency'))
    .action(act((opts: { once?: boolean; interval?: number; batchSize?: number; concurrency?: number }) => schedulerCommand(opts)));

  const serveOptions = (cmd: Command) =>
    cmd
      .option('--host <host>', 'address to listen on (HOST, default 127.0.0.1)')
      .option('--port <port>', 'port (PORT, default 8000)', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be 0–65535');
        return n;
      })
      .option('--no-scheduler', 'do not run the scheduler loop in this process')
      .option('--no-expiry', 'do not run the approval expiry sweep (when the scheduler is off)')
      .option('--interval <seconds>', 'longest wait between scheduler checks', positiveNumber);
  serveOptions(
    program.command('serve').description('the REST API (approvals, actions, workflows, runs, audit), with the scheduler loop'),
  ).action(act(async (opts: ServeFlags) => (await import('./cli/serve.js')).serveCommand(opts)));
  serveOptions(
    program
      .command('start')
      .description('what `npm start` runs: `levqor serve`, creating a demo tenant, workflows and API token on first start'),
  )
    .addOption(
      new Option(
        '--demo-history <weeks>',
        'weeks of demo history to add on first start (0: none; default: LEVQOR_DEMO_HISTORY, 8)',
      ).argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 52) throw new InvalidArgumentError('--demo-history must be 0–52 weeks');
        return n;
      }),
    )
    .action(act(async (opts: ServeFlags) => (await import('./cli/serve.js')).serveCommand({ ...opts, demo: true })));

  const tokens = program.command('token').description('API tokens (tenant-scoped, stored hashed)');
  tokens
    .command('create')
    .description('create a token; it is printed once')
    .requiredOption('--name <name>', 'token name; decisions made with it are recorded as token:NAME')
    .option('--scopes <list>', `comma-separated scopes (default: all): ${SCOPES.join(', ')}`)
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { name: string; scopes?: string; tenant?: string; json?: boolean }) => tokenCreate(opts)));
  tokens
    .command('revoke')
    .description('revoke a token')
    .requiredOption('--name <name>', 'token name')
    .addOption(tenantOption())
    .action(act((opts: { name: string; tenant?: string }) => tokenRevoke(opts)));
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { tenant?: string; json?: boolean }) => tokenList(opts)));

  const tenants = program.command('tenant').description('manage tenants');
  tenants
    .command('create <name>')
    .description('create a tenant')
    .option('--timezone <tz>', 'IANA time zone for reports', 'UTC')
    .addOption(jsonOption())
    .action(act((name: string, opts: { timezone?: string; json?: boolean }) => tenantCreate(name, opts)));
  tenants
    .command('list')
    .description('list tenants')
    .addOption(jsonOption())
    .action(act((opts: { json?: boolean }) => tenantList(opts)));

  const workflows = program.command('workflow').description('define and inspect workflows');
  workflows
    .command('apply')
    .description('create or update workflows from a YAML or JSON file (one, a list, or several documents); invalid files write nothing')
    .requiredOption('-f, --file <path>', 'workflow file, or - for standard input')
    .option('--dry-run', 'validate only')
    .option('--as <name>', 'who to record as defining it (approvals for its runs are requested in that name)')
    .option('--allow-inline-credentials', 'accept a literal credential in a header or URL (recorded in audit_log); prefer {{secrets.NAME}}')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((opts: { file: string; dryRun?: boolean; as?: string; allowInlineCredentials?: boolean; tenant?: string; json?: boolean }) =>
        workflowApply(opts),
      ),
    );
  workflows
    .command('list')
    .description('list workflows with their schedules')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { tenant?: string; json?: boolean }) => workflowList(opts)));

  program
    .command('run <workflow>')
    .description('run a workflow now, outside its schedule (exit 1 when the run fails)')
    .option('--enqueue', 'queue it for a running scheduler instead of running it here')
    .option('--as <name>', 'who to record as starting it')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((name: string, opts: { enqueue?: boolean; as?: string; tenant?: string; json?: boolean }) => runWorkflow(name, opts)));

  const runs = program.command('runs').description('inspect workflow runs');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('-w, --workflow <name>', 'only this workflow')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'queued',
        'running',
        'waiting_approval',
        'succeeded',
        'failed',
        'rejected',
        'expired',
        'cancelled',
      ]),
    )
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { workflow?: string; status?: string; limit?: number; tenant?: string; json?: boolean }) => runsList(opts)));
  runs
    .command('show <id>')
    .description('a run and its events')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((id: string, opts: { tenant?: string; json?: boolean }) => runsShow(id, opts)));

  const approvals = program.command('approvals').description('the approval queue for Class C actions');
  approvals
    .command('list')
    .description('requests (pending by default)')
    .addOption(new Option('--status <status>', 'which requests').choices(['pending', 'approved', 'rejected', 'expired']).default('pending'))
    .option('--limit <n>', 'how many', positiveInt('--limit'), 50)
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(act((opts: { status?: string; limit?: number; tenant?: string; json?: boolean }) => approvalsList(opts)));
  approvals
    .command('show <id>')
    .description('one request as a JSON object')
    .addOption(tenantOption())
    .addOption(jsonOption(true))
    .action(act((id: string, opts: { tenant?: string }) => approvalsShow(id, opts)));
  approvals
    .command('approve <ids...>')
    .description('approve one request or several (each its own vote); held steps then run here, exactly once')
    .option('--reason <text>', 'why (optional, up to 500 characters; one reason for all)')
    .option('--as <name>', 'who is deciding (default: your user name)')
    .option('--no-run', 'only record the decision; a scheduler runs the step')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((ids: string[], opts: { reason?: string; as?: string; run?: boolean; tenant?: string; json?: boolean }) =>
        approvalsDecide('approve', ids, opts),
      ),
    );
  approvals
    .command('reject <ids...>')
    .description('reject one request or several with one reason; their runs end as rejected')
    .requiredOption('--reason <text>', 'why (1–500 characters)')
    .option('--as <name>', 'who is deciding (default: your user name)')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((ids: string[], opts: { reason: string; as?: string; tenant?: string; json?: boolean }) => approvalsDecide('reject', ids, opts)),
    );

  registerRoutes(approvals, act);
  const policy = approvals.command('policy').description("the tenant's approval rules");
  policy
    .command('set')
    .description('who may approve, quorum, self-approval and expiry (unset flags keep their value)')
    .option(
      '--approvers <list>',
      'identities or groups, e.g. token:ops,slack:U0123,github:octocat,group:oncall (empty: anyone with approvals:decide)',
    )
    .option('--group <name=members>', 'define a group, e.g. oncall=slack:U1,github:bob (repeatable)', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--required <n>', 'approvals needed from distinct approvers (N of M)', positiveInt('--required'))
    .option('--allow-self-approval', 'let a requester decide its own request')
    .option('--no-allow-self-approval', 'refuse self-approval (the default)')
    .option('--ttl-hours <hours>', 'how long a request waits before it expires', positiveNumberOf('hours'))
    .option('--as <name>', 'who is changing the policy')
    .addOption(tenantOption())
    .addOption(jsonOption(true))
    .action(act((opts: PolicyFlags) => policySet(opts)));
  policy
    .command('show')
    .description('print the rules as a JSON object')
    .addOption(tenantOption())
    .addOption(jsonOption(true))
    .action(act((opts: { tenant?: string }) => policyShow(opts)));

  program
    .command('doctor <workflow>')
    .description(
      'why is a workflow not running? the guide checklist for one workflow; `doctor approvals` explains an empty approval queue; ' +
        '`doctor secrets` lists workflows and pending approvals that still carry inline credentials',
    )
    .option('--url <url>', 'for `doctor approvals`: the API to probe (default http://HOST:PORT)')
    .addOption(tenantOption())
    .addOption(jsonOption())
    .action(
      act((name: string, opts: { tenant?: string; json?: boolean; url?: string }) =>
        name === 'approvals' ? doctorApprovals(opts) : name === 'secrets' ? doctorSecrets(opts) : doctorWorkflow(name, opts),
      ),
    );

  program
    .command('health')
    .description('the health summary (same as GET /api/health/summary); exit 1 unless ok')
    .addOption(jsonOption())
    .action(act((opts: { json?: boolean }) => healthCommand(opts)));

  program
    .command('cleanup')
    .description("the guide's retention: runs and events older than 90 days, processed approvals older than 30 days, in batches")
    .option('--dry-run', 'only count what would be deleted')
    .option('--archive <dir>', 'write each deleted row to DIR/<table>.jsonl first')
    .option('--runs-days <n>', 'keep runs this many days', positiveDays)
    .option('--events-days <n>', 'keep events this many days', positiveDays)
    .option('--approvals-days <n>', 'keep processed approvals this many days', positiveDays)
    .option('--batch-size <n>', 'rows per transaction', positiveInt('--batch-size'))
    .addOption(jsonOption())
    .action(act((opts: CleanupFlags) => cleanupCommand(opts)));
  registerSlack(program, act);
  registerGitHub(program, act);
  registerWebhooks(program, act);
  registerSecrets(program, act);
  registerChecks(program, act);
  registerReports(program, act);
  registerConfig(program, act);
  registerAlerts(program, act);
  registerPeople(program, act);

  return program;
}

async function main(): Promise<void> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode === 0 ? 0 : 2;
    } else if (err instanceof AppError) {
      process.stderr.write(`levqor: ${err.message}\n`);
      code = EXIT[err.code] ?? 1;
    } else {
      process.stderr.write(`levqor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      code = 1;
    }
  }
  process.exitCode = code;
  // A connection attempt to a hung server may linger after the answer is out: do not wait for it.
  setTimeout(() => process.exit(code), 250).unref();
}

await main();
