import { mkdirSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../bot/app.js';
import { DASHBOARD_COOKIE } from '../src/http/dashboard.js';
import { startRun } from '../src/scheduler/manual.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { makeApiTenant, startApi, type ApiTenant, type TestApi } from './helpers/api.js';
import { ARTIFACTS, launchChromium, newPage } from './helpers/browser.js';
import { approvalState, requestApproval } from './helpers/console.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeWorkflow } from './helpers/fixtures.js';
import { blockAction, blockText, sendInteraction, startFakeSlack, startTestBot, type FakeSlack } from './helpers/slack.js';

// The console end to end, as an on-call engineer uses it: Debian's headless chromium against the
// real server on Postgres, with the real Bolt app deciding on the same ledger from "Slack".

const TEAM = `TCONSOLE${process.pid}`;
const CHANNEL = 'CCONSOLE';

/** The little of the DOM the page functions below touch (the project compiles without the DOM library). */
interface El {
  tagName: string;
  type?: string;
  id: string;
  labels?: ArrayLike<unknown> | null;
  getAttribute(name: string): string | null;
  textContent: string | null;
}
interface PageGlobals {
  document: { activeElement: El | null; querySelectorAll(selector: string): ArrayLike<El> };
  levqorMarker?: string;
}

/** Controls a user reaches that have no accessible name (no <label>, no aria-label, no text). */
function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    for (const el of Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('input, select, textarea, button'))) {
      if (el.tagName === 'INPUT' && el.type === 'hidden') continue;
      const named =
        (el.labels?.length ?? 0) > 0 ||
        Boolean(el.getAttribute('aria-label')) ||
        (el.tagName === 'BUTTON' && Boolean(el.textContent?.trim()));
      if (!named) missing.push(`${el.tagName.toLowerCase()}#${el.id}`);
    }
    return missing;
  });
}

const row = (page: Page, id: string): Locator => page.locator(`tr[data-approval-id="${id}"]`);

/** One attribute of every element a locator matches, in document order. */
const attrs = (locator: Locator, name: string): Promise<(string | null)[]> =>
  locator.evaluateAll((els, attr) => els.map((e) => (e as unknown as El).getAttribute(attr)), name);

let browser: Browser;
let t: TestDb;
let api: TestApi;
let tenant: ApiTenant;
let fake: FakeSlack;
let bot: RunningBot;

beforeAll(async () => {
  browser = await launchChromium();
  t = await openPgTestDb();
  api = await startApi(t.db);
  tenant = await makeApiTenant(
    t.db,
    { ops: 'all', requester: ['actions:write'], viewer: ['approvals:read', 'runs:read', 'workflows:read'] },
    'console-e2e',
  );
  await setSlackSettings(t.db, tenant.tenant.id, { team_id: TEAM, approvals_channel: CHANNEL });
  fake = await startFakeSlack();
  bot = await startTestBot(t.db, fake);
});

afterAll(async () => {
  await browser?.close();
  await bot?.stop();
  await fake?.close();
  await api?.close();
  await t?.close();
});

