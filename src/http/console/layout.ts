import { CONSOLE_SCRIPT, CONSOLE_STYLE } from '../client-assets.generated.js';
import { h, htmlDocument, inlineCsp } from '../html.js';

// Server-rendered pages with one small script (src/http/client/console.ts): no inline handlers,
// no innerHTML; the CSP pins the inline style and script by hash, so an injected <script> or
// attribute cannot run.

const CONSOLE = { style: CONSOLE_STYLE, script: CONSOLE_SCRIPT };

/** Content-Security-Policy of every console page. */
export const CONSOLE_CSP = inlineCsp(CONSOLE);

const NAV = [
  ['approvals', '/console/approvals', 'Approvals'],
  ['runs', '/console/runs', 'Runs'],
  ['workflows', '/console/workflows', 'Workflows'],
] as const;

export type Section = (typeof NAV)[number][0];

/** A console page: header with navigation and sign-out, then the body. */
export function consolePage(opts: { title: string; section: Section; who: string; csrf?: string; body: string }): string {
  const nav = NAV.map(([key, href, label]) => `<a href="${href}"${key === opts.section ? ' aria-current="page"' : ''}>${label}</a>`).join(
    '',
  );
  const signOut = opts.csrf
    ? '<form class="inline" method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>'
    : '';
  return htmlDocument({
    title: `${opts.title} · Levqor console`,
    assets: CONSOLE,
    body: `<header><h1>Levqor console</h1><nav aria-label="Console">${nav}<a href="/dashboard">Dashboard</a></nav><span class="who">${h(opts.who)}</span>${signOut}</header>
<main>${opts.body}</main>`,
  });
}

/** A page outside the signed-in console (an emailed decision link): the same look, no navigation. */
export function plainConsolePage(opts: { title: string; body: string }): string {
  return htmlDocument({
    title: `${opts.title} · Levqor`,
    assets: CONSOLE,
    body: `<header><h1>Levqor</h1></header>\n<main>${opts.body}</main>`,
  });
}

/** An epoch-seconds time as ISO UTC (or "—"). */
export function iso(t: number | null | undefined): string {
  return t === null || t === undefined ? '—' : new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A time the browser shows in the viewer's own zone (console.ts); ISO UTC until it does, and without script. */
export function localTime(t: number | null | undefined): string {
  if (t === null || t === undefined) return '—';
  const utc = iso(t);
  return `<time datetime="${utc}" data-local>${utc}</time>`;
}

/** Pretty JSON for a <pre>, escaped. */
export function json(value: unknown): string {
  return h(JSON.stringify(value, null, 2));
}
