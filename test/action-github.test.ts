import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient, upsertStickyComment } from '../src/action/github.js';
import { reviewApprover } from '../src/action/reviews.js';
import { AppError } from '../src/lib/errors.js';
import { issueComment, review, startFakeGitHub, type FakeComment, type FakeGitHub } from './helpers/github.js';

// The action's GitHub client (Octokit with the paginate, retry and throttling plugins) against the
// local fake GitHub: lists across pages by the Link header, rate limits and server errors retried.

const TOKEN = 'ghs_octokitTestToken';
const MARKER = '<!-- levqor-checks -->';
let gh: FakeGitHub;
const warnings: string[] = [];
// Retries wait 1 ms per second asked for, instead of 1 s.
const client = () => createGitHubClient({ apiUrl: gh.url, token: TOKEN, retryAfterBaseValue: 1, warn: (m) => warnings.push(m) });
const comments = (n: number, marked?: number): FakeComment[] =>
  Array.from({ length: n }, (_, i) => issueComment({ id: i + 1, body: i + 1 === marked ? `${MARKER}\nold` : `comment ${i + 1}` }));
const callsTo = (path: RegExp) => gh.calls.filter((c) => path.test(c.path)).map((c) => `${c.method} ${c.path}`);

beforeAll(async () => {
  gh = await startFakeGitHub(TOKEN);
});
afterAll(async () => {
  await gh.close();
});

describe('the action GitHub client', () => {
  it('finds the sticky comment on the second page of 120 comments and updates it in place', async () => {
    gh.comments.set(9, comments(120, 115));
    const r = await upsertStickyComment(client(), 'acme/shop', 9, MARKER, `${MARKER}\nnew`);
    expect(r).toEqual({ id: 115, created: false });
    expect(callsTo(/\/issues\/(9\/)?comments/)).toEqual([
      'GET /repos/acme/shop/issues/9/comments?per_page=100',
      'GET /repos/acme/shop/issues/9/comments?per_page=100&page=2',
      'PATCH /repos/acme/shop/issues/comments/115',
    ]);
    expect(gh.comments.get(9)).toHaveLength(120);
    expect(gh.comments.get(9)?.[114]?.body).toBe(`${MARKER}\nnew`);
  });

  it("reads every page of reviews: an approval on page 2 is each reviewer's latest verdict", async () => {
    const head = 'a'.repeat(40);
    const list = Array.from({ length: 130 }, (_, i) =>
      review({ id: i + 1, login: i === 0 ? 'carol' : `user${i}`, state: 'COMMENTED', commitId: head }),
    );
    list[1] = review({ id: 2, login: 'carol', state: 'CHANGES_REQUESTED', commitId: head });
    list[125] = review({ id: 126, login: 'carol', state: 'APPROVED', commitId: head });
    gh.reviews.set(11, list);
    const approve = reviewApprover(client(), ['carol'], 'alice');
    const outcome = await approve(
      { repository: 'acme/shop', number: 11, baseSha: 'b'.repeat(40), headSha: head },
      {
        added: [],
        removed: [],
        changed: ['migrations/1.sql'],
        modes: [],
        renamed: [],
        manifestChanged: false,
      },
    );
    expect(outcome).toMatchObject({ state: 'approved', by: 'github:carol' });
    expect(callsTo(/\/pulls\/11\/reviews/)).toHaveLength(2);
  });

  it('a 403 secondary rate limit is retried after Retry-After, with a warning, and the call succeeds', async () => {
    gh.comments.set(12, comments(3));
    gh.rateLimit(/\/issues\/12\/comments$/, 'secondary', 1, 2);
    warnings.length = 0;
    const r = await upsertStickyComment(client(), 'acme/shop', 12, MARKER, `${MARKER}\nfirst`);
    expect(r.created).toBe(true);
    expect(callsTo(/\/issues\/12\/comments/)).toEqual([
      'GET /repos/acme/shop/issues/12/comments?per_page=100',
      'GET /repos/acme/shop/issues/12/comments?per_page=100',
      'POST /repos/acme/shop/issues/12/comments',
    ]);
    expect(warnings).toEqual(['GitHub secondary rate limit on GET /repos/acme/shop/issues/12/comments: trying again in 2 s (1/2)']);
  });

  it('the primary rate limit (remaining 0) is retried once it resets', async () => {
    gh.comments.set(13, comments(2));
    gh.rateLimit(/\/issues\/13\/comments$/, 'primary', 1, 1);
    warnings.length = 0;
    expect((await client().listIssueComments('acme/shop', 13)).map((c) => c.id)).toEqual([1, 2]);
    expect(callsTo(/\/issues\/13\/comments/)).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^GitHub primary rate limit on GET \/repos\/acme\/shop\/issues\/13\/comments: trying again in \d s \(1\/2\)$/,
    );
  });

  it('a server error is retried; a rate limit that persists fails naming the call', async () => {
    gh.comments.set(14, comments(1));
    gh.failWith(/\/issues\/14\/comments$/, 502, 1);
    expect(await client().listIssueComments('acme/shop', 14)).toHaveLength(1);
    expect(callsTo(/\/issues\/14\/comments/)).toHaveLength(2);

    gh.rateLimit(/\/issues\/15\/comments$/, 'secondary', 10, 1);
    const err = await client()
      .listIssueComments('acme/shop', 15)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('upstream');
    expect((err as AppError).message).toBe(
      'GitHub GET /repos/acme/shop/issues/15/comments: 403 You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    );
    expect(callsTo(/\/issues\/15\/comments/)).toHaveLength(3);
  });

  it('a 404 or 403 is not retried', async () => {
    gh.failWith(/\/issues\/16\/comments$/, 403);
    await expect(client().listIssueComments('acme/shop', 16)).rejects.toThrow(
      'GitHub GET /repos/acme/shop/issues/16/comments: 403 Resource not accessible by integration',
    );
    expect(callsTo(/\/issues\/16\/comments/)).toHaveLength(1);
    expect(await client().teamVisible('acme', 'nobody')).toBe(false);
    expect(callsTo(/\/orgs\/acme\/teams\/nobody/)).toHaveLength(1);
  });
});
