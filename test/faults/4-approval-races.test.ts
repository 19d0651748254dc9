import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { setSlackSettings } from '../../src/slack/settings.js';
import { startRecordingServer } from '../helpers/fixtures.js';
import { insertTenant, pollUntil } from '../helpers/proc.js';
import { callApi, startServe, type ServedApi } from '../helpers/server.js';
import { blockAction, rejectSubmission, sendInteraction, startFakeSlack, startTestBot } from '../helpers/slack.js';
import { ALLOW, parkHttpRuns, type ParkedRun } from './helpers/approvals.js';
import { useFaultDb } from './helpers/fault-db.js';
import { startReplicas, stopReplicas } from './helpers/replicas.js';
import { recordFigures } from './helpers/results.js';

// Experiment 4: 50 Class C requests, each decided by 50 API callers at once (approve and
// reject, split across two `levqor serve` processes) plus Slack approve clicks and reject
// dialogs through the bot. Exactly one decision per request, the API losers get 409, and the
// approved http step reaches the loopback target at most once, whoever races to run it.

const APPROVALS = 50;
const CALLERS = 50;
const SLACK_APPROVERS = ['UAPPROVE1', 'UAPPROVE2', 'UAPPROVE3'];
const SLACK_REJECTERS = ['UREJECT1', 'UREJECT2'];
/** Requests decided at the same time. */
const PARALLEL = 5;
const TEAM = 'TFAULTS';
const CHANNEL = 'CAPPROVALS';

const fault = useFaultDb({ poolMax: 12 });

