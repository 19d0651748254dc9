import { int, pct, ratio } from '../format.js';
import type { ActiveCounts, CohortCell, FeatureUse, UserFunnel } from './queries.js';

/** One tenant's engagement, as the rules see it. */
export interface Engagement {
  tenant: string;
  week: string;
  active: ActiveCounts;
  funnel: UserFunnel;
  cohorts: { week: string; size: number; retention: (number | null)[] }[];
  features: FeatureUse;
}

/** The thresholds of the marketing rules; every recommendation names the number that crossed one. */
const MARKETING_THRESHOLDS = {
  /** Fewest recipients worth a campaign. */
  minAudience: 3,
  /** Lapsed users as a share of monthly actives. */
  lapsedShare: 0.2,
  /** Activation rate of new users, with at least `minNewUsers`. */
  activationRate: 0.4,
  minNewUsers: 5,
  /** Activity this week as a share of last week's (churn risk), with at least `minLastWeekEvents`. */
  activityRatio: 0.5,
  minLastWeekEvents: 20,
  /** DAU / MAU. */
  stickiness: 0.2,
  minMau: 10,
  /** Workflows a tenant needs before unused features are worth pointing out. */
  minWorkflowsForAdoption: 3,
} as const;

type CampaignKind = 're-engagement' | 'onboarding';

export interface Campaign {
  kind: CampaignKind;
  subject: string;
  text: string;
  recipients: string[];
}

export interface MarketingRecommendation {
  rule: string;
  message: string;
  evidence: Record<string, number>;
  /** The campaign the rule proposes (held for approval as a Class C email), if any. */
  campaign?: Campaign;
}

const T = MARKETING_THRESHOLDS;
const PROMOTED_FEATURES: Record<string, string> = {
  email: 'e-mail steps (sent only after approval)',
  http: 'outbound HTTP calls (held for approval)',
  set_workflow_active: 'workflows that pause or resume other workflows',
  transform: 'transform steps that pass values between steps',
};

function reEngagement(e: Engagement): MarketingRecommendation | undefined {
  // Users seen in the last 35 days are either active this week (WAU) or lapsed: disjoint.
  const share = ratio(e.funnel.lapsed, e.active.wau + e.funnel.lapsed);
  if (share === null || share < T.lapsedShare || e.funnel.lapsed_emails.length < T.minAudience) return undefined;
  const n = e.funnel.lapsed_emails.length;
  return {
    rule: 'lapsed-users',
    message: `${int(e.funnel.lapsed)} users were active in the 4 weeks before but not in the last 7 days (${pct(share)} of recent users, threshold ${pct(T.lapsedShare)}): send the re-engagement email to ${int(n)} of them.`,
    evidence: { lapsed: e.funnel.lapsed, share, threshold: T.lapsedShare, recipients: n },
    campaign: {
      kind: 're-engagement',
      subject: 'Your Levqor workflows miss you',
      text: 'You have not used Levqor this week. Your scheduled workflows keep running; see what they did and what waits for your approval on your dashboard.',
      recipients: e.funnel.lapsed_emails,
    },
  };
}

function activation(e: Engagement): MarketingRecommendation | undefined {
  const rate = ratio(e.funnel.activated, e.funnel.new_users);
  if (rate === null || e.funnel.new_users < T.minNewUsers || rate >= T.activationRate) return undefined;
  const n = e.funnel.not_activated_emails.length;
  return {
    rule: 'low-activation',
    message: `Only ${int(e.funnel.activated)} of ${int(e.funnel.new_users)} new users (${pct(rate)}, threshold ${pct(T.activationRate)}) created a workflow, ran one or decided an approval in their first week${n >= T.minAudience ? `: send the onboarding email to ${int(n)} of them` : ''}.`,
    evidence: { activated: e.funnel.activated, new_users: e.funnel.new_users, rate, threshold: T.activationRate, recipients: n },
    ...(n >= T.minAudience
      ? {
          campaign: {
            kind: 'onboarding' as const,
            subject: 'Your first Levqor workflow in five minutes',
            text: 'Create a workflow from a template, run it once by hand, and approve its first email: that is all it takes to automate your first task with Levqor.',
            recipients: e.funnel.not_activated_emails,
          },
        }
      : {}),
  };
}

function churnRisk(e: Engagement): MarketingRecommendation | undefined {
  const { events_this_week: now, events_last_week: before } = e.active;
  const r = ratio(now, before);
  if (r === null || before < T.minLastWeekEvents || r > T.activityRatio) return undefined;
  return {
    rule: 'churn-risk',
    message: `Activity of tenant ${e.tenant} fell from ${int(before)} to ${int(now)} events week over week (${pct(r)} of last week, threshold ${pct(T.activityRatio)}): a churn risk; reach out to its admins.`,
    evidence: { events_this_week: now, events_last_week: before, ratio: r, threshold: T.activityRatio },
  };
}

function stickiness(e: Engagement): MarketingRecommendation | undefined {
  const s = ratio(e.active.dau, e.active.mau);
  if (s === null || e.active.mau < T.minMau || s >= T.stickiness) return undefined;
  return {
    rule: 'low-stickiness',
    message: `DAU/MAU is ${pct(s)} (${int(e.active.dau)} / ${int(e.active.mau)}, threshold ${pct(T.stickiness)}): users come back rarely; a daily digest in Slack may bring them back.`,
    evidence: { dau: e.active.dau, mau: e.active.mau, stickiness: s, threshold: T.stickiness },
  };
}

function adoption(e: Engagement): MarketingRecommendation[] {
  if (e.features.active_workflows < T.minWorkflowsForAdoption) return [];
  return Object.entries(PROMOTED_FEATURES)
    .filter(([type]) => (e.features.step_types[type] ?? 0) === 0)
    .map(([type, what]) => ({
      rule: 'feature-unused',
      message: `None of ${int(e.features.active_workflows)} active workflows uses ${what} (\`${type}\` steps): feature it in the next newsletter.`,
      evidence: { workflows_using: 0, active_workflows: e.features.active_workflows },
    }));
}

/** Applies every marketing rule in a fixed order; the same engagement gives the same list. */
export function marketingRecommendations(e: Engagement): MarketingRecommendation[] {
  return [reEngagement(e), activation(e), churnRisk(e), stickiness(e), ...adoption(e)].filter(
    (r): r is MarketingRecommendation => r !== undefined,
  );
}

/** Cohort cells as rows: one per cohort week, retention by week since first seen (null: not yet). */
export function cohortTable(cells: readonly CohortCell[], currentWeek: number, label: (week: number) => string): Engagement['cohorts'] {
  const cohorts = [...new Set(cells.map((c) => c.cohort))].sort((a, b) => a - b);
  return cohorts.map((cohort) => {
    const size = cells.find((c) => c.cohort === cohort && c.age === 0)?.users ?? 0;
    const ages = currentWeek - cohort + 1;
    const retention = Array.from({ length: ages }, (_, age) =>
      ratio(cells.find((c) => c.cohort === cohort && c.age === age)?.users ?? 0, size),
    );
    return { week: label(cohort), size, retention };
  });
}
