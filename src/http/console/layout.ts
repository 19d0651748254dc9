import { h, htmlDocument, inlineCsp } from '../html.js';

// Server-rendered pages with one small script: no inline handlers, no innerHTML; the CSP pins
// the inline style and script by hash, so an injected <script> or attribute cannot run.

const STYLE = String.raw`
:root { color-scheme: light dark; --bg:#f5f6f8; --card:#fff; --fg:#1c2128; --muted:#57606a; --line:#d0d7de; --accent:#0969da; --good:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --card:#161b22; --fg:#e6edf3; --muted:#9198a1; --line:#30363d; --accent:#4493f8; --good:#3fb950; --bad:#f85149; --warn:#d29922; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .8rem 1.5rem; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 1.1rem; }
a { color: var(--accent); }
nav a { margin-right: 1rem; text-decoration: none; }
a[aria-current="page"] { font-weight: 700; text-decoration: underline; }
.who { margin-left: auto; color: var(--muted); font-size: .875rem; }
main { max-width: 1200px; margin: 0 auto; padding: 1.25rem 1.5rem 2rem; }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { font-size: .8rem; text-transform: uppercase; color: var(--muted); }
pre { margin: .3rem 0 0; max-height: 16rem; overflow: auto; font-size: .8rem; background: var(--bg); padding: .4rem; border-radius: 4px; white-space: pre-wrap; }
button, input, select { font: inherit; font-size: .875rem; }
button { padding: .3rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button[disabled] { opacity: .5; cursor: progress; }
label { display: block; font-size: .8rem; color: var(--muted); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
form.inline { display: inline-block; margin: .2rem .4rem .2rem 0; }
.flash { padding: .6rem .9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); }
.flash.bad { border-color: var(--bad); color: var(--bad); }
.muted { color: var(--muted); } .good { color: var(--good); } .bad { color: var(--bad); } .warn { color: var(--warn); }
code { font-size: .85em; }
`;

const SCRIPT = String.raw`
(() => {
  // One decision per click: the button stays disabled until the page answers.
  for (const form of document.querySelectorAll('form[data-once]')) {
    form.addEventListener('submit', () => { for (const b of form.querySelectorAll('button')) b.disabled = true; });
  }
  // The server counts a reason in code points (an emoji is one), as the browser's maxlength does not.
  for (const input of document.querySelectorAll('input[data-max-points]')) {
    const max = Number(input.getAttribute('data-max-points'));
    const check = () => {
      const n = [...input.value.trim()].length;
      input.setCustomValidity(n > max ? 'At most ' + max + ' characters (this is ' + n + ').' : input.required && n === 0 && input.value.length > 0 ? 'A reason cannot be only spaces.' : '');
    };
    input.addEventListener('input', check);
    check();
  }
  const list = document.querySelector('[data-poll]');
  if (!list) return;
  const notice = document.getElementById('live');
  const tick = async () => {
    try {
      const res = await fetch(list.getAttribute('data-poll'), { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!res.ok) return;
      const { ids } = await res.json();
      const live = new Set(ids);
      let gone = 0;
      for (const row of list.querySelectorAll('[data-approval-id]')) {
        if (!live.has(row.getAttribute('data-approval-id'))) { row.remove(); gone++; }
      }
      const shown = new Set([...list.querySelectorAll('[data-approval-id]')].map((r) => r.getAttribute('data-approval-id')));
      const added = ids.filter((id) => !shown.has(id)).length;
      if (notice && (gone || added)) notice.textContent = (gone ? gone + ' request(s) decided elsewhere. ' : '') + (added ? added + ' new request(s): reload to see them.' : '');
    } catch { /* the next tick retries */ }
  };
  setInterval(tick, Number(list.getAttribute('data-poll-ms')) || 3000);
})();
`;

/** Content-Security-Policy of every console page. */
export const CONSOLE_CSP = inlineCsp({ style: STYLE, script: SCRIPT });

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
    assets: { style: STYLE, script: SCRIPT },
    body: `<header><h1>Levqor console</h1><nav aria-label="Console">${nav}</nav><span class="who">${h(opts.who)}</span>${signOut}</header>
<main>${opts.body}</main>`,
  });
}

/** An epoch-seconds time as ISO UTC (or "—"). */
export function iso(t: number | null | undefined): string {
  return t === null || t === undefined ? '—' : new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A span of seconds in words: "45 s", "12 min", "3.5 h", "2.0 days". */
export function span(seconds: number): string {
  const s = Math.max(0, seconds);
  return s < 90
    ? `${Math.round(s)} s`
    : s < 5400
      ? `${Math.round(s / 60)} min`
      : s < 172_800
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} days`;
}

/** Pretty JSON for a <pre>, escaped. */
export function json(value: unknown): string {
  return h(JSON.stringify(value, null, 2));
}
