import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { rerequestAction } from '../../approvals/actions.js';
import { deciderNames, getApproval, listApprovals, listDecidedApprovals, listRunApprovals } from '../../approvals/queries.js';
import { decideApproval, decideMany } from '../../approvals/service.js';
import type { Db } from '../../db/types.js';
import { actorOf, type Scope } from '../../auth/tokens.js';
import { AppError } from '../../lib/errors.js';
import { getRun, getRunEvents, listRuns } from '../../runs/queries.js';
import { checkWorkflow } from '../../workflows/doctor.js';
import { dbNow, getWorkflowByName, getWorkflowsByIds, listWorkflows, type WorkflowRow } from '../../workflows/queries.js';
import { describeSchedule, upcomingSlots } from '../../workflows/schedule.js';
import { DASHBOARD_CSP, signInPage, type SignInMethods } from '../dashboard-page.js';
import type { OidcSignIn } from '../../auth/oidc-client.js';
import { oidcRoutes } from './oidc-routes.js';
import { HTTP_STATUS } from '../errors.js';
import { addFormParser, identifyViewer, sameOrigin, sendHtml, type WebAuth, type WebIdentity } from '../web-auth.js';
import { renderApprovals, type ApprovalsView } from './approvals-page.js';
import { consolePage, CONSOLE_CSP, plainConsolePage, type Section } from './layout.js';
import { decidedLinkPage, decideLinkPage } from './decide-page.js';
import { decideByLink, openDecisionLink } from '../../notify/decision-links.js';
import { renderRun, renderRuns } from './runs-page.js';
import { renderWorkflows, type WorkflowView } from './workflows-page.js';

interface ConsoleDeps {
  db: Db;
  auth: WebAuth;
  /** For the doctor verdict: how often a scheduler is expected to tick. */
  schedulerIntervalSeconds: number;
  /** Sign-in with OpenID Connect (LEVQOR_OIDC_*); unset: none. */
  oidc?: OidcSignIn;
  /** Whether the sign-in page takes an API token (LEVQOR_CONSOLE_TOKEN_SIGNIN; default on). */
  tokenSignIn?: boolean;
}

const statusQuery = z
  .object({ status: z.enum(['pending', 'approved', 'rejected', 'expired']).default('pending'), decided: z.string().uuid().optional() })
  .strip();
const runsQuery = z
  .object({
    workflow: z.string().max(200).optional(),
    // The next page: older than this run ("<started_at>_<id>", from the page's own link).
    before: z
      .string()
      .regex(/^\d+(\.\d+)?_[0-9a-f-]{36}$/)
      .transform((v) => {
        const [at, id] = v.split('_');
        return { started_at: Number(at), id: id as string };
      })
      .optional(),
  })
  .strip();
/** How many runs a page shows. */
const RUNS_PAGE = 50;
const bulkForm = z
  .object({
    csrf: z.string().max(200).default(''),
    verb: z.enum(['approve', 'reject']),
    reason: z.string().optional(),
    ids: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  })
  .strip();
const idParams = z.object({ id: z.string().uuid() });
const decisionParams = z.object({ id: z.string().uuid(), verb: z.enum(['approve', 'reject', 'rerequest']) });
const formBody = z.object({ csrf: z.string().max(200).default(''), reason: z.string().optional() }).strip();

/** Slots as the workflow's zone shows them: "2026-12-07 02:30 Europe/London". */
function slotTexts(wf: WorkflowRow, count: number): string[] {
  const zone = wf.schedule_config.timezone ?? 'UTC';
  const fmt = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const slots = wf.is_active ? upcomingSlots(wf.schedule_config, wf.next_run_at, count) : [];
  return slots.map((s) => `${fmt.format(new Date(s * 1000))} ${zone}`);
}

