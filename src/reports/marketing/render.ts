import { cell, int, pct } from '../format.js';
import type { MarketingResult, TenantMarketing } from './cycle.js';

function tenantSection(t: TenantMarketing): string[] {
  const a = t.active;
  const cohorts =
    t.cohorts.length === 0
      ? ['No users in the last six weekly cohorts.']
      : [
          `| cohort | users | ${Array.from({ length: Math.max(...t.cohorts.map((c) => c.retention.length)) }, (_, i) => `week ${i}`).join(' | ')} |`,
          `| --- | ---: | ${Array.from({ length: Math.max(...t.cohorts.map((c) => c.retention.length)) }, () => '---:').join(' | ')} |`,
          ...t.cohorts.map(
            (c) =>
              `| ${c.week} | ${int(c.size)} | ${Array.from({ length: Math.max(...t.cohorts.map((x) => x.retention.length)) }, (_, i) => pct(c.retention[i] ?? null)).join(' | ')} |`,
          ),
        ];
  const features =
    Object.entries(t.features.step_types)
      .map(([type, n]) => `${type} ${int(n)}`)
      .join(', ') || 'none';
  return [
    `## ${t.tenant} (${t.week})`,
    '',
    `- Active users: DAU ${int(a.dau)}, WAU ${int(a.wau)}, MAU ${int(a.mau)} (DAU/MAU ${pct(a.mau ? a.dau / a.mau : null)}).`,
    `- Activity: ${int(a.events_this_week)} events in the last 7 days, ${int(a.events_last_week)} in the 7 before.`,
    `- Activation: ${int(t.funnel.activated)} of ${int(t.funnel.new_users)} new users (${pct(t.funnel.new_users ? t.funnel.activated / t.funnel.new_users : null)}); ${int(t.funnel.lapsed)} lapsed users.`,
    `- Feature adoption (active workflows using each step type, of ${int(t.features.active_workflows)}): ${features}.`,
    '',
    ...cohorts,
    '',
    ...(t.recommendations.length === 0
      ? ['No recommendations: every rule is within its threshold.']
      : t.recommendations.map((r, i) => `${i + 1}. **${r.rule}**: ${r.message}`)),
    ...(t.proposals.length === 0
      ? []
      : [
          '',
          ...t.proposals.map(
            (p) =>
              `- Campaign \`${p.workflow}\` to ${int(p.recipients)} recipients: ${p.status === 'proposed' ? `waiting for approval ${p.approval_id ?? '(run queued)'}` : `already proposed this week (approval ${p.approval_id ?? '-'})`}.`,
          ),
        ]),
  ].map((l) => (l.startsWith('|') ? l : l.replace(/\|/g, cell('|'))));
}

/** The marketing cycle's result as GitHub-flavoured markdown. */
export function renderMarketing(r: MarketingResult): string {
  const s = r.summary;
  const head = [
    '# Levqor marketing cycle',
    '',
    `${int(s.tenants)} tenants, ${int(s.active_tenants)} active in the last 7 days; churn risk: ${s.churn_risk.length ? s.churn_risk.join(', ') : 'none'}; ${int(s.proposals)} campaigns proposed (Class C: nothing is sent before approval).`,
  ];
  return `${[head, ...r.tenants.map(tenantSection)].map((x) => x.join('\n')).join('\n\n')}\n`;
}