describe('approval races', () => {
  it(`${APPROVALS} requests × ${CALLERS} API callers on 2 serve processes + Slack clicks: 1 decision, ≤ 1 execution each, losers 409`, async () => {
    const { db, url } = fault();
    const target = await startRecordingServer();
    const fake = await startFakeSlack();
    const bot = await startTestBot(db, fake);
    const env = { DATABASE_URL: url, ...ALLOW, LEVQOR_DB_POOL_MAX: '12' };
    const servers: ServedApi[] = await Promise.all([startServe(env), startServe(env)]);
    let executors: Awaited<ReturnType<typeof startReplicas>> = [];
    try {
      const tenantId = await insertTenant(db, 'races');
      await setSlackSettings(db, tenantId, { team_id: TEAM, approvals_channel: CHANNEL });
      const tokens = await Promise.all(
        Array.from({ length: CALLERS }, async (_, i) => ({
          name: `caller-${i}`,
          ...(await createToken(db, tenantId, `caller-${i}`, ['approvals:decide', 'approvals:read'])),
        })),
      );
      const parked = await parkHttpRuns(db, tenantId, { prefix: 'race', count: APPROVALS, target: target.url });
      // Started after the runs parked here: a scheduler would claim a queued run before this process does.
      executors = await startReplicas(2, env);

      const statuses = new Map<number, number>();
      const race = async (p: ParkedRun, n: number) => {
        const api = tokens.map(async (tk, i) => {
          const decision = (i + n) % 2 === 0 ? 'approve' : 'reject';
          const server = servers[i % servers.length] as ServedApi;
          const res = await callApi(server.baseUrl, 'POST', `/api/approvals/${p.approvalId}/${decision}`, {
            token: tk.token,
            body: decision === 'reject' ? { reason: `no from ${tk.name}` } : {},
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          return res.status;
        });
        const slack = [
          ...SLACK_APPROVERS.map((user) =>
            sendInteraction(bot, blockAction({ user, team: TEAM, actionId: 'levqor_approve', approvalId: p.approvalId, channel: CHANNEL })),
          ),
          ...SLACK_REJECTERS.map((user) =>
            sendInteraction(bot, rejectSubmission({ user, team: TEAM, approvalId: p.approvalId, reason: `no from ${user}` })),
          ),
        ];
        const [apiStatuses, slackAnswers] = await Promise.all([Promise.all(api), Promise.all(slack)]);
        return { apiStatuses, slackStatuses: slackAnswers.map((a) => a.status) };
      };
      const results: Awaited<ReturnType<typeof race>>[] = [];
      for (let i = 0; i < parked.length; i += PARALLEL) {
        results.push(...(await Promise.all(parked.slice(i, i + PARALLEL).map((p, j) => race(p, i + j)))));
      }

      // Decisions and the API's answers, per request.
      const { rows: decided } = await db.query<{ id: string; status: string; votes: number; decisions: number; by: string }>(
        `SELECT a.id, a.status, a.processed_by AS by,
                (SELECT count(*)::int FROM approval_votes v WHERE v.approval_id = a.id) AS votes,
                (SELECT count(*)::int FROM audit_log l WHERE l.subject = 'approval:' || a.id AND l.action IN ('approval.approved', 'approval.rejected')) AS decisions
         FROM approval_queue a WHERE a.id = ANY($1)`,
        [parked.map((p) => p.approvalId)],
      );
      const byId = new Map(decided.map((d) => [d.id, d]));
      const apiWins = results.map((r) => r.apiStatuses.filter((s) => s === 200).length);
      const apiOthers = results.flatMap((r) => r.apiStatuses.filter((s) => s !== 200 && s !== 409));
      const slackWins = parked.map((p): number => (byId.get(p.approvalId)?.by.startsWith('slack:') ? 1 : 0));
      const approved = parked.filter((p) => byId.get(p.approvalId)?.status === 'approved');
      // Every approved run ends (the bot, two schedulers and nobody else race to run it).
      await pollUntil(
        async () => {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM workflow_runs WHERE id = ANY($1) AND status NOT IN ('succeeded', 'failed', 'rejected')`,
            [parked.map((p) => p.runId)],
          );
          return rows[0]?.n === 0;
        },
        { what: 'every decided run to end', attempts: 600, intervalMs: 100 },
      );
      const hits = (p: ParkedRun) => target.requests.filter((r) => r.url === `/${p.label}`).length;
      const { rows: runStatuses } = await db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM workflow_runs WHERE id = ANY($1) GROUP BY 1 ORDER BY 1`,
        [parked.map((p) => p.runId)],
      );
      const conflictNotes = fake.of('chat.postEphemeral').filter((c) => /already (approved|rejected)/.test(String(c.args.text))).length;
      const secondExecutions = parked.reduce((n, p) => n + Math.max(0, hits(p) - 1), 0);
      const multiDecided = decided.filter((d) => d.votes !== 1 || d.decisions !== 1).length;
      await recordFigures('4-approval-races', {
        title: `4. Approval races: ${APPROVALS} Class C requests, ${CALLERS} API callers each on 2 serve processes, + ${SLACK_APPROVERS.length} Slack approve clicks and ${SLACK_REJECTERS.length} reject dialogs`,
        rows: [
          ['decision calls', `${APPROVALS * CALLERS} API + ${APPROVALS * (SLACK_APPROVERS.length + SLACK_REJECTERS.length)} Slack`],
          [
            'API answers',
            [...statuses.entries()]
              .sort()
              .map(([s, n]) => `${s}: ${n}`)
              .join(', '),
          ],
          [
            'decisions won through the API / through Slack',
            `${apiWins.reduce((a, b) => a + b, 0)} / ${slackWins.reduce((a, b) => a + b, 0)}`,
          ],
          ['**requests with other than exactly 1 decision**', multiDecided],
          ['approved / rejected', `${approved.length} / ${decided.filter((d) => d.status === 'rejected').length}`],
          ['Slack losers told "already decided" (ephemeral)', conflictNotes],
          ['approved http steps executed (target hits)', approved.filter((p) => hits(p) === 1).length + ' of ' + approved.length],
          ['**second executions**', secondExecutions],
          [
            '**executions of a rejected request**',
            parked.filter((p) => byId.get(p.approvalId)?.status === 'rejected' && hits(p) > 0).length,
          ],
          ['run statuses', runStatuses.map((s) => `${s.status}: ${s.n}`).join(', ')],
        ],
      });
      expect(apiOthers).toEqual([]);
      expect(multiDecided).toBe(0);
      // The one decision came through the API (one 200, the rest 409) or through Slack (all 409).
      parked.forEach((_, i) => expect(apiWins[i]! + slackWins[i]!).toBe(1));
      expect(results.flatMap((r) => r.slackStatuses).every((s) => s === 200)).toBe(true);
      expect(secondExecutions).toBe(0);
      for (const p of parked) expect(hits(p)).toBe(approved.includes(p) ? 1 : 0);
      expect(runStatuses.filter((s) => s.status !== 'succeeded' && s.status !== 'rejected')).toEqual([]);
    } finally {
      const exits = await Promise.all([...servers.map((s) => s.stop()), stopReplicas(executors)]);
      await bot.stop();
      await fake.close();
      await target.close();
      expect(exits.flat()).toEqual(Array(servers.length + executors.length).fill({ code: 0, signal: null }));
    }
  });
});