function csrfMatches(identity: WebIdentity, sent: string): boolean {
  if (identity.csrf === undefined) return false;
  const a = Buffer.from(identity.csrf);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The operator console: /console/approvals (decide, history), /console/runs (+ a run's
 * timeline) and /console/workflows. It signs in through the dashboard's session (one cookie);
 * every decision goes through decideApproval, the ledger the API, CLI and Slack share.
 */
export function registerConsole(root: FastifyInstance, deps: ConsoleDeps): void {
  void root.register((app, _opts, done) => {
    addFormParser(app);
    routes(app, deps);
    if (deps.oidc) oidcRoutes(app, { db: deps.db, oidc: deps.oidc });
    done();
  });
}

function routes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { db } = deps;
  const methods: SignInMethods = { token: deps.tokenSignIn ?? true, oidc: deps.oidc?.label };
  const who = (i: WebIdentity) =>
    i.person
      ? `${i.person.display_name} (${i.person.role})`
      : `token ${i.name}${i.scopes.includes('approvals:decide') ? '' : ' (read-only)'}`;
  const page = (reply: FastifyReply, status: number, identity: WebIdentity, section: Section, title: string, body: string) =>
    sendHtml(reply, status, consolePage({ title, section, who: who(identity), csrf: identity.csrf, body }), CONSOLE_CSP);

  /** The signed-in identity, or undefined after answering with the sign-in form / a refusal. */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply, scope: Scope, asJson = false): Promise<WebIdentity | undefined> => {
    const viewer = await identifyViewer(deps.auth, request);
    if (viewer.kind === 'viewer' && viewer.identity) {
      const identity = viewer.identity;
      if (identity.scopes.includes(scope)) return identity;
      const message = identity.person
        ? `Your role (${identity.person.role}) does not allow ${scope}.`
        : `This token lacks the ${scope} scope.`;
      await (asJson
        ? reply.status(403).send({ error: 'forbidden', message })
        : page(reply, 403, identity, 'approvals', 'Forbidden', `<p class="flash bad" role="alert">${message}</p>`));
      return undefined;
    }
    if (asJson) {
      await reply
        .status(viewer.kind === 'unavailable' ? 503 : 401)
        .send({ error: viewer.kind === 'unavailable' ? 'db_unavailable' : 'unauthorized', message: 'sign in at /console' });
      return undefined;
    }
    const message =
      viewer.kind === 'unavailable'
        ? 'Cannot check your session: the database is unreachable.'
        : viewer.kind === 'anonymous' && viewer.hadSession
          ? 'Your session has ended. Sign in again.'
          : undefined;
    await sendHtml(
      reply,
      viewer.kind === 'unavailable' ? 503 : 200,
      signInPage(message, request.url.split('?')[0], methods),
      DASHBOARD_CSP,
    );
    return undefined;
  };

  const approvalsPage = async (
    reply: FastifyReply,
    identity: WebIdentity,
    status: z.infer<typeof statusQuery>['status'],
    code: number,
    notice: Pick<ApprovalsView, 'flash' | 'draft' | 'bulkDraft'> = {},
  ) => {
    const rows =
      status === 'pending'
        ? await listApprovals(db, identity.tenant_id, 'pending', 200)
        : await listDecidedApprovals(db, identity.tenant_id, status, 200);
    const body = renderApprovals({
      ...notice,
      status,
      rows,
      deciders:
        status === 'pending'
          ? {}
          : await deciderNames(
              db,
              rows.map((r) => r.id),
            ),
      now: await dbNow(db),
      csrf: identity.csrf,
      canDecide: identity.scopes.includes('approvals:decide'),
      canRerequest: identity.scopes.includes('actions:write'),
    });
    return page(reply, code, identity, 'approvals', 'Approvals', body);
  };

  app.get('/console', (_request, reply) => reply.redirect('/console/approvals', 303));

  app.get('/console/approvals', async (request, reply) => {
    const identity = await signedIn(request, reply, 'approvals:read');
    if (!identity) return reply;
    const query = statusQuery.safeParse(request.query);
    const q = query.success ? query.data : { status: 'pending' as const, decided: undefined };
    const decided = q.decided ? await getApproval(db, q.decided, identity.tenant_id) : undefined;
    const flash = decided
      ? {
          text: `${decided.summary}: ${decided.status}${decided.processed_by ? ` by ${decided.processed_by}` : ''}${decided.status === 'pending' ? ` (${decided.approvals_count} of ${decided.required_approvals} approvals)` : ''}.`,
          bad: false,
        }
      : undefined;
    return approvalsPage(reply, identity, q.status, 200, { flash });
  });

  app.get('/console/approvals/pending.json', async (request, reply) => {
    const identity = await signedIn(request, reply, 'approvals:read', true);
    if (!identity) return reply;
    void reply.header('cache-control', 'no-store');
    return { ids: (await listApprovals(db, identity.tenant_id, 'pending', 200)).map((a) => a.id) };
  });

  app.post('/console/approvals/:id/:verb', async (request, reply) => {
    const identity = await signedIn(request, reply, 'approvals:read');
    if (!identity) return reply;
    const params = decisionParams.safeParse(request.params);
    const form = formBody.safeParse(request.body ?? {});
    if (!sameOrigin(request) || !form.success || !csrfMatches(identity, form.data.csrf)) {
      return approvalsPage(reply, identity, 'pending', 403, {
        flash: {
          text: 'Refused: this form did not come from your console session (CSRF check). Reload the page and try again.',
          bad: true,
        },
      });
    }
    if (!params.success) return approvalsPage(reply, identity, 'pending', 404, { flash: { text: 'No such approval request.', bad: true } });
    const { id, verb } = params.data;
    try {
      const actor = actorOf(identity);
      if (verb === 'rerequest') {
        if (!identity.scopes.includes('actions:write')) throw new AppError('forbidden', 'this token lacks the actions:write scope');
        const made = await rerequestAction(db, id, identity.tenant_id, actor, 'console');
        // A workflow step is asked again by a new run: its page shows the request once it is made.
        if (made.kind === 'run') return reply.redirect(`/console/runs/${made.run.run_id}`, 303);
        return reply.redirect(`/console/approvals?decided=${made.approval.id}`, 303);
      }
      if (!identity.scopes.includes('approvals:decide'))
        throw new AppError('forbidden', 'this token lacks the approvals:decide scope: the queue is read-only');
      await decideApproval(db, { id, tenantId: identity.tenant_id, decision: verb, actor, channel: 'console', reason: form.data.reason });
      return reply.redirect(`/console/approvals?decided=${id}`, 303);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const draft = verb === 'reject' && form.data.reason !== undefined ? { id, reason: form.data.reason } : undefined;
      return approvalsPage(reply, identity, 'pending', HTTP_STATUS[err.code], { flash: { text: err.message, bad: true }, draft });
    }
  });

  app.post('/console/approvals/bulk', async (request, reply) => {
    const identity = await signedIn(request, reply, 'approvals:read');
    if (!identity) return reply;
    const form = bulkForm.safeParse(request.body ?? {});
    if (!sameOrigin(request) || !form.success || !csrfMatches(identity, form.data.csrf)) {
      return approvalsPage(reply, identity, 'pending', 403, {
        flash: {
          text: 'Refused: this form did not come from your console session (CSRF check). Reload the page and try again.',
          bad: true,
        },
      });
    }
    const { verb, reason, ids } = form.data;
    const bulkDraft = { ids, reason: reason ?? '' };
    if (ids.length === 0)
      return approvalsPage(reply, identity, 'pending', 400, {
        flash: { text: 'Select at least one request first.', bad: true },
        bulkDraft,
      });
    try {
      if (!identity.scopes.includes('approvals:decide'))
        throw new AppError('forbidden', 'this token lacks the approvals:decide scope: the queue is read-only');
      const results = await decideMany(db, {
        ids,
        tenantId: identity.tenant_id,
        decision: verb,
        actor: actorOf(identity),
        channel: 'console',
        reason,
      });
      const done = results.filter((r) => 'outcome' in r).length;
      const failed = results.flatMap((r) => ('error' in r ? [r.message] : []));
      const text = `${verb === 'approve' ? 'Approved' : 'Rejected'} ${done} of ${results.length}.${failed.length ? ` Not decided: ${failed.join('; ')}.` : ''}`;
      return approvalsPage(reply, identity, 'pending', 200, { flash: { text, bad: failed.length > 0 } });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return approvalsPage(reply, identity, 'pending', HTTP_STATUS[err.code], { flash: { text: err.message, bad: true }, bulkDraft });
    }
  });

  // Emailed decision links: the link's secret is the credential (no session); GET only shows.
  const linkParams = z.object({ token: z.string().max(200) });
  const linkForm = z.object({ verb: z.enum(['approve', 'reject']), reason: z.string().optional() }).strip();
  app.get('/console/decide/:token', async (request, reply) => {
    const params = linkParams.safeParse(request.params);
    const opened = params.success ? await openDecisionLink(db, params.data.token) : undefined;
    void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    if (!opened)
      return sendHtml(reply, 404, plainConsolePage({ title: 'Not found', body: '<h2>This link is not valid.</h2>' }), CONSOLE_CSP);
    const page = decideLinkPage({
      approval: opened.approval,
      identity: opened.link.identity,
      token: params.data?.token ?? '',
      problem: opened.problem,
    });
    return sendHtml(reply, opened.problem ? 410 : 200, page, CONSOLE_CSP);
  });
  app.post('/console/decide/:token', async (request, reply) => {
    const params = linkParams.safeParse(request.params);
    const form = linkForm.safeParse(request.body ?? {});
    void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const opened = params.success ? await openDecisionLink(db, params.data.token) : undefined;
    if (!opened)
      return sendHtml(reply, 404, plainConsolePage({ title: 'Not found', body: '<h2>This link is not valid.</h2>' }), CONSOLE_CSP);
    if (!sameOrigin(request) || !form.success)
      return sendHtml(
        reply,
        403,
        decidedLinkPage(opened.approval, 'Refused: this form did not come from the link page.', true),
        CONSOLE_CSP,
      );
    try {
      const { approval, outcome } = await decideByLink(db, params.data?.token ?? '', form.data.verb, form.data.reason);
      const text =
        outcome === 'vote_recorded'
          ? `Your approval is recorded (${approval.approvals_count} of ${approval.required_approvals}); the request is still pending.`
          : `${approval.status === 'approved' ? 'Approved' : 'Rejected'} as ${opened.link.identity}.`;
      return sendHtml(reply, 200, decidedLinkPage(approval, text, false), CONSOLE_CSP);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return sendHtml(reply, HTTP_STATUS[err.code], decidedLinkPage(opened.approval, err.message, true), CONSOLE_CSP);
    }
  });

  app.get('/console/runs', async (request, reply) => {
    const identity = await signedIn(request, reply, 'runs:read');
    if (!identity) return reply;
    const q = runsQuery.safeParse(request.query);
    const name = q.success ? q.data.workflow || undefined : undefined;
    const workflows = await listWorkflows(db, identity.tenant_id);
    const wf = name ? await getWorkflowByName(db, identity.tenant_id, name) : undefined;
    const before = q.success ? q.data.before : undefined;
    const runs = name && !wf ? [] : await listRuns(db, { tenantId: identity.tenant_id, workflowId: wf?.id, limit: RUNS_PAGE + 1, before });
    const last = runs.length > RUNS_PAGE ? runs[RUNS_PAGE - 1] : undefined;
    const older =
      last &&
      `/console/runs?${new URLSearchParams({ ...(name ? { workflow: name } : {}), before: `${last.started_at}_${last.id}` }).toString()}`;
    return page(
      reply,
      200,
      identity,
      'runs',
      'Runs',
      renderRuns(runs.slice(0, RUNS_PAGE), workflows, name, { older, paged: before !== undefined }),
    );
  });

  app.get('/console/runs/:id', async (request, reply) => {
    const identity = await signedIn(request, reply, 'runs:read');
    if (!identity) return reply;
    const params = idParams.safeParse(request.params);
    const run = params.success ? await getRun(db, params.data.id, identity.tenant_id) : undefined;
    if (!run)
      return page(reply, 404, identity, 'runs', 'Run not found', '<h2>Run not found</h2><p><a href="/console/runs">All runs</a></p>');
    const wf = (await getWorkflowsByIds(db, [run.workflow_id])).get(run.workflow_id);
    // The timeline has one reader (the one GET /api/runs/:id uses), whatever stores it.
    const events = await getRunEvents(db, run.id);
    const body = renderRun(run, wf, events, await listRunApprovals(db, run.id, identity.tenant_id), wf ? slotTexts(wf, 5) : []);
    return page(reply, 200, identity, 'runs', 'Run', body);
  });

  app.get('/console/workflows', async (request, reply) => {
    const identity = await signedIn(request, reply, 'workflows:read');
    if (!identity) return reply;
    const views: WorkflowView[] = [];
    for (const wf of await listWorkflows(db, identity.tenant_id)) {
      const [last] = await listRuns(db, { tenantId: identity.tenant_id, workflowId: wf.id, limit: 1 });
      const checks = await checkWorkflow(db, wf, deps.schedulerIntervalSeconds);
      views.push({
        workflow: wf,
        schedule: describeSchedule(wf.schedule_config),
        slots: slotTexts(wf, 5),
        lastRun: last && { id: last.id, status: last.status },
        problems: checks.filter((c) => !c.ok),
      });
    }
    return page(reply, 200, identity, 'workflows', 'Workflows', renderWorkflows(views));
  });
}
