import * as core from '@actions/core';
import { resolve } from 'node:path';
import { defaultScriptCommand, defaultSyntaxCommand, runChecks, type ChecksReport } from '../checks/checks.js';
import type { GateApprover } from '../checks/gate.js';
import { levqorApprover } from '../checks/levqor-approval.js';
import { COMMENT_MARKER, renderComment, renderJson } from '../checks/render.js';
import { lastLines } from '../checks/run.js';
import type { Db } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { apiGateApprover } from './approval-client.js';
import { runUrl, type ActionContext } from './context.js';
import { actionTenant, openActionDb } from './db.js';
import { createGitHubClient, upsertStickyComment } from './github.js';
import { apiCredential, boolInput, input, INPUT_DEFAULTS, inputError, INPUTS, numberInput, output, type InputName } from './inputs.js';
import { parseApprovers, reviewApprover } from './reviews.js';
import { runnerEnv } from './runner-env.js';
import { addChecksSummary, writeSummary } from './summary.js';

/** The environment check commands see: the runner's, without the action's inputs (secrets among them). */
function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('INPUT_')));
}

/** The GitHub client of this run: retries and rate-limit waits become warnings on the run. */
function githubClient(ctx: ActionContext, token: string) {
  return createGitHubClient({ apiUrl: ctx.apiUrl, token, warn: (message) => core.warning(message) });
}

async function gateApprover(ctx: ActionContext, token: string, onDb: (db: Db) => void): Promise<GateApprover | undefined> {
  if (!ctx.pullRequest) return undefined;
  const url = input(INPUTS.databaseUrl);
  if (url) {
    const db = await openActionDb(url);
    onDb(db);
    const tenant = await actionTenant(db, input(INPUTS.tenant));
    return levqorApprover(db, tenant.id, `github:${ctx.pullRequest.author || ctx.actor || 'unknown'}`);
  }
  const apiUrl = input(INPUTS.apiUrl);
  if (apiUrl) return apiGateApprover(apiUrl, await apiCredential());
  const allowed = parseApprovers(input(INPUTS.allowedApprovers));
  if (allowed.length === 0) return undefined;
  if (!token) throw inputError(INPUTS.githubToken, 'required with allowed-approvers (the gate reads the pull request reviews)');
  return reviewApprover(githubClient(ctx, token), allowed, ctx.pullRequest.author);
}

function reportResults(report: ChecksReport): void {
  for (const c of report.checks) {
    core.info(
      `${c.status === 'pass' ? '✓' : '✗'} ${c.name}: ${c.status} in ${(c.durationMs / 1000).toFixed(1)} s${c.detail ? ` — ${c.detail}` : ''}`,
    );
  }
  for (const c of report.checks) {
    if (c.status === 'pass') continue;
    core.startGroup(`${c.name} output (last 200 lines)`);
    for (const line of lastLines(c.output, 200)) core.info(line);
    core.endGroup();
  }
  for (const w of report.gate?.warnings ?? []) core.warning(w, { title: 'Safety Gate' });
  for (const a of report.annotations) {
    const props = { file: a.file, startLine: a.line, startColumn: a.col, title: a.source };
    if (a.severity === 'warning') core.warning(a.message, props);
    else core.error(a.message, props);
  }
}

/** A check command input: the declared default (`npm run lint`, which a runner always passes) goes through the same fallback as no input. */
function commandInput(name: InputName, timeoutName: InputName, fallback: string, timeout: number) {
  const given = input(name);
  return {
    command: given === '' || given === INPUT_DEFAULTS[name] ? fallback : given,
    timeoutSeconds: numberInput(timeoutName, timeout),
  };
}

/** `command: checks`: the guide's four checks, a summary table, annotations, outputs and the sticky PR comment. */
export async function checksCommand(ctx: ActionContext): Promise<void> {
  const root = resolve(ctx.workspace, input(INPUTS.workingDirectory) || '.');
  const frontendDir = resolve(root, input(INPUTS.frontendDirectory) || '.');
  const timeout = numberInput(INPUTS.checkTimeoutSeconds, Number(INPUT_DEFAULTS[INPUTS.checkTimeoutSeconds]));
  // In a repository that is not an npm project the default lint and build fail naming the input to set.
  const lint = commandInput(
    INPUTS.lintCommand,
    INPUTS.lintTimeoutSeconds,
    defaultScriptCommand(frontendDir, 'lint', `the ${INPUTS.lintCommand} input`),
    timeout,
  );
  const build = commandInput(
    INPUTS.buildCommand,
    INPUTS.buildTimeoutSeconds,
    defaultScriptCommand(frontendDir, 'build', `the ${INPUTS.buildCommand} input`),
    timeout,
  );
  const syntax = commandInput(
    INPUTS.syntaxCommand,
    INPUTS.syntaxTimeoutSeconds,
    defaultSyntaxCommand(root, input(INPUTS.backendEntry) || undefined),
    timeout,
  );
  const gateTimeoutSeconds = numberInput(INPUTS.gateTimeoutSeconds, Number(INPUT_DEFAULTS[INPUTS.gateTimeoutSeconds]));
  const parallel = boolInput(INPUTS.parallel, true);
  const strict = boolInput(INPUTS.strict, false);
  const comment = boolInput(INPUTS.comment, true);
  const token = input(INPUTS.githubToken);
  const held: { db?: Db } = {};
  // A cancelled job signals this process; the checks run in process groups of their own: end them too.
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const approve = await gateApprover(ctx, token, (d) => (held.db = d));
    const report = await runChecks({
      root,
      frontendDir,
      lint,
      build,
      syntax,
      gateTimeoutSeconds,
      pullRequest: ctx.pullRequest,
      approve,
      strict,
      parallel,
      env: commandEnv(runnerEnv()),
      signal: cancel.signal,
    });
    reportResults(report);
    output('passed', `${report.passed}/${report.total}`);
    output('result', report.result);
    output('report', renderJson(report));
    addChecksSummary(report);
    await writeSummary();
    if (token && ctx.pullRequest && comment) {
      try {
        const gh = githubClient(ctx, token);
        const c = await upsertStickyComment(gh, ctx.repository, ctx.pullRequest.number, COMMENT_MARKER, renderComment(report, runUrl(ctx)));
        core.info(`${c.created ? 'created' : 'updated'} the pull-request comment ${c.id}`);
      } catch (err) {
        // A fork's read-only token cannot comment: the checks still decide the step.
        core.warning(`could not write the pull-request comment: ${errorMessage(err)}`);
      }
    }
    if (report.result !== 'pass') {
      const failed = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name} (${c.status})`);
      core.setFailed(
        `${report.passed}/${report.total} checks passed; all ${report.total}/${report.total} must pass before deployment. Failed: ${failed.join(', ')}`,
      );
    } else core.info(`${report.passed}/${report.total} checks passed`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await held.db?.close();
  }
}
