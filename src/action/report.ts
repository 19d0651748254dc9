import * as core from '@actions/core';
import { loadConfig } from '../config.js';
import { generateWeeklyReport } from '../reports/weekly.js';
import { actionTenant, openActionDb } from './db.js';
import { input, inputError, INPUTS, output, requiredInput } from './inputs.js';
import { runnerEnv } from './runner-env.js';
import { writeSummary } from './summary.js';

/** `command: report`: the weekly report (generateWeeklyReport) into the job summary and the `markdown` output. */
export async function reportCommand(): Promise<void> {
  const url = requiredInput(INPUTS.databaseUrl, 'for command: report');
  const week = input(INPUTS.week);
  if (week && !/^\d{4}-W\d{2}$/.test(week)) throw inputError(INPUTS.week, `must be an ISO week like 2026-W05 (got "${week}")`);
  const tenantName = input(INPUTS.tenant) || loadConfig({ ...runnerEnv(), DATABASE_URL: url }).LEVQOR_TENANT || '';
  const db = await openActionDb(url);
  try {
    const tenant = await actionTenant(db, tenantName);
    const markdown = await generateWeeklyReport(db, { tenantId: tenant.id, ...(week ? { week } : {}) });
    output('markdown', markdown);
    // The report is markdown already: the summary renders it as such.
    core.summary.addRaw(markdown, true);
    await writeSummary();
    core.info(`weekly report for ${tenant.name}${week ? ` (${week})` : ''}: ${markdown.split('\n').length} lines in the job summary`);
  } finally {
    await db.close();
  }
}