/** Signs in through the form /console shows, as a person pasting a token would. */
async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${api.baseUrl}/console`);
  await page.getByLabel('Access token').fill(token);
  await Promise.all([page.waitForURL(/\/console\/approvals$/), page.getByRole('button', { name: 'Sign in' }).click()]);
}

describe('the console in headless Chromium', () => {
  it('signs in, approves one (a double click decides once), rejects one with a reason, and drops a Slack-side decision without a reload', async () => {
    const approveMe = await requestApproval(api.baseUrl, tenant.token('requester'), 'deploy api 4.1.0', {
      service: 'api',
      version: '4.1.0',
    });
    const rejectMe = await requestApproval(api.baseUrl, tenant.token('requester'), 'drop table sessions', { sql: 'DROP TABLE sessions' });
    const slackSide = await requestApproval(api.baseUrl, tenant.token('requester'), 'rotate db password', { secret: 'db' });
    await fake.waitFor('chat.postMessage', (m) => m.args.channel === CHANNEL && blockText(m.args).includes(slackSide));

    const context = await browser.newContext();
    const { page, errors } = await newPage(context);
    await signIn(page, tenant.token('ops'));
    const cookie = (await context.cookies()).find((c) => c.name === DASHBOARD_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).toMatch(/^lvs_/);
    expect(await unlabelledControls(page)).toEqual([]);

    // Oldest first, each with the exact payload the approval binds to.
    const ids = await attrs(page.locator('tbody[data-poll] tr[data-approval-id]'), 'data-approval-id');
    expect(ids).toEqual([approveMe, rejectMe, slackSide]);
    await row(page, rejectMe)
      .getByText(/^Payload/)
      .click();
    await expect.poll(() => row(page, rejectMe).locator('pre').textContent()).toContain('"sql": "DROP TABLE sessions"');
    const {
      rows: [bound],
    } = await t.db.query<{ payload_hash: string }>('SELECT payload_hash FROM approval_queue WHERE id = $1', [rejectMe]);
    expect(await row(page, rejectMe).locator('summary code').textContent()).toBe(bound?.payload_hash);

    // Approve: a double click submits once (the button is disabled on the first submit).
    await Promise.all([
      page.waitForURL(`**/console/approvals?decided=${approveMe}`),
      page.getByRole('button', { name: 'Approve deploy api 4.1.0' }).dblclick(),
    ]);
    expect(await page.getByRole('status').first().textContent()).toContain('deploy api 4.1.0: approved by token:ops');
    expect(await row(page, approveMe).count()).toBe(0);
    expect(await approvalState(t.db, approveMe)).toMatchObject({ status: 'approved', processed_by: 'token:ops' });
    const votes = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM approval_votes WHERE approval_id = $1', [approveMe]);
    expect(votes.rows[0]?.n).toBe(1);

    // Reject, by keyboard alone: an empty reason is refused by the form, a reason and Enter rejects.
    const reason = row(page, rejectMe).getByLabel('Reason (required to reject)');
    await row(page, rejectMe).getByRole('button', { name: 'Reject drop table sessions' }).focus();
    await page.keyboard.press('Enter');
    expect(await reason.evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
    expect(await approvalState(t.db, rejectMe)).toMatchObject({ status: 'pending' });
    // The browser counts the reason as the server does, in code points: 500 emoji pass, 501 do not, spaces alone do not.
    const validity = () =>
      reason.evaluate((el) => {
        const v = el as unknown as { validity: { valid: boolean }; validationMessage: string };
        return { valid: v.validity.valid, message: v.validationMessage };
      });
    await reason.fill('🚫'.repeat(501));
    expect(await validity()).toEqual({ valid: false, message: 'At most 500 characters (this is 501).' });
    await reason.fill('🚫'.repeat(500));
    expect((await validity()).valid).toBe(true);
    await reason.fill('   ');
    expect(await validity()).toEqual({ valid: false, message: 'A reason cannot be only spaces.' });
    await reason.fill('');
    await reason.focus();
    await page.keyboard.type('not during the freeze 🚫');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('aria-label'))).toBe(
      'Reject drop table sessions',
    );
    await Promise.all([page.waitForURL(`**/console/approvals?decided=${rejectMe}`), page.keyboard.press('Enter')]);
    expect(await page.getByRole('status').first().textContent()).toContain('drop table sessions: rejected by token:ops');
    expect(await approvalState(t.db, rejectMe)).toMatchObject({ status: 'rejected', reason: 'not during the freeze 🚫' });

    // Someone approves in Slack: the row leaves this page without a reload.
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).levqorMarker = 'same page';
    });
    expect(await row(page, slackSide).count()).toBe(1);
    const slackTs = async () =>
      (await t.db.query<{ slack_ts: string | null }>('SELECT slack_ts FROM approval_queue WHERE id = $1', [slackSide])).rows[0]?.slack_ts;
    await expect.poll(slackTs).toBeTruthy();
    const click = await sendInteraction(
      bot,
      blockAction({
        user: 'UONCALL',
        team: TEAM,
        actionId: 'levqor_approve',
        approvalId: slackSide,
        channel: CHANNEL,
        messageTs: String(await slackTs()),
      }),
    );
    expect(click.status).toBe(200);
    await row(page, slackSide).waitFor({ state: 'detached' });
    expect(await page.locator('#live').textContent()).toContain('1 request(s) decided elsewhere');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).levqorMarker)).toBe('same page');
    expect(await approvalState(t.db, slackSide)).toMatchObject({ status: 'approved', processed_by: 'slack:UONCALL' });

    // History: who, when and why, on every face of the ledger.
    await page.getByRole('link', { name: 'rejected' }).click();
    const rejected = page.locator(`tr[data-history-id="${rejectMe}"]`);
    expect(await rejected.textContent()).toContain('not during the freeze 🚫');
    expect(await rejected.textContent()).toContain('token:ops');
    expect(await rejected.getByRole('button', { name: 'Re-request drop table sessions' }).count()).toBe(1);
    await page.getByRole('link', { name: 'approved' }).click();
    expect(await page.locator(`tr[data-history-id="${slackSide}"]`).textContent()).toContain('slack:UONCALL');
    expect(await page.locator(`tr[data-history-id="${approveMe}"]`).textContent()).toContain('token:ops');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}console-approvals.png`, fullPage: true, animations: 'disabled' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a token without approvals:decide the queue read-only', async () => {
    const id = await requestApproval(api.baseUrl, tenant.token('requester'), 'scale workers to 40');
    const context = await browser.newContext();
    const { page, errors } = await newPage(context);
    await signIn(page, tenant.token('viewer'));
    expect(await row(page, id).count()).toBe(1);
    expect(await page.locator('#read-only').textContent()).toContain('read-only');
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Reject/ }).count()).toBe(0);
    expect(await approvalState(t.db, id)).toMatchObject({ status: 'pending' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("reads workflows with their schedule and doctor verdict, and a run's whole timeline", async () => {
    const digest = await makeWorkflow(t.db, tenant.tenant.id, {
      name: 'nightly-digest',
      description: 'collects and counts',
      steps: [
        { type: 'log', message: 'collect for {{workflow.name}}' },
        { type: 'transform', set: { count: 3 } },
      ],
      schedule_config: { enabled: true, cron: '30 2 * * *', timezone: 'Europe/London' },
    });
    const broken = await makeWorkflow(t.db, tenant.tenant.id, {
      name: 'broken-toggle',
      steps: [{ type: 'set_workflow_active', workflow: 'ghost', active: false }],
    });
    const deps = testSchedulerDeps(t.db);
    const good = await startRun(deps, digest, { enqueue: false, trigger: 'manual', actor: 'cli:e2e' });
    await startRun(deps, broken, { enqueue: false, trigger: 'manual', actor: 'cli:e2e' });

    const context = await browser.newContext();
    const { page, errors } = await newPage(context);
    await signIn(page, tenant.token('ops'));
    await page.getByRole('link', { name: 'Workflows' }).click();
    const digestRow = page.locator('tr[data-workflow="nightly-digest"]');
    expect(await digestRow.textContent()).toContain('every day at 02:30 (Europe/London)');
    const slots = await digestRow.locator('ol li').allTextContents();
    expect(slots).toHaveLength(5);
    for (const s of slots) expect(s).toMatch(/^\d{4}-\d{2}-\d{2} 02:30 Europe\/London$/);
    // No scheduler runs in this test, so the doctor says so; the broken one also shows its failed run.
    expect(await digestRow.textContent()).toContain('scheduler running');
    const brokenRow = page.locator('tr[data-workflow="broken-toggle"]');
    expect(await brokenRow.textContent()).toContain('last run');
    expect(await brokenRow.getByRole('link', { name: 'failed' }).count()).toBe(1);

    // Runs of one workflow, chosen by its labelled select, then the run's page.
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByLabel('Workflow').selectOption('nightly-digest');
    await Promise.all([page.waitForURL(/workflow=nightly-digest/), page.getByRole('button', { name: 'Show' }).click()]);
    expect(await page.locator('tr[data-run-id]').count()).toBe(1);
    await Promise.all([
      page.waitForURL(new RegExp(`/console/runs/${good.runId}$`)),
      page.getByRole('link', { name: 'nightly-digest' }).click(),
    ]);
    expect(await page.locator('#run-status').textContent()).toBe('succeeded');
    const timeline = await attrs(page.locator('#timeline li'), 'data-event');
    expect(timeline).toEqual(['run_started', 'step_started', 'step_finished', 'step_started', 'step_finished', 'run_finished']);
    expect(await page.locator('#timeline').textContent()).toContain('"count": 3');
    expect(await page.locator('#next-slots li').count()).toBe(5);

    // The failed run: its error and the error event on the same timeline.
    await page.getByRole('link', { name: 'Workflows' }).click();
    await Promise.all([page.waitForURL(/\/console\/runs\/[0-9a-f-]+$/), brokenRow.getByRole('link', { name: 'failed' }).click()]);
    expect(await page.locator('#run-status').textContent()).toBe('failed');
    expect(await page.locator('dd.bad').textContent()).toContain('ghost');
    const events = await attrs(page.locator('#timeline li'), 'data-event');
    expect(events[0]).toBe('run_started');
    expect(events.at(-1)).toBe('run_finished');
    expect(events).toContain('step_failed');
    expect(await page.locator('#next-slots').textContent()).toContain('Not scheduled');

    expect(await unlabelledControls(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
