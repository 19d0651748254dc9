import type { ApprovalPolicy, ApprovalRow } from './types.js';

/** Identities are "<source>:<id>": token:ops-bot, slack:U0123, github:octocat, cli:alice. */
export function isIdentity(value: string): boolean {
  return /^(token|slack|github|cli|group|workflow|api):[^\s:][^\s]{0,199}$/.test(value);
}

/** The groups an identity belongs to under a policy. */
function groupsOf(policy: ApprovalPolicy, actor: string): string[] {
  return Object.entries(policy.groups)
    .filter(([, members]) => members.includes(actor))
    .map(([name]) => name);
}

/**
 * Why `actor` may not decide `approval` under `policy`, or undefined when it may (pure).
 * An empty approver list admits anyone the face authenticated with the decide permission.
 */
export function decisionProblem(policy: ApprovalPolicy, approval: Pick<ApprovalRow, 'requested_by'>, actor: string): string | undefined {
  if (actor.startsWith('group:')) return `${actor} names a group, not a person`;
  if (!policy.allow_self_approval && approval.requested_by === actor) {
    return `${actor} requested this action and cannot decide it (self-approval is off for this tenant)`;
  }
  if (policy.approvers.length === 0) return undefined;
  if (policy.approvers.includes(actor)) return undefined;
  const groups = groupsOf(policy, actor);
  if (groups.some((g) => policy.approvers.includes(`group:${g}`))) return undefined;
  return `${actor} is not an approver for this tenant (allowed: ${policy.approvers.join(', ')})`;
}
