import { span } from '../lib/span.js';
import type { ApprovalPolicy, ApprovalRow } from './types.js';

/** Identities are "<source>:<id>": token:ops-bot, slack:U0123, github:octocat, cli:alice, email:alice@example.com. */
export function isIdentity(value: string): boolean {
  if (value.startsWith('email:')) return /^email:[^\s@<>,;:]+@[^\s@<>,;:]+\.[^\s@<>,;:]+$/.test(value);
  return /^(token|slack|github|cli|group|workflow|api):[^\s:][^\s]{0,199}$/.test(value);
}

/** The groups an identity belongs to under a policy. */
function groupsOf(policy: ApprovalPolicy, actor: string): string[] {
  return Object.entries(policy.groups)
    .filter(([, members]) => members.includes(actor))
    .map(([name]) => name);
}

/** Whether a list of identities and group:NAME entries admits `actor` (groups from the policy). */
function admits(policy: ApprovalPolicy, list: readonly string[], actor: string): boolean {
  return list.includes(actor) || groupsOf(policy, actor).some((g) => list.includes(`group:${g}`));
}

type Decidable = Pick<ApprovalRow, 'requested_by'> & Partial<Pick<ApprovalRow, 'route' | 'stage'>>;

/**
 * Why `actor` may not decide `approval` under `policy`, or undefined when it may (pure).
 * A request made under a route admits the approvers of its open stages (the route replaces
 * the policy's approver list); otherwise an empty approver list admits anyone the face
 * authenticated with the decide permission.
 */
export function decisionProblem(policy: ApprovalPolicy, approval: Decidable, actor: string): string | undefined {
  if (actor.startsWith('group:')) return `${actor} names a group, not a person`;
  if (!policy.allow_self_approval && approval.requested_by === actor) {
    return `${actor} requested this action and cannot decide it (self-approval is off for this tenant)`;
  }
  const stages = approval.route?.stages ?? [];
  if (stages.length > 0) {
    const open = stages.slice(0, approval.stage ?? 1);
    if (open.some((s) => admits(policy, s.approvers, actor))) return undefined;
    const later = stages.slice(open.length).find((s) => admits(policy, s.approvers, actor));
    if (later)
      return `${actor} is in stage ${later.name} of this request's route, which opens ${span(later.after_seconds)} after the request (open now: ${open.map((s) => s.name).join(', ')})`;
    return `${actor} is not an approver on this request's route (stages: ${stages.map((s) => `${s.name}: ${s.approvers.join(', ')}`).join('; ')})`;
  }
  if (policy.approvers.length === 0) return undefined;
  if (admits(policy, policy.approvers, actor)) return undefined;
  return `${actor} is not an approver for this tenant (allowed: ${policy.approvers.join(', ')})`;
}

/** The identities who may decide a request now (its open stages, else the policy's approvers), groups expanded. */
export function eligibleIdentities(policy: ApprovalPolicy, approval: Pick<ApprovalRow, 'route' | 'stage'>): string[] {
  const stages = approval.route?.stages ?? [];
  const list = stages.length > 0 ? stages.slice(0, approval.stage).flatMap((s) => s.approvers) : policy.approvers;
  return expandGroups(policy, list);
}

/** The identities of the stages a step opened, groups expanded. */
export function stageIdentities(policy: ApprovalPolicy, approval: Pick<ApprovalRow, 'route'>, from: number, to: number): string[] {
  return expandGroups(
    policy,
    (approval.route?.stages ?? []).slice(from, to).flatMap((s) => s.approvers),
  );
}

/** Identities with every group:NAME replaced by its members (under the policy's groups). */
export function expandGroups(policy: ApprovalPolicy, list: readonly string[]): string[] {
  return [...new Set(list.flatMap((id) => (id.startsWith('group:') ? (policy.groups[id.slice(6)] ?? []) : [id])))];
}
