import * as core from '@actions/core';
import { loadConfig } from '../config.js';
import { createSchedulerDeps } from '../runtime.js';
import { runOnce } from '../scheduler/loop.js';
import { openActionDb } from './db.js';
import { INPUTS, output, requiredInput } from './inputs.js';
import { createActionLogger } from './log.js';
import { runnerEnv } from './runner-env.js';
import { writeSummary } from './summary.js';

/**
 * `command: scheduler`: one scheduler tick against `database-url`, the same as
 * `levqor scheduler --once` (the guide's cron mode, on a GitHub schedule). LEVQOR_* variables
 * on the step configure it as they configure the CLI.
 */
export async function schedulerCommand(): Promise<void> {
  const url = requiredInput(INPUTS.databaseUrl, 'for command: scheduler');
  const config = loadConfig({ ...runnerEnv(), DATABASE_URL: url });
  const db = await openActionDb(url);
  const log = createActionLogger(config.LEVQOR_LOG_LEVEL);
  const stopClaiming = new AbortController();
  const abortRuns = new AbortController();
  // A cancelled job gets SIGINT, then SIGTERM: stop claiming, then hand runs in flight back.
  const onSignal = () => (stopClaiming.signal.aborted ? abortRuns.abort(new Error('job cancelled')) : stopClaiming.abort());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deps = createSchedulerDeps(config, db, log, { stopClaiming: stopClaiming.signal, abortRuns: abortRuns.signal });
  try {
    const summary = await runOnce(deps);
    const failed = summary.failed > 0;
    output('result', failed ? 'fail' : 'pass');
    output('report', JSON.stringify(summary));
    core.summary.addHeading(`${failed ? '❌' : '✅'} Levqor scheduler tick`, 3).addTable([
      [
        { data: '', header: true },
        { data: 'runs', header: true },
      ],
      ...Object.entries(summary).map(([k, v]) => [k.replace(/_/g, ' '), String(v)]),
    ]);
    await writeSummary();
    if (failed) core.setFailed(`${summary.failed} run(s) failed (levqor runs list --status failed shows them)`);
    else
      core.info(
        `scheduler tick done: ${summary.claimed} run(s) started, ${summary.succeeded} succeeded, ${summary.waiting_approval} waiting for approval`,
      );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    deps.services.mailer?.close();
    await db.close();
  }
}
