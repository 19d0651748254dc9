import { insertAudit } from '../audit/queries.js';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { isIdentity } from './policy.js';
import { upsertRoute } from './queries.js';
import type { ApprovalRoute, RouteStage } from './types.js';

/** "90s", "15m", "2h", "1d" (a bare number is minutes) in seconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 }[m[2] ?? 'm'] ?? 60;
  return Math.round(Number(m[1]) * unit);
}

/**
 * One stage from "NAME=ID,ID[@WAIT]": who becomes eligible and how long after the request
 * (the first stage at once). Every problem is named.
 */
function parseStage(spec: string, index: number, problems: string[]): RouteStage | undefined {
  const where = `--stage ${index + 1} "${spec}"`;
  const m = /^([a-z][\w-]{0,39})=([^@]*)(?:@(.+))?$/i.exec(spec.trim());
  if (!m) {
    problems.push(`${where}: expected NAME=IDENTITY,IDENTITY[@WAIT], e.g. oncall=slack:U0123,group:sre or manager=slack:U0456@30m`);
    return undefined;
  }
  const approvers = (m[2] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (approvers.length === 0) problems.push(`${where}: names no approver`);
  for (const a of approvers)
    if (!isIdentity(a))
      problems.push(`${where}: "${a}" is not an identity like slack:U123, token:NAME, github:login, cli:user, person:HANDLE or group:NAME`);
  const wait = m[3] === undefined ? 0 : parseDuration(m[3]);
  if (wait === undefined) problems.push(`${where}: wait "${m[3]}" is not a duration like 15m, 2h or 1d`);
  return { name: m[1] as string, approvers, after_seconds: wait ?? 0 };
}

export interface RouteInput {
  actionType: string;
  stages: readonly string[];
  remindEvery?: string | undefined;
  /** Percent of the lifetime (1–99), or "off". */
  remindAt?: string | undefined;
}

/** A route from its flags (pure): stages in order of their waits, the first at once; every problem named. */
export function parseRoute(input: RouteInput, updatedBy: string): Omit<ApprovalRoute, 'updated_at'> {
  const problems: string[] = [];
  if (!/^(\*|[a-z][\w.-]{0,99})$/.test(input.actionType))
    problems.push(`--action-type "${input.actionType}": an action type like deploy, or *`);
  if (input.stages.length === 0) problems.push('--stage: give at least one (the first stage is eligible at once)');
  if (input.stages.length > 10) problems.push(`--stage: at most 10 stages (got ${input.stages.length})`);
  const stages = input.stages.map((s, i) => parseStage(s, i, problems)).filter((s): s is RouteStage => s !== undefined);
  if (stages[0] && stages[0].after_seconds !== 0)
    problems.push(`--stage 1 "${stages[0].name}": the first stage is eligible at once (no @WAIT)`);
  for (let i = 1; i < stages.length; i++) {
    const [prev, cur] = [stages[i - 1] as RouteStage, stages[i] as RouteStage];
    if (cur.after_seconds <= prev.after_seconds)
      problems.push(
        `--stage ${i + 1} "${cur.name}": opens after ${cur.after_seconds} s, not later than the stage before it (${prev.after_seconds} s)`,
      );
  }
  const names = stages.map((s) => s.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) problems.push(`--stage: the name ${twice[0]} is used twice`);
  let every: number | null = null;
  if (input.remindEvery !== undefined && input.remindEvery !== 'off') {
    const d = parseDuration(input.remindEvery);
    if (d === undefined || d < 60 || d > 604_800) problems.push(`--remind-every "${input.remindEvery}": a duration from 1m to 7d, or off`);
    else every = d;
  }
  let at: number | null = 0.8;
  if (input.remindAt === 'off') at = null;
  else if (input.remindAt !== undefined) {
    const pct = Number(input.remindAt.replace(/%$/, ''));
    if (!Number.isFinite(pct) || pct <= 0 || pct >= 100)
      problems.push(`--remind-at "${input.remindAt}": a percent of the lifetime from 1 to 99, or off`);
    else at = pct / 100;
  }
  if (problems.length) throw new AppError('bad_input', problems.join('; '), problems);
  return { action_type: input.actionType, stages, remind_every_seconds: every, remind_at_fraction: at, updated_by: updatedBy };
}

/** Stores a route and its audit entry (in the caller's transaction). */
export async function setRoute(tx: Queryable, tenantId: string, route: Omit<ApprovalRoute, 'updated_at'>): Promise<ApprovalRoute> {
  const stored = await upsertRoute(tx, tenantId, route);
  await insertAudit(tx, {
    tenant_id: tenantId,
    actor: route.updated_by,
    action: 'approval.route_set',
    subject: `route:${route.action_type}`,
    detail: { stages: route.stages, remind_every_seconds: route.remind_every_seconds, remind_at_fraction: route.remind_at_fraction },
  });
  return stored;
}
