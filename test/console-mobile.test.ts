import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../src/scheduler/manual.js';
import { makeApiTenant, startApi, type ApiTenant, type TestApi } from './helpers/api.js';
import { launchChromium, newPage } from './helpers/browser.js';
import { approvalState, requestApproval } from './helpers/console.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeWorkflow } from './helpers/fixtures.js';

// The console on a phone (390 × 844, touch, New York time) and on a desktop: cards instead of
// tables, nothing scrolling sideways, decisions by keyboard alone, bulk decisions, runs paged,
// times in the viewer's zone, and axe finding no serious or critical accessibility violation.

const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
  timezoneId: 'America/New_York',
};

/** The DOM the page functions below read (the project compiles without the DOM library). */
interface Win {
  innerWidth: number;
  document: {
    documentElement: { scrollWidth: number };
    querySelectorAll(s: string): ArrayLike<{ offsetHeight: number; textContent: string | null }>;
  };
  getComputedStyle(el: unknown): { lineHeight: string; paddingTop: string; paddingBottom: string; display: string };
}

let browser: Browser;
let t: TestDb;
let api: TestApi;
let tenant: ApiTenant;

beforeAll(async () => {
  browser = await launchChromium();
  t = await openPgTestDb();
  api = await startApi(t.db);
  tenant = await makeApiTenant(t.db, { ops: 'all', requester: ['actions:write'] }, 'console-phone');
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await t?.close();
});

async function signIn(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const opened = await newPage(context);
  await opened.page.goto(`${api.baseUrl}/console`);
  await opened.page.getByLabel('Access token').fill(tenant.token('ops'));
  await Promise.all([opened.page.waitForURL(/\/console\/approvals$/), opened.page.getByLabel('Access token').press('Enter')]);
  return opened;
}

/** How far the page scrolls sideways (0: not at all). */
/** The run ids a runs page lists, in order. */
const runIds = (page: Page): Promise<(string | null)[]> =>
  page
    .locator('tr[data-run-id]')
    .evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('data-run-id')));

const sideways = (page: Page) =>
  page.evaluate(() => ((w) => w.document.documentElement.scrollWidth - w.innerWidth)(globalThis as unknown as Win));

/** Serious and critical accessibility violations, as "rule: target" lines. */
async function axeProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

