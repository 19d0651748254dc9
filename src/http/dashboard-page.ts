import { DASHBOARD_SCRIPT, DASHBOARD_STYLE } from './client-assets.generated.js';
import { h, htmlDocument, inlineCsp } from './html.js';

// The dashboard's markup: the tiles start as "loading" placeholders that the page's script
// (src/http/client/dashboard.ts) fills from server-sent snapshots with textContent and
// attributes only. Style and script are inline, pinned by hash in the CSP.

const DASHBOARD = { style: DASHBOARD_STYLE, script: DASHBOARD_SCRIPT };
const SIGN_IN = { style: DASHBOARD_STYLE };

/** Content-Security-Policy of the dashboard and sign-in pages. */
export const DASHBOARD_CSP = inlineCsp(DASHBOARD);

const rate = (w: string, label: string) => `
    <div class="rate">
      <div class="rate-head"><span class="label">${label}</span><span class="rate-val" data-field="rate_${w}" data-value="loading">—</span></div>
      <div class="bar" role="img" aria-label="${label}" data-field="bar_${w}" data-value="loading"><span class="fill"></span><span class="limit"></span></div>
      <p class="sub" data-field="counts_${w}" data-value="loading">—</p>
    </div>`;

const stat = (field: string, label: string) => `<div><dt>${label}</dt><dd data-field="${field}" data-value="loading">—</dd></div>`;

const TILES = `
<main class="grid" id="tiles" aria-busy="true">
  <section class="tile w2" data-tile="status" data-value="loading" aria-labelledby="h-status">
    <h2 id="h-status">Status</h2>
    <p class="big"><span class="badge" data-field="status" data-value="loading">Loading</span></p>
    <ul class="list" data-field="reasons" data-value="0"></ul>
  </section>
  <section class="tile" data-tile="uptime" data-value="loading" aria-labelledby="h-uptime">
    <h2 id="h-uptime">Uptime</h2>
    <dl class="kv">${stat('process', 'This process')}${stat('deployment', 'Deployment')}</dl>
  </section>
  <section class="tile" data-tile="db-latency" data-value="loading" aria-labelledby="h-db">
    <h2 id="h-db">Database latency</h2>
    <p class="big" data-field="latency" data-value="loading">—</p>
    <p class="sub" data-field="db_state" data-value="loading"></p>
  </section>
  <section class="tile w2" data-tile="error-rate" data-value="loading" aria-labelledby="h-rate">
    <h2 id="h-rate">Error rate</h2>
    <p class="note">Failed share of finished runs; the line marks the 5 % target.</p>
    ${rate('1h', 'Last hour')}
    ${rate('24h', 'Last 24 hours')}
    <div class="axis" aria-hidden="true"><span class="a0">0 %</span><span class="a5">5 %</span><span class="amax">20 %+</span></div>
  </section>
  <section class="tile w2 fill" data-tile="queues" data-value="loading" aria-labelledby="h-queues">
    <h2 id="h-queues">Queue depths</h2>
    <dl class="stats">${stat('pending_approvals', 'Pending approvals')}${stat('due_unclaimed_workflows', 'Due, unclaimed workflows')}${stat('queued_runs', 'Queued runs')}${stat('running_runs', 'Running runs')}${stat('waiting_approval_runs', 'Runs waiting approval')}<div class="total"><dt>Backlog (approvals, due, queued)</dt><dd data-field="backlog" data-value="loading">—</dd></div></dl>
  </section>
  <section class="tile w2" data-tile="runs-per-minute" data-value="loading" aria-labelledby="h-rpm">
    <h2 id="h-rpm">Runs per minute</h2>
    <p class="sub" data-field="summary" data-value="loading">—</p>
    <svg class="spark" data-field="spark" data-value="" viewBox="0 0 300 104" preserveAspectRatio="none" role="img" aria-label="Runs per minute over the last 30 minutes"></svg>
    <div class="spark-axis" aria-hidden="true"><span>30 min ago</span><span>failures in red</span><span>now</span></div>
  </section>
  <section class="tile w2" data-tile="scaling" data-value="loading" aria-labelledby="h-scaling">
    <h2 id="h-scaling">Scaling decision</h2>
    <dl class="scale-grid">
      <div><dt>Action</dt><dd data-field="action" data-value="loading">—</dd></div>
      <div><dt>Load level</dt><dd data-field="level" data-value="loading">—</dd></div>
      <div><dt>Recommended replicas</dt><dd data-field="replicas" data-value="loading">—</dd></div>
    </dl>
    <p class="sub" data-field="inputs" data-value="loading"></p>
    <ul class="list" data-field="reasons" data-value=""></ul>
  </section>
  <section class="tile" data-tile="scheduler" data-value="loading" aria-labelledby="h-scheduler">
    <h2 id="h-scheduler">Scheduler last tick</h2>
    <p class="big" data-field="age" data-value="loading">—</p>
    <p class="sub"><span class="badge" data-field="stale" data-value="loading">—</span></p>
    <p class="sub" data-field="instances" data-value="loading"></p>
  </section>
  <section class="tile w3" data-tile="alerts" data-value="loading" aria-labelledby="h-alerts">
    <h2 id="h-alerts">Alerts <span class="badge" data-field="firing" data-value="loading">—</span></h2>
    <ul class="list" data-field="list" data-value=""></ul>
  </section>
</main>`;

