// The ledger after the approvals: every 200 is one approved request with one vote, one approved
// event and one audit entry; the race had exactly one winner per request.
import { one, rows, withPg } from '../lib/db.js';
import { DECIDERS, PENDING } from './config.js';
import type { Decision } from './approve.js';

export interface Check {
  problems: string[];
  approved: number;
  audits: number;
  pending: number;
  raceStats: { ids: number; wins: number; conflicts: number };
}

interface LedgerCounts {
  bad_audit: number;
  orphan_audit: number;
  other_audit: number;
  bad_votes: number;
  pending_votes: number;
  bad_events: number;
  audits: number;
  pending: number;
}

const LEDGER_SQL = `
      WITH audits AS (SELECT subject, count(*) AS n FROM audit_log WHERE action = 'approval.approved' GROUP BY subject),
           votes AS (SELECT approval_id, count(*) AS n FROM approval_votes GROUP BY approval_id),
           events AS (SELECT approval_id, count(*) AS n FROM approval_events WHERE type = 'approved' GROUP BY approval_id)
      SELECT
        (SELECT count(*) FROM approval_queue q LEFT JOIN audits a ON a.subject = 'approval:' || q.id
          WHERE q.status = 'approved' AND a.n IS DISTINCT FROM 1)::int AS bad_audit,
        (SELECT count(*) FROM audits a WHERE NOT EXISTS
          (SELECT 1 FROM approval_queue q WHERE 'approval:' || q.id = a.subject AND q.status = 'approved'))::int AS orphan_audit,
        (SELECT count(*) FROM audit_log WHERE action <> 'approval.approved')::int AS other_audit,
        (SELECT count(*) FROM approval_queue q LEFT JOIN votes v ON v.approval_id = q.id
          WHERE q.status = 'approved' AND v.n IS DISTINCT FROM 1)::int AS bad_votes,
        (SELECT count(*) FROM votes v JOIN approval_queue q ON q.id = v.approval_id WHERE q.status = 'pending')::int AS pending_votes,
        (SELECT count(*) FROM approval_queue q LEFT JOIN events e ON e.approval_id = q.id
          WHERE q.status = 'approved' AND e.n IS DISTINCT FROM 1)::int AS bad_events,
        (SELECT count(*) FROM audit_log WHERE action = 'approval.approved')::int AS audits,
        (SELECT count(*) FROM approval_queue WHERE status = 'pending')::int AS pending`;

const LEDGER_LABELS: [keyof LedgerCounts, string][] = [
  ['bad_audit', 'approved requests without exactly one approval.approved audit entry'],
  ['orphan_audit', 'approval.approved audit entries for requests that are not approved'],
  ['other_audit', 'other audit entries'],
  ['bad_votes', 'approved requests without exactly one vote'],
  ['pending_votes', 'votes on pending requests'],
  ['bad_events', 'approved requests without exactly one approved event'],
];

/** Checks the ledger against what the clients were answered. */
export async function verify(
  url: string,
  { ok, raceIds, race }: { ok: Decision[]; raceIds: Set<string>; race: Decision[] },
): Promise<Check> {
  const problems: string[] = [];
  const bad = [...ok, ...race].filter((x) => !(x.status === 200 && x.outcome === 'approved') && !(x.status === 409 && raceIds.has(x.id)));
  for (const x of bad.slice(0, 5)) problems.push(`${x.by} on ${x.id}: ${x.status} ${x.outcome ?? ''} ${x.text}`);
  if (bad.length > 5) problems.push(`… ${bad.length - 5} more unexpected responses`);
  const winners = new Map<string, string>();
  for (const x of [...ok, ...race].filter((y) => y.status === 200)) {
    if (winners.has(x.id)) problems.push(`${x.id} approved twice over HTTP (${winners.get(x.id)} and ${x.by})`);
    winners.set(x.id, x.by);
  }
  const raceStats = { ids: raceIds.size, wins: 0, conflicts: 0 };
  for (const id of raceIds) {
    const tries = race.filter((x) => x.id === id);
    const w = tries.filter((x) => x.status === 200).length;
    const c = tries.filter((x) => x.status === 409).length;
    raceStats.wins += w;
    raceStats.conflicts += c;
    if (w !== 1 || c !== DECIDERS - 1) problems.push(`race on ${id}: ${w} approvals, ${c} conflicts`);
  }
  const { decided, s } = await withPg(url, async (c) => ({
    decided: await rows<{ id: string; status: string; processed_by: string | null; approvals_count: number }>(
      c,
      `SELECT id, status, processed_by, approvals_count FROM approval_queue WHERE status <> 'pending'`,
    ),
    s: await one<LedgerCounts>(c, LEDGER_SQL),
  }));
  for (const row of decided) {
    const winner = winners.get(row.id);
    if (row.status !== 'approved') problems.push(`${row.id} is ${row.status}`);
    else if (winner === undefined) problems.push(`${row.id} approved in the database, but no client got a 200 for it`);
    else if (row.processed_by !== `token:${winner}`) problems.push(`${row.id} processed_by ${row.processed_by}, but ${winner} got the 200`);
    if (row.approvals_count !== 1) problems.push(`${row.id} has approvals_count ${row.approvals_count}`);
  }
  if (decided.length !== winners.size) problems.push(`${decided.length} decided in the database, ${winners.size} approvals answered 200`);
  for (const [k, label] of LEDGER_LABELS) if (s[k] !== 0) problems.push(`${s[k]} ${label}`);
  if (s.pending !== PENDING - winners.size) problems.push(`${s.pending} pending, expected ${PENDING - winners.size}`);
  return { problems, approved: decided.length, audits: s.audits, pending: s.pending, raceStats };
}
