import { resolve } from 'node:path';
import { defaultScriptCommand, defaultSyntaxCommand, runChecks, type ChecksReport } from '../checks/checks.js';
import type { GateApprover } from '../checks/gate.js';
import { levqorApprover } from '../checks/levqor-approval.js';
import { COMMENT_MARKER, renderComment, renderJson, renderMarkdown } from '../checks/render.js';
import { lastLines } from '../checks/run.js';
import type { Db } from '../db/types.js';
import { runUrl, type ActionContext } from './context.js';
import { actionTenant, openActionDb } from './db.js';
import { createGitHubClient, upsertStickyComment } from './github.js';
import { boolInput, INPUT_DEFAULTS, INPUTS, InputError, numberInput } from './inputs.js';
import { parseApprovers, reviewApprover } from './reviews.js';
import type { Runner } from './runner.js';

/** The environment check commands see: the runner's, without the action's inputs (secrets among them). */
export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('INPUT_')));
}

async function gateApprover(runner: Runner, ctx: ActionContext, token: string, onDb: (db: Db) => void): Promise<GateApprover | undefined> {
  if (!ctx.pullRequest) return undefined;
  const url = runner.input(INPUTS.databaseUrl);
  if (url) {
    const db = await openActionDb(url);
    onDb(db);
    const tenant = await actionTenant(db, runner.input(INPUTS.tenant));
    return levqorApprover(db, tenant.id, `github:${ctx.pullRequest.author || ctx.actor || 'unknown'}`);
  }
  const allowed = parseApprovers(runner.input(INPUTS.allowedApprovers));
  if (allowed.length === 0) return undefined;
  if (!token) throw new InputError(INPUTS.githubToken, 'required with allowed-approvers (the gate reads the pull request reviews)');
  return reviewApprover(createGitHubClient(ctx.apiUrl, token), allowed, ctx.pullRequest.author);
}

function reportResults(runner: Runner, report: ChecksReport): void {
  for (const c of report.checks) {
    runner.info(
      `${c.status === 'pass' ? '✓' : '✗'} ${c.name}: ${c.status} in ${(c.durationMs / 1000).toFixed(1)} s${c.detail ? ` — ${c.detail}` : ''}`,
    );
  }
  for (const c of report.checks) {
    if (c.status === 'pass') continue;
    runner.info(`::group::${c.name} output (last 200 lines)`);
    for (const line of lastLines(c.output, 200)) runner.info(line);
    runner.info('::endgroup::');
  }
  for (const a of report.annotations) {
    const props = { file: a.file, line: a.line, col: a.col, title: a.source };
    if (a.severity === 'warning') runner.warning(a.message, props);
    else runner.error(a.message, props);
  }
}

/** `command: checks`: the guide's four checks, a summary table, annotations, outputs and the sticky PR comment. */
export async function checksCommand(runner: Runner, ctx: ActionContext, env: NodeJS.ProcessEnv): Promise<void> {
  const root = resolve(ctx.workspace, runner.input(INPUTS.workingDirectory) || '.');
  const frontendDir = resolve(root, runner.input(INPUTS.frontendDirectory) || '.');
  const timeout = numberInput(runner, INPUTS.checkTimeoutSeconds, Number(INPUT_DEFAULTS[INPUTS.checkTimeoutSeconds]));
  // The declared default (`npm run lint`, which a runner always passes) goes through the same
  // fallback as no input: in a repository that is not an npm project it fails naming the input.
  const spec = (commandInput: keyof typeof INPUT_DEFAULTS, timeoutInput: string, fallback: string) => ({
    command: [undefined, '', INPUT_DEFAULTS[commandInput]].includes(runner.input(commandInput)) ? fallback : runner.input(commandInput),
    timeoutSeconds: numberInput(runner, timeoutInput, timeout),
  });
  const token = runner.input(INPUTS.githubToken);
  const held: { db?: Db } = {};
  // A cancelled job signals this process; the checks run in process groups of their own: end them too.
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const approve = await gateApprover(runner, ctx, token, (d) => (held.db = d));
    const report = await runChecks({
      root,
      frontendDir,
      lint: spec(
        INPUTS.lintCommand,
        INPUTS.lintTimeoutSeconds,
        defaultScriptCommand(frontendDir, 'lint', `the ${INPUTS.lintCommand} input`),
      ),
      build: spec(
        INPUTS.buildCommand,
        INPUTS.buildTimeoutSeconds,
        defaultScriptCommand(frontendDir, 'build', `the ${INPUTS.buildCommand} input`),
      ),
      syntax: spec(
        INPUTS.syntaxCommand,
        INPUTS.syntaxTimeoutSeconds,
        defaultSyntaxCommand(root, runner.input(INPUTS.backendEntry) || undefined),
      ),
      gateTimeoutSeconds: numberInput(runner, INPUTS.gateTimeoutSeconds, Number(INPUT_DEFAULTS[INPUTS.gateTimeoutSeconds])),
      pullRequest: ctx.pullRequest,
      approve,
      parallel: boolInput(runner, INPUTS.parallel, true),
      env: commandEnv(env),
      signal: cancel.signal,
    });
    reportResults(runner, report);
    runner.setOutput('passed', `${report.passed}/${report.total}`);
    runner.setOutput('result', report.result);
    runner.setOutput('report', renderJson(report));
    runner.summary(renderMarkdown(report));
    if (token && ctx.pullRequest && boolInput(runner, INPUTS.comment, true)) {
      try {
        const gh = createGitHubClient(ctx.apiUrl, token);
        const c = await upsertStickyComment(gh, ctx.repository, ctx.pullRequest.number, COMMENT_MARKER, renderComment(report, runUrl(ctx)));
        runner.info(`${c.created ? 'created' : 'updated'} the pull-request comment ${c.id}`);
      } catch (err) {
        // A fork's read-only token cannot comment: the checks still decide the step.
        runner.warning(`could not write the pull-request comment: ${(err as Error).message}`);
      }
    }
    if (report.result !== 'pass') {
      const failed = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name} (${c.status})`);
      runner.fail(
        `${report.passed}/${report.total} checks passed; all ${report.total}/${report.total} must pass before deployment. Failed: ${failed.join(', ')}`,
      );
    } else runner.info(`${report.passed}/${report.total} checks passed`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await held.db?.close();
  }
}
