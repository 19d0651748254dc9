import type { Db } from '../../db/types.js';
import type { RunNowDeps } from '../../scheduler/manual.js';
import { findTenant, listTenants, type TenantRow } from '../../tenants/queries.js';
import { AppError } from '../../lib/errors.js';
import { dbNow } from '../../workflows/queries.js';
import { formatIsoWeek, isoWeekOfDate, localDate } from '../week.js';
import { parkingDeps, proposeCampaign, type CampaignProposal } from './campaigns.js';
import { activeCounts, EPOCH_MONDAY, featureUse, retentionCohorts, userFunnel } from './queries.js';
import { cohortTable, marketingRecommendations, type Engagement, type MarketingRecommendation } from './rules.js';

const WEEK = 7 * 86_400;
const COHORT_WEEKS = 6;

interface MarketingOptions {
  /** One tenant (default: every tenant, each analysed on its own). */
  tenantId?: string;
  /** Epoch seconds (default: the database's clock). */
  now?: number;
  /** Deps for starting campaign runs (default: deps that only park them for approval). */
  runDeps?: RunNowDeps;
  /** Most recipients of one campaign (default 500). */
  maxAudience?: number;
  /** Analyse and recommend only; propose nothing. */
  dryRun?: boolean;
}

export interface TenantMarketing extends Engagement {
  recommendations: MarketingRecommendation[];
  proposals: CampaignProposal[];
}

export interface MarketingResult {
  now: number;
  tenants: TenantMarketing[];
  /** Tenants active this week, and those whose activity halved (churn risk). */
  summary: { tenants: number; active_tenants: number; churn_risk: string[]; proposals: number };
}

const weekLabel = (week: number) => formatIsoWeek(isoWeekOfDate((EPOCH_MONDAY + week * WEEK) * 1000));

/** Reads one tenant's engagement with SQL aggregates. */
async function analyseEngagement(db: Db, tenant: TenantRow, now: number, maxAudience: number): Promise<Engagement> {
  const current = Math.floor((now - EPOCH_MONDAY) / WEEK);
  return {
    tenant: tenant.name,
    week: formatIsoWeek(isoWeekOfDate(Date.parse(`${localDate(now, tenant.timezone)}T00:00:00Z`))),
    active: await activeCounts(db, tenant.id, now),
    funnel: await userFunnel(db, tenant.id, now, maxAudience),
    cohorts: cohortTable(await retentionCohorts(db, tenant.id, now, COHORT_WEEKS), current, weekLabel),
    features: await featureUse(db, tenant.id),
  };
}

/**
 * The guide's run_marketing_cycle(): analyses each tenant's engagement (DAU/WAU/MAU,
 * activation, weekly retention cohorts, churn risk, feature adoption), applies explicit
 * rules, and proposes each campaign a rule calls for as a Class C e-mail waiting in the
 * approval queue — once per tenant, campaign and week.
 */
export async function runMarketingCycle(db: Db, opts: MarketingOptions = {}): Promise<MarketingResult> {
  let tenants: TenantRow[];
  if (opts.tenantId) {
    const t = await findTenant(db, opts.tenantId);
    if (!t) throw new AppError('not_found', `tenant ${opts.tenantId} not found`);
    tenants = [t];
  } else {
    tenants = await listTenants(db);
  }
  const now = opts.now ?? (await dbNow(db));
  const deps = opts.runDeps ?? parkingDeps(db);
  const results: TenantMarketing[] = [];
  for (const tenant of tenants) {
    const engagement = await analyseEngagement(db, tenant, now, opts.maxAudience ?? 500);
    const recommendations = marketingRecommendations(engagement);
    const proposals: CampaignProposal[] = [];
    if (!opts.dryRun) {
      for (const rec of recommendations) {
        const p = await proposeCampaign(db, deps, tenant.id, engagement.week, rec);
        if (p) proposals.push(p);
      }
    }
    results.push({ ...engagement, recommendations, proposals });
  }
  return {
    now,
    tenants: results,
    summary: {
      tenants: results.length,
      active_tenants: results.filter((t) => t.active.wau > 0).length,
      churn_risk: results.filter((t) => t.recommendations.some((r) => r.rule === 'churn-risk')).map((t) => t.tenant),
      proposals: results.reduce((n, t) => n + t.proposals.filter((p) => p.status === 'proposed').length, 0),
    },
  };
}
