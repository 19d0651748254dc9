import type { Queryable } from '../db/types.js';
import { collectWeeklyData, type WeeklyOptions } from './weekly-data.js';
import { renderWeeklyReport, weeklyReportJson } from './weekly-render.js';

export { collectWeeklyData, type WeeklyData } from './weekly-data.js';
export { renderWeeklyReport } from './weekly-render.js';

/**
 * The guide's generate_weekly_report(): a tenant's week (default: the last complete ISO week
 * in its time zone) as GitHub-flavoured markdown. Same data, same report.
 */
export async function generateWeeklyReport(db: Queryable, opts: { tenantId: string; week?: string; now?: number }): Promise<string> {
  return renderWeeklyReport(await collectWeeklyData(db, opts satisfies WeeklyOptions));
}

/** The same report as a JSON-ready object (`levqor report weekly --format json`). */
export async function generateWeeklyReportJson(db: Queryable, opts: WeeklyOptions): Promise<Record<string, unknown>> {
  return weeklyReportJson(await collectWeeklyData(db, opts));
}
