import { generateWeeklyReport } from '../reports/weekly.js';
import { actionTenant, openActionDb } from './db.js';
import { INPUTS, InputError, requiredInput } from './inputs.js';
import type { Runner } from './runner.js';

/** `command: report`: the weekly report (generateWeeklyReport) into the job summary and the `markdown` output. */
export async function reportCommand(runner: Runner, env: NodeJS.ProcessEnv): Promise<void> {
  const url = requiredInput(runner, INPUTS.databaseUrl, 'for command: report');
  const week = runner.input(INPUTS.week);
  if (week && !/^\d{4}-W\d{2}$/.test(week)) throw new InputError(INPUTS.week, `must be an ISO week like 2026-W05 (got "${week}")`);
  const db = await openActionDb(url);
  try {
    const tenant = await actionTenant(db, runner.input(INPUTS.tenant) || env.LEVQOR_TENANT || '');
    const markdown = await generateWeeklyReport(db, { tenantId: tenant.id, ...(week ? { week } : {}) });
    runner.setOutput('markdown', markdown);
    runner.summary(markdown);
    runner.info(`weekly report for ${tenant.name}${week ? ` (${week})` : ''}: ${markdown.split('\n').length} lines in the job summary`);
  } finally {
    await db.close();
  }
}