function header(signOut: boolean): string {
  return `<header class="top">
  <h1>Levqor <span>health</span></h1>
  <nav class="links" aria-label="Levqor"><a href="/console">Console</a></nav>
  <p class="conn" id="conn" role="status" data-connection="connecting"><span class="dot" aria-hidden="true"></span><span id="conn-text">Connecting</span></p>
  <p class="updated">Updated <time id="updated" data-value="">—</time></p>
  ${signOut ? '<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>' : ''}
</header>`;
}

const PAGE_SIGNED_IN = htmlDocument({ title: 'Levqor health', assets: DASHBOARD, body: header(true) + TILES });
const PAGE_PUBLIC = htmlDocument({ title: 'Levqor health', assets: DASHBOARD, body: header(false) + TILES });

/** The live dashboard page (with a sign-out button unless it is public). */
export function dashboardPage(opts: { isPublic: boolean }): string {
  return opts.isPublic ? PAGE_PUBLIC : PAGE_SIGNED_IN;
}

/** The ways a browser may sign in: an API token (unless turned off) and the OpenID provider (its label), when configured. */
export interface SignInMethods {
  token: boolean;
  oidc?: string;
}

/** The sign-in page, with an optional error shown above it; `next` is where it leads (the dashboard by default). */
export function signInPage(error?: string, next?: string, methods: SignInMethods = { token: true }): string {
  const product = next?.startsWith('/console') ? 'Levqor console' : 'Levqor health';
  const oidcHref = `/console/oidc/login?${new URLSearchParams({ next: next ?? '/dashboard' }).toString()}`;
  const oidc = methods.oidc ? `<a class="provider" href="${h(oidcHref)}">Sign in with ${h(methods.oidc)}</a>` : '';
  const token = methods.token
    ? `${oidc ? '<p class="or">Or, for admins and break-glass access, with an API token:</p>' : ''}
  <form method="post" action="/dashboard/login">
    ${next ? `<input type="hidden" name="next" value="${h(next)}">` : ''}
    <label for="token">Access token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" spellcheck="false" required${oidc ? '' : ' autofocus'}>
    <button type="submit">Sign in</button>
  </form>`
    : '';
  const sub = oidc
    ? 'Sign in with your organisation account.'
    : 'Sign in with an API token (create one with <code>levqor token create</code>).';
  return htmlDocument({
    title: `Sign in · ${product}`,
    assets: SIGN_IN,
    body: `<main class="signin">
  <h1>${product}</h1>
  <p class="sub">${sub}</p>
  ${error ? `<p class="error" role="alert" id="signin-error">${h(error)}</p>` : ''}
  ${oidc}
  ${token}
</main>`,
  });
}
