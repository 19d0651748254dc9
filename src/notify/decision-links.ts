import { createHash, randomBytes } from 'node:crypto';
import { loadPolicy } from '../approvals/deciders.js';
import { approvalEventsAfter, getApproval } from '../approvals/queries.js';
import { eligibleIdentities, expandGroups } from '../approvals/policy.js';
import { decideApproval, validateReason } from '../approvals/service.js';
import type { ApprovalRow, Decision } from '../approvals/types.js';
import type { Db, Queryable } from '../db/types.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Mailer } from '../workflows/steps/email.js';

// Email decision links: an `email:` approver gets a link per notification (request, escalation,
// reminder). The link is a secret (only its hash is stored), works once, expires, and is bound
// to the request, the person and the payload hash; it opens a confirmation page, never decides
// on GET (mail scanners follow links).

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface DecisionLink {
  id: string;
  tenant_id: string;
  approval_id: string;
  identity: string;
  payload_hash: string;
  expires_at: number;
  used_at: number | null;
}

/** Mints a link for one person and request; returns the secret (shown only in the email). */
export async function createDecisionLink(
  db: Queryable,
  a: Pick<ApprovalRow, 'id' | 'tenant_id' | 'payload_hash' | 'expires_at'>,
  identity: string,
  ttlSeconds: number,
): Promise<string> {
  const token = `lvd_${randomBytes(32).toString('base64url')}`;
  await db.query(
    `INSERT INTO decision_links (tenant_id, approval_id, identity, payload_hash, token_hash, expires_at)
     VALUES ($1, $2, $3, $4, $5, least($6::float8, extract(epoch FROM now()) + $7))`,
    [a.tenant_id, a.id, identity, a.payload_hash, hashToken(token), a.expires_at, ttlSeconds],
  );
  return token;
}

/** The link a secret opens, with why it cannot be used (undefined: it can). */
export async function openDecisionLink(
  db: Queryable,
  token: string,
): Promise<{ link: DecisionLink; approval: ApprovalRow; problem?: string } | undefined> {
  if (!/^lvd_[\w-]{20,100}$/.test(token)) return undefined;
  const { rows } = await db.query<DecisionLink & { now: number }>(
    `SELECT id, tenant_id, approval_id, identity, payload_hash, expires_at, used_at, extract(epoch FROM now())::float8 AS now
     FROM decision_links WHERE token_hash = $1`,
    [hashToken(token)],
  );
  const link = rows[0];
  if (!link) return undefined;
  const approval = await getApproval(db, link.approval_id, link.tenant_id);
  if (!approval) return undefined;
  const problem =
    link.used_at !== null
      ? 'This link was already used: each link decides once.'
      : link.expires_at <= link.now
        ? 'This link has expired.'
        : approval.payload_hash !== link.payload_hash
          ? 'The request changed since this link was sent; it is not the action this link was for.'
          : approval.status !== 'pending'
            ? `This request is already ${approval.status}${approval.processed_by ? ` (by ${approval.processed_by})` : ''}.`
            : undefined;
  return { link, approval, ...(problem ? { problem } : {}) };
}

/**
 * Decides through a link: the link is used up first (a conditional UPDATE, so a second
 * submit loses), then the ledger decides as the link's person, with every rule that applies
 * to them (eligibility, self-approval, quorum).
 */
export async function decideByLink(db: Db, token: string, decision: Decision, reason: string | undefined) {
  const opened = await openDecisionLink(db, token);
  if (!opened) throw new AppError('not_found', 'This link is not valid.');
  if (opened.problem) throw new AppError('conflict', opened.problem);
  // A refused reason must not use the link up.
  validateReason(decision, reason);
  const used = await db.query('UPDATE decision_links SET used_at = extract(epoch FROM now()) WHERE id = $1 AND used_at IS NULL', [
    opened.link.id,
  ]);
  if (used.rowCount !== 1) throw new AppError('conflict', 'This link was already used: each link decides once.');
  return decideApproval(db, {
    id: opened.approval.id,
    tenantId: opened.link.tenant_id,
    decision,
    actor: opened.link.identity,
    channel: 'email',
    reason,
  });
}

export interface EmailNotifyDeps {
  db: Db;
  log: Pick<Logger, 'info' | 'warn'>;
  mailer: Mailer;
  from: string;
  /** The console's public base URL (LEVQOR_PUBLIC_URL). */
  publicUrl: string;
  linkTtlSeconds: number;
  /** How old an event must be before it is read (see fanOutEvents): default 2 s. */
  settleSeconds?: number;
}

const emails = (ids: readonly string[]) => ids.filter((i) => i.startsWith('email:'));

/**
 * One pass over new approval events (requested, escalated, reminder): each `email:` approver
 * concerned gets a message with their own link. The shared cursor row is locked for the pass,
 * so one replica sends each notification.
 */
export async function emailApprovers(deps: EmailNotifyDeps): Promise<number> {
  return deps.db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO notify_cursors (name, last_event_id) VALUES ('email', (SELECT coalesce(max(id), 0) FROM approval_events)) ON CONFLICT DO NOTHING`,
    );
    const { rows } = await tx.query<{ last_event_id: string }>(
      "SELECT last_event_id::text FROM notify_cursors WHERE name = 'email' FOR UPDATE SKIP LOCKED",
    );
    const cursor = rows[0];
    if (!cursor) return 0;
    const events = (await approvalEventsAfter(tx, cursor.last_event_id, 200)).filter(
      (e) => e.created_at <= Date.now() / 1000 - (deps.settleSeconds ?? 2),
    );
    let sent = 0;
    let last = cursor.last_event_id;
    for (const e of events) {
      last = e.id;
      if (e.type !== 'requested' && e.type !== 'escalated' && e.type !== 'reminder') continue;
      const a = await getApproval(tx, e.approval_id);
      if (!a || a.status !== 'pending' || a.impact_class !== 'C') continue;
      const policy = await loadPolicy(tx, a.tenant_id);
      // An escalation names the stages it opened: mail only their people; otherwise every eligible one.
      const opened =
        e.type === 'escalated' ? (a.route?.stages ?? []).filter((st) => (e.payload.stages as string[]).includes(st.name)) : undefined;
      const people = emails(
        opened
          ? expandGroups(
              policy,
              opened.flatMap((st) => st.approvers),
            )
          : eligibleIdentities(policy, a),
      );
      for (const person of people) {
        const token = await createDecisionLink(tx, a, person, deps.linkTtlSeconds);
        const link = `${deps.publicUrl}/console/decide/${token}`;
        const why =
          e.type === 'requested' ? 'needs a decision' : e.type === 'escalated' ? 'was escalated to you' : 'is still waiting for a decision';
        try {
          await deps.mailer.send({
            from: deps.from,
            to: [person.slice('email:'.length)],
            subject: `Levqor: ${a.summary.slice(0, 150).replace(/[\r\n]+/g, ' ')} ${why}`,
            text: `${a.summary}\n\nAction: ${a.action_type} (Class ${a.impact_class}), requested by ${a.requested_by}.\nPayload sha256: ${a.payload_hash}\nExpires: ${new Date(a.expires_at * 1000).toISOString()}\n\nReview and decide (the link opens a confirmation page; it works once, for you only):\n${link}\n`,
          });
          sent++;
        } catch (err) {
          deps.log.warn({ approval: a.id, to: person, err: errorMessage(err) }, 'could not email an approver');
        }
      }
    }
    await tx.query("UPDATE notify_cursors SET last_event_id = $1::bigint WHERE name = 'email'", [last]);
    return sent;
  });
}