describe('the console on a phone', () => {
  it('shows requests as cards and approves and rejects with the keyboard alone', async () => {
    const approveMe = await requestApproval(api.baseUrl, tenant.token('requester'), 'deploy web 7.0.1 to production', { service: 'web' });
    const rejectMe = await requestApproval(api.baseUrl, tenant.token('requester'), 'truncate the audit partition', { table: 'audit' });
    const context = await browser.newContext(PHONE);
    const { page, errors } = await signIn(context);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    // A card: the row is a block, the column headings are carried by each cell.
    const card = page.locator(`tr[data-approval-id="${approveMe}"]`);
    expect(await card.evaluate((el) => (globalThis as unknown as Win).getComputedStyle(el).display)).toBe('block');
    expect(await card.locator('td[data-label="Requester"]').textContent()).toContain('token:requester');

    await page.getByRole('button', { name: 'Approve deploy web 7.0.1 to production' }).focus();
    await Promise.all([page.waitForURL(new RegExp(`decided=${approveMe}`)), page.keyboard.press('Enter')]);
    expect(await approvalState(t.db, approveMe)).toMatchObject({ status: 'approved', processed_by: 'token:ops' });

    await page.locator(`#reason-${rejectMe}`).focus();
    await page.keyboard.type('not during the freeze');
    await Promise.all([page.waitForURL(new RegExp(`decided=${rejectMe}`)), page.keyboard.press('Enter')]);
    expect(await approvalState(t.db, rejectMe)).toMatchObject({ status: 'rejected', reason: 'not during the freeze' });
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('decides several at once with one reason; a refused batch keeps the selection and the reason', async () => {
    const a = await requestApproval(api.baseUrl, tenant.token('requester'), 'bulk one', { n: 1 });
    const b = await requestApproval(api.baseUrl, tenant.token('requester'), 'bulk two', { n: 2 });
    const c = await requestApproval(api.baseUrl, tenant.token('requester'), 'bulk three', { n: 3 });
    const context = await browser.newContext(PHONE);
    const { page, errors } = await signIn(context);
    for (const id of [a, b]) {
      await page.locator(`#pick-${id}`).focus();
      await page.keyboard.press('Space');
    }
    expect(await page.locator('#bulk-count').textContent()).toBe('2 selected');
    // Reject without a reason: refused, nothing decided, the selection is still there.
    await page.getByRole('button', { name: 'Reject selected' }).focus();
    await Promise.all([page.waitForURL(/\/console\/approvals\/bulk$/), page.keyboard.press('Enter')]);
    expect(await page.locator('#flash').textContent()).toContain('a rejection needs a reason');
    expect(await page.locator(`#pick-${a}`).isChecked()).toBe(true);
    expect(await page.locator(`#pick-${b}`).isChecked()).toBe(true);
    expect(await page.locator(`#pick-${c}`).isChecked()).toBe(false);
    expect((await approvalState(t.db, a)).status).toBe('pending');

    await page.getByLabel('Reason for the selected requests (required to reject)').fill('superseded by 7.0.2');
    await page.getByRole('button', { name: 'Reject selected' }).focus();
    // Same URL again: wait for the new document, not for the address.
    await Promise.all([page.waitForEvent('framenavigated'), page.keyboard.press('Enter')]);
    await page.waitForLoadState('domcontentloaded');
    expect(await page.locator('#flash').textContent()).toBe('Rejected 2 of 2.');
    for (const id of [a, b]) expect(await approvalState(t.db, id)).toMatchObject({ status: 'rejected', reason: 'superseded by 7.0.2' });
    expect((await approvalState(t.db, c)).status).toBe('pending');
    const { rows } = await t.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'approval.rejected' AND actor = 'token:ops' AND subject = ANY($1)",
      [[`approval:${a}`, `approval:${b}`]],
    );
    expect(Number(rows[0]?.n)).toBe(2);
    // The refused batch's page came with its 400, which the browser logs; nothing else went wrong.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await context.close();
  });

  it('pages runs newest first, shows times in the viewer zone and links dashboard and console', async () => {
    const wf = await makeWorkflow(t.db, tenant.tenant.id, { name: 'phone-paging', steps: [{ type: 'log', message: 'hi' }] });
    const deps = testSchedulerDeps(t.db);
    const ids: string[] = [];
    for (let i = 0; i < 52; i++) ids.push((await startRun(deps, wf, { enqueue: false, trigger: 'manual', actor: 'cli:e2e' })).runId);
    const context = await browser.newContext(PHONE);
    const { page, errors } = await signIn(context);
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.waitForURL(/\/console\/runs$/);
    const first = await runIds(page);
    expect(first).toHaveLength(50);
    await Promise.all([page.waitForURL(/before=/), page.getByRole('link', { name: 'Older runs' }).click()]);
    const second = await runIds(page);
    expect(second).toHaveLength(2);
    expect(new Set([...first, ...second])).toEqual(new Set(ids));
    const started = page.locator('tr[data-run-id] td[data-label="Started"] time').first();
    expect(await started.textContent()).toMatch(/\b(EST|EDT)$/);
    expect(await started.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await page.getByRole('link', { name: 'Newest runs' }).count()).toBe(1);
    expect(await sideways(page)).toBeLessThanOrEqual(0);

    await Promise.all([page.waitForURL(/\/dashboard$/), page.getByRole('link', { name: 'Dashboard' }).click()]);
    await Promise.all([page.waitForURL(/\/console\/approvals$/), page.getByRole('link', { name: 'Console' }).click()]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('every console page', () => {
  it('has no sideways scroll at 390 px and no serious or critical axe violation; desktop headings stay on one line', async () => {
    await requestApproval(api.baseUrl, tenant.token('requester'), 'an approval with a rather long summary to wrap on a phone screen', {
      url: 'https://example.com/a/very/long/path/that/should/wrap/and/never/push/the/page/sideways/at/all',
    });
    const wf = await makeWorkflow(t.db, tenant.tenant.id, {
      name: 'axe-check',
      steps: [{ type: 'log', message: 'hello' }],
      schedule_config: { enabled: true, cron: '0 3 * * *', timezone: 'UTC' },
    });
    const run = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'cli:e2e' });
    const pages = [
      '/console/approvals',
      '/console/approvals?status=rejected',
      '/console/runs',
      `/console/runs/${run.runId}`,
      '/console/workflows',
    ];
    const signedOut = await newPage(await browser.newContext(PHONE));
    await signedOut.page.goto(`${api.baseUrl}/console`);
    const problems: Record<string, string[]> = { 'sign-in': await axeProblems(signedOut.page) };
    const phone = await signIn(await browser.newContext(PHONE));
    const desktop = await signIn(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const tallHeadings: string[] = [];
    for (const path of pages) {
      await phone.page.goto(`${api.baseUrl}${path}`);
      expect(await sideways(phone.page), path).toBeLessThanOrEqual(0);
      problems[path] = await axeProblems(phone.page);
      await desktop.page.goto(`${api.baseUrl}${path}`);
      tallHeadings.push(
        ...(
          await desktop.page.evaluate(() => {
            const w = globalThis as unknown as Win;
            return Array.from(w.document.querySelectorAll('th'))
              .filter((th) => {
                const s = w.getComputedStyle(th);
                return th.offsetHeight > parseFloat(s.lineHeight) * 1.5 + parseFloat(s.paddingTop) + parseFloat(s.paddingBottom);
              })
              .map((th) => th.textContent ?? '');
          })
        ).map((h) => `${path}: ${h}`),
      );
    }
    expect(problems).toEqual(Object.fromEntries(Object.keys(problems).map((k) => [k, []])));
    expect(tallHeadings).toEqual([]);
    expect([...signedOut.errors, ...phone.errors, ...desktop.errors]).toEqual([]);
  }, 240_000);
});
