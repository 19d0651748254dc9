import { span } from '../lib/span.js';
import type { ApprovalPolicy, ApprovalRow } from './types.js';

/**
 * Identities are "<source>:<id>": token:ops-bot, slack:U0123, github:octocat, cli:alice,
 * email:alice@example.com; person:<handle> names a person of the directory (whichever
 * identity they decide through).
 */
export function isIdentity(value: string): boolean {
  if (value.startsWith('email:')) return /^email:[^\s@<>,;:]+@[^\s@<>,;:]+\.[^\s@<>,;:]+$/.test(value);
  if (value.startsWith('person:')) return /^person:[a-z0-9][a-z0-9._-]{0,62}$/.test(value);
  return /^(token|slack|github|cli|group|workflow|api|oidc):[^\s:][^\s]{0,199}$/.test(value);
}

/** Who decides: the channel identity, and the person behind it when the directory knows them. */
type Decider = string | { actor: string; person?: string | undefined };

/** The entries that stand for a decider in a policy: their identity, and person:<handle>. */
function namesOf(decider: Decider): string[] {
  if (typeof decider === 'string') return [decider];
  return decider.person ? [decider.actor, `person:${decider.person}`] : [decider.actor];
}

/** The groups a decider belongs to under a policy. */
function groupsOf(policy: ApprovalPolicy, names: readonly string[]): string[] {
  return Object.entries(policy.groups)
    .filter(([, members]) => names.some((n) => members.includes(n)))
    .map(([name]) => name);
}

/** Whether a list of identities, person:HANDLE and group:NAME entries admits a decider (groups from the policy). */
function admits(policy: ApprovalPolicy, list: readonly string[], names: readonly string[]): boolean {
  return names.some((n) => list.includes(n)) || groupsOf(policy, names).some((g) => list.includes(`group:${g}`));
}

/** Every approver entry of a policy and of a route's stages, groups' members included. */
function allEntries(policy: ApprovalPolicy, route: Pick<ApprovalRow, 'route'>['route'] | undefined): string[] {
  return [...policy.approvers, ...Object.values(policy.groups).flat(), ...(route?.stages ?? []).flatMap((s) => s.approvers)];
}

/** Whether a policy (its approvers, groups, or the request's route) names any person:HANDLE (pure). */
export function namesPeople(policy: ApprovalPolicy, route?: Pick<ApprovalRow, 'route'>['route']): boolean {
  return allEntries(policy, route).some((e) => e.startsWith('person:'));
}

type Decidable = Pick<ApprovalRow, 'requested_by'> & Partial<Pick<ApprovalRow, 'route' | 'stage'>>;

/**
 * Why `actor` may not decide `approval` under `policy`, or undefined when it may (pure).
 * A request made under a route admits the approvers of its open stages (the route replaces
 * the policy's approver list); otherwise an empty approver list admits anyone the face
 * authenticated with the decide permission.
 */
export function decisionProblem(policy: ApprovalPolicy, approval: Decidable, decider: Decider): string | undefined {
  const names = namesOf(decider);
  const actor = names[0] as string;
  if (actor.startsWith('group:') || actor.startsWith('person:')) return `${actor} names a ${actor.split(':')[0]}, not an identity`;
  if (!policy.allow_self_approval && approval.requested_by === actor) {
    return `${actor} requested this action and cannot decide it (self-approval is off for this tenant)`;
  }
  const stages = approval.route?.stages ?? [];
  if (stages.length > 0) {
    const open = stages.slice(0, approval.stage ?? 1);
    if (open.some((s) => admits(policy, s.approvers, names))) return undefined;
    const later = stages.slice(open.length).find((s) => admits(policy, s.approvers, names));
    if (later)
      return `${actor} is in stage ${later.name} of this request's route, which opens ${span(later.after_seconds)} after the request (open now: ${open.map((s) => s.name).join(', ')})`;
    return `${actor} is not an approver on this request's route (stages: ${stages.map((s) => `${s.name}: ${s.approvers.join(', ')}`).join('; ')})`;
  }
  if (policy.approvers.length === 0) return undefined;
  if (admits(policy, policy.approvers, names)) return undefined;
  return `${actor} is not an approver for this tenant (allowed: ${policy.approvers.join(', ')})`;
}

/** The identities who may decide a request now (its open stages, else the policy's approvers), groups expanded. */
export function eligibleIdentities(
  policy: ApprovalPolicy & { people?: PeopleIdentities },
  approval: Pick<ApprovalRow, 'route' | 'stage'>,
): string[] {
  const stages = approval.route?.stages ?? [];
  const list = stages.length > 0 ? stages.slice(0, approval.stage).flatMap((s) => s.approvers) : policy.approvers;
  return expandGroups(policy, list);
}

/** The identities of the stages a step opened, groups expanded. */
export function stageIdentities(
  policy: ApprovalPolicy & { people?: PeopleIdentities },
  approval: Pick<ApprovalRow, 'route'>,
  from: number,
  to: number,
): string[] {
  return expandGroups(
    policy,
    (approval.route?.stages ?? []).slice(from, to).flatMap((s) => s.approvers),
  );
}

/**
 * Identities with every group:NAME replaced by its members (under the policy's groups) and
 * every person:HANDLE by the identities linked to that person (policy.people, when loaded),
 * so that reminders, DMs and emails still reach people.
 */
export function expandGroups(policy: ApprovalPolicy & { people?: PeopleIdentities }, list: readonly string[]): string[] {
  const person = (id: string) => (id.startsWith('person:') ? (policy.people?.[id.slice(7)] ?? [id]) : [id]);
  return [...new Set(list.flatMap((id) => (id.startsWith('group:') ? (policy.groups[id.slice(6)] ?? []) : [id])).flatMap(person))];
}

/** Each person's linked identities by handle. */
export type PeopleIdentities = Record<string, readonly string[]>;
