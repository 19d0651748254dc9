import { createHash } from 'node:crypto';
import { escapeHtml } from '../lib/html.js';

// The dashboard is one self-contained page: no build step, no external assets. The script
// fills tiles with textContent and attributes only (never innerHTML), so snapshot values
// cannot inject markup; the CSP below pins the inline style and script by hash.

const STYLE = String.raw`
:root { color-scheme: light dark;
  --bg:#f5f6f8; --card:#fff; --fg:#1c2128; --muted:#57606a; --line:#d0d7de; --track:#e6eaef;
  --good:#1a7f37; --good-bg:#dafbe1; --warn:#9a6700; --warn-bg:#fff8c5; --bad:#cf222e; --bad-bg:#ffebe9;
  --idle:#57606a; --idle-bg:#eaeef2; --accent:#0969da; }
@media (prefers-color-scheme: dark) { :root {
  --bg:#0d1117; --card:#161b22; --fg:#e6edf3; --muted:#9198a1; --line:#30363d; --track:#262c36;
  --good:#3fb950; --good-bg:rgba(46,160,67,.16); --warn:#d29922; --warn-bg:rgba(187,128,9,.18); --bad:#f85149; --bad-bg:rgba(248,81,73,.16);
  --idle:#9198a1; --idle-bg:#21262d; --accent:#4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .6rem 1.2rem; padding: .85rem 1.5rem; background: var(--card); border-bottom: 1px solid var(--line); }
.top h1 { margin: 0; font-size: 1.15rem; font-weight: 650; }
.top h1 span { color: var(--muted); font-weight: 400; }
.conn { margin: 0; display: inline-flex; align-items: center; gap: .45rem; padding: .2rem .75rem; border-radius: 999px; font-size: .85rem; font-weight: 600; background: var(--idle-bg); color: var(--idle); }
.conn .dot { width: .55rem; height: .55rem; border-radius: 50%; background: currentColor; }
.conn[data-connection="live"] { background: var(--good-bg); color: var(--good); }
.conn[data-connection="disconnected"] { background: var(--bad-bg); color: var(--bad); }
.updated { margin: 0 0 0 auto; color: var(--muted); font-size: .85rem; font-variant-numeric: tabular-nums; }
.top form { margin: 0; }
button { font: inherit; font-size: .875rem; padding: .4rem .9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--muted); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.grid { display: grid; gap: 1rem; padding: 1.25rem 1.5rem 2rem; grid-template-columns: minmax(0, 1fr); max-width: 1440px; margin: 0 auto; }
@media (min-width: 640px) { .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } .w2, .w3 { grid-column: span 2; } }
@media (min-width: 1100px) { .grid { grid-template-columns: repeat(4, minmax(0, 1fr)); } .w3 { grid-column: span 3; } }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.15rem; min-width: 0; transition: opacity .3s; }
.tile h2 { margin: 0 0 .55rem; font-size: .75rem; text-transform: uppercase; letter-spacing: .07em; color: var(--muted); font-weight: 650; }
body.offline .tile { opacity: .5; }
.big { margin: .1rem 0 .35rem; font-size: 1.9rem; font-weight: 650; line-height: 1.15; font-variant-numeric: tabular-nums; }
.sub, .note { margin: .25rem 0 0; color: var(--muted); font-size: .85rem; }
.note { margin: -.25rem 0 .6rem; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-size: .8rem; font-weight: 650; background: var(--idle-bg); color: var(--idle); }
.big .badge { font-size: 1.3rem; padding: .15rem .95rem; }
.good { color: var(--good); } .warn { color: var(--warn); } .bad { color: var(--bad); } .idle { color: var(--idle); }
.badge.good { background: var(--good-bg); } .badge.warn { background: var(--warn-bg); } .badge.bad { background: var(--bad-bg); } .badge.idle { background: var(--idle-bg); }
ul.list { list-style: none; margin: .3rem 0 0; padding: 0; }
ul.list li { padding: .35rem 0; border-top: 1px solid var(--line); font-size: .9rem; overflow-wrap: anywhere; }
ul.list li:first-child { border-top: 0; }
.quiet { color: var(--muted); }
.kv dd.soft { color: var(--muted); font-weight: 400; font-size: 1rem; }
dl { margin: 0; }
dd { margin: 0; }
.kv > div { display: flex; justify-content: space-between; gap: 1rem; align-items: baseline; padding: .3rem 0; }
.kv > div + div { border-top: 1px solid var(--line); }
.kv dt { color: var(--muted); font-size: .875rem; }
.kv dd { font-weight: 650; font-size: 1.15rem; font-variant-numeric: tabular-nums; text-align: right; }
.tile.fill { display: flex; flex-direction: column; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); grid-auto-rows: 1fr; gap: .6rem; flex: 1; }
.stats > div.total { background: transparent; border-style: dashed; }
.stats > div { display: flex; flex-direction: column-reverse; justify-content: flex-end; gap: .15rem; padding: .6rem .75rem; border-radius: 8px; background: var(--bg); border: 1px solid var(--line); }
.stats dt { color: var(--muted); font-size: .8rem; line-height: 1.25; }
.stats dd { font-size: 1.6rem; font-weight: 650; line-height: 1.2; font-variant-numeric: tabular-nums; }
.stats dd.warn { color: var(--warn); }
.rate { margin: 0 0 .75rem; }
.rate-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
.rate-head .label { font-size: .875rem; }
.rate-val { font-size: 1.3rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.bar { position: relative; height: 12px; margin: .35rem 0 .25rem; border-radius: 6px; background: var(--track); }
.bar .fill { position: absolute; left: 0; top: 0; bottom: 0; width: 0; min-width: 0; border-radius: 6px; background: var(--idle); transition: width .4s ease; }
.bar.good .fill { background: var(--good); } .bar.warn .fill { background: var(--warn); } .bar.bad .fill { background: var(--bad); }
.bar .limit { position: absolute; top: -5px; bottom: -5px; left: 25%; width: 2px; margin-left: -1px; background: var(--fg); opacity: .75; border-radius: 1px; }
.axis { position: relative; height: 1.1rem; font-size: .75rem; color: var(--muted); }
.axis span { position: absolute; top: 0; }
.axis .a0 { left: 0; } .axis .a5 { left: 25%; transform: translateX(-50%); font-weight: 650; color: var(--fg); } .axis .amax { right: 0; }
svg.spark { display: block; width: 100%; height: 104px; margin: .2rem 0 .1rem; }
.spark-base { stroke: var(--line); stroke-width: 1; }
.spark-bar { fill: var(--accent); opacity: .8; }
.spark-fail, .spark-mark { fill: var(--bad); }
.spark-axis { display: flex; justify-content: space-between; font-size: .75rem; color: var(--muted); }
.scale-grid { display: flex; flex-wrap: wrap; gap: .4rem 1.6rem; align-items: baseline; }
.scale-grid div { min-width: 6rem; }
.scale-grid dt { color: var(--muted); font-size: .8rem; }
.scale-grid dd { font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.alert { display: flex; flex-wrap: wrap; gap: .35rem .7rem; align-items: baseline; }
.alert .msg { flex: 1 1 16rem; }
.alert .when { color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; }
.alert.resolved .msg { color: var(--muted); }
.signin { max-width: 380px; margin: 12vh auto; padding: 1.6rem 1.6rem 1.3rem; background: var(--card); border: 1px solid var(--line); border-radius: 12px; }
.signin h1 { margin: 0 0 .3rem; font-size: 1.3rem; }
.signin form { display: grid; gap: .5rem; margin-top: 1.1rem; }
.signin label { font-weight: 600; font-size: .9rem; }
.signin input { font: inherit; padding: .5rem .65rem; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); }
.signin button { justify-self: start; background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
.error { margin: 1rem 0 0; padding: .55rem .75rem; border-radius: 6px; background: var(--bad-bg); color: var(--bad); font-size: .9rem; }
@media (prefers-reduced-motion: reduce) { .bar .fill, .tile { transition: none; } }
`;

// Plain ES5-style script without template literals or backslashes, so it survives being a TS string.
const SCRIPT = String.raw`
(function () {
  'use strict';
  var doc = document, SVGNS = 'http://www.w3.org/2000/svg', SCALE = 0.2;
  var QUEUES = ['pending_approvals', 'due_unclaimed_workflows', 'queued_runs', 'running_runs', 'waiting_approval_runs'];
  var ACTIONS = { scale_down: 'Scale down', maintain: 'Maintain', scale_up: 'Scale up', emergency_scale: 'Emergency scale' };
  function tile(name) { return doc.querySelector('[data-tile="' + name + '"]'); }
  function fieldOf(t, name) { return t.querySelector('[data-field="' + name + '"]'); }
  function put(t, name, value, text) { var e = fieldOf(t, name); e.setAttribute('data-value', String(value)); e.textContent = text; return e; }
  function mk(tag, cls, text) { var e = doc.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = String(text); return e; }
  function svg(tag, attrs) { var e = doc.createElementNS(SVGNS, tag); for (var k in attrs) e.setAttribute(k, String(attrs[k])); return e; }
  function empty(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function tone(e, t) { e.classList.remove('good', 'warn', 'bad', 'idle'); if (t) e.classList.add(t); return e; }
  function dur(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60); if (m < 60) return m + ' min ' + (s % 60) + ' s';
    var h = Math.floor(m / 60); if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function pct(r) { return r === null ? 'no runs' : (r * 100).toFixed(1) + ' %'; }
  function clock(sec) { return new Date(sec * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }

  function renderStatus(snap) {
    var s = snap.summary, t = tile('status');
    t.setAttribute('data-value', s.status);
    tone(put(t, 'status', s.status, s.status === 'ok' ? 'OK' : s.status === 'degraded' ? 'Degraded' : 'Down'), s.status === 'ok' ? 'good' : s.status === 'degraded' ? 'warn' : 'bad');
    var ul = fieldOf(t, 'reasons'); empty(ul); ul.setAttribute('data-value', String(s.reasons.length));
    if (!s.reasons.length) ul.appendChild(mk('li', 'quiet', 'All checks pass.'));
    s.reasons.forEach(function (r) { ul.appendChild(mk('li', '', r)); });
  }
  function renderUptime(snap) {
    var u = snap.summary.uptime, t = tile('uptime'), d = u.deployment_seconds;
    t.setAttribute('data-value', String(u.process_seconds));
    put(t, 'process', u.process_seconds, dur(u.process_seconds));
    put(t, 'deployment', d === null ? 'unknown' : d, d === null ? 'unknown' : dur(d)).classList.toggle('soft', d === null);
  }
  function renderDb(snap) {
    var db = snap.summary.database, t = tile('db-latency');
    t.setAttribute('data-value', db.ok && db.latency_ms !== null ? String(db.latency_ms) : 'down');
    tone(put(t, 'latency', db.ok ? db.latency_ms : 'down', db.ok ? db.latency_ms + ' ms' : 'Unreachable'), db.ok ? (db.latency_ms > 250 ? 'warn' : '') : 'bad');
    put(t, 'db_state', db.ok ? 'ok' : 'down', db.ok ? 'Round trip of SELECT 1' : (db.error || 'no answer'));
  }
  function renderQueues(snap) {
    var q = snap.summary.queues, t = tile('queues');
    QUEUES.forEach(function (k) { var n = q ? q[k] : null; put(t, k, n === null ? 'unknown' : n, n === null ? '—' : String(n)); });
    // The backlog is what the scaling policy counts as queue depth.
    var backlog = q ? q.pending_approvals + q.due_unclaimed_workflows + q.queued_runs : 'unknown';
    put(t, 'backlog', backlog, q ? String(backlog) : '—');
    t.setAttribute('data-value', String(backlog));
  }
  function renderRates(snap) {
    var rates = snap.summary.error_rates || [], t = tile('error-rate');
    ['1h', '24h'].forEach(function (w) {
      var e = null; rates.forEach(function (x) { if (x.window === w) e = x; });
      var v = e && e.rate !== null ? e.rate.toFixed(4) : e ? 'none' : 'unknown';
      var state = !e || e.rate === null ? 'idle' : e.rate <= e.target ? 'good' : e.ok ? 'warn' : 'bad';
      tone(put(t, 'rate_' + w, v, e ? pct(e.rate) : '—'), state);
      var bar = tone(fieldOf(t, 'bar_' + w), state);
      bar.setAttribute('data-value', v);
      bar.setAttribute('aria-label', (w === '1h' ? 'Last hour: ' : 'Last 24 hours: ') + (e ? pct(e.rate) : 'unknown') + ', target under 5 %');
      bar.querySelector('.fill').style.setProperty('width', (e && e.rate !== null ? Math.max(e.rate > 0 ? 1.5 : 0, Math.min(1, e.rate / SCALE) * 100) : 0) + '%');
      if (e) bar.querySelector('.limit').style.setProperty('left', (Math.min(1, e.target / SCALE) * 100) + '%');
      put(t, 'counts_' + w, e ? e.failed + '/' + e.total : 'unknown',
        e ? e.failed + ' failed of ' + e.total + ' finished' + (state === 'warn' ? ': too few runs to judge' : '') : 'database unreachable');
    });
    t.setAttribute('data-value', fieldOf(t, 'rate_1h').getAttribute('data-value'));
  }
  function renderScheduler(snap) {
    var sc = snap.summary.scheduler, t = tile('scheduler');
    if (!sc) {
      t.setAttribute('data-value', 'unknown'); put(t, 'age', 'unknown', '—');
      tone(put(t, 'stale', 'unknown', 'Unknown'), 'idle'); put(t, 'instances', 0, 'database unreachable'); return;
    }
    var age = sc.age_seconds === null ? 'never' : String(Math.round(sc.age_seconds));
    t.setAttribute('data-value', age);
    put(t, 'age', age, sc.age_seconds === null ? 'Never' : dur(sc.age_seconds) + ' ago');
    tone(put(t, 'stale', String(sc.stale), sc.stale ? 'Stale' : 'Fresh'), sc.stale ? 'bad' : 'good');
    var live = sc.instances.filter(function (i) { return i.stopped_at === null; });
    var names = live.slice(0, 3).map(function (i) { return i.hostname + ' (pid ' + i.pid + ')'; }).join(', ');
    put(t, 'instances', live.length, live.length === 0 ? 'no live instance' : live.length + ' live: ' + names + (live.length > 3 ? ', ...' : ''));
  }
  function renderRpm(snap) {
    var pts = snap.runs_per_minute || [], t = tile('runs-per-minute'), chart = fieldOf(t, 'spark');
    var W = 300, H = 104, TOP = 8, n = Math.max(pts.length, 1), bw = W / n, max = 1, total = 0, failed = 0;
    pts.forEach(function (p) { if (p.runs > max) max = p.runs; total += p.runs; failed += p.failed; });
    empty(chart);
    var line = fieldOf(t, 'summary'), peak = total ? max : 0;
    empty(line);
    if (!snap.summary.database.ok) {
      t.setAttribute('data-value', 'unknown'); line.setAttribute('data-value', 'unknown');
      line.textContent = 'Unknown while the database is unreachable.';
      chart.setAttribute('aria-label', 'Runs per minute: unknown while the database is unreachable');
      return;
    }
    line.setAttribute('data-value', String(total));
    function part(field, value, text, cls) { var e = mk(cls ? 'span' : 'strong', cls, text); e.setAttribute('data-field', field); e.setAttribute('data-value', String(value)); line.appendChild(e); }
    part('total', total, total + (total === 1 ? ' run' : ' runs'), '');
    line.appendChild(doc.createTextNode(' in 30 min, '));
    part('failed', failed, failed + ' failed', failed ? 'bad' : 'quiet');
    line.appendChild(doc.createTextNode(', peak '));
    part('peak', peak, peak + '/min', 'quiet');
    chart.appendChild(svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, 'class': 'spark-base' }));
    pts.forEach(function (p, i) {
      var g = svg('g', {}), title = svg('title', {});
      title.textContent = clock(p.minute) + ': ' + p.runs + ' runs, ' + p.failed + ' failed';
      g.appendChild(title);
      var h = p.runs / max * (H - TOP), x = i * bw + bw * 0.15, w = bw * 0.7;
      if (p.runs > 0) g.appendChild(svg('rect', { x: x, y: H - h, width: w, height: h, 'class': 'spark-bar' }));
      if (p.failed > 0) {
        var fh = p.failed / max * (H - TOP);
        g.appendChild(svg('rect', { x: x, y: H - fh, width: w, height: fh, 'class': 'spark-fail' }));
        g.appendChild(svg('rect', { x: i * bw, y: 0, width: bw, height: 4, 'class': 'spark-mark' }));
        g.setAttribute('data-failed-bar', String(p.failed));
      }
      chart.appendChild(g);
    });
    chart.setAttribute('aria-label', 'Runs per minute over the last 30 minutes: ' + total + ' runs, ' + failed + ' failed, peak ' + peak + ' per minute');
    t.setAttribute('data-value', String(total));
  }
  function renderScaling(snap) {
    var sc = snap.scaling, t = tile('scaling'), ul = fieldOf(t, 'reasons');
    empty(ul);
    if (!sc) {
      t.setAttribute('data-value', 'unknown');
      ['action', 'level', 'replicas'].forEach(function (k) { put(t, k, 'unknown', '—'); });
      put(t, 'inputs', 'unknown', 'needs the database');
      return;
    }
    t.setAttribute('data-value', sc.action);
    tone(put(t, 'action', sc.action, ACTIONS[sc.action] || sc.action), sc.action === 'scale_up' ? 'warn' : sc.action === 'emergency_scale' ? 'bad' : 'good');
    put(t, 'level', sc.level, sc.level);
    put(t, 'replicas', sc.recommendedReplicas, String(sc.recommendedReplicas));
    var i = sc.inputs;
    put(t, 'inputs', i.requestsPerMinute, i.requestsPerMinute + ' req/min, P95 ' + (i.p95Ms === null ? 'n/a' : Math.round(i.p95Ms) + ' ms') +
      ', queue depth ' + i.queueDepth + ', ' + i.currentReplicas + (i.currentReplicas === 1 ? ' replica now' : ' replicas now'));
    sc.reasons.forEach(function (r) { ul.appendChild(mk('li', '', r)); });
  }
  function renderAlerts(snap) {
    var t = tile('alerts'), list = fieldOf(t, 'list'), firing = 0;
    empty(list);
    if (!snap.summary.database.ok) {
      t.setAttribute('data-value', 'unknown');
      tone(put(t, 'firing', 'unknown', 'unknown'), 'idle');
      list.appendChild(mk('li', 'quiet', 'Alerts are recorded in the database, which is unreachable.'));
      return;
    }
    snap.alerts.forEach(function (a) { if (a.status === 'firing') firing += 1; });
    t.setAttribute('data-value', String(firing));
    tone(put(t, 'firing', firing, firing === 0 ? 'none firing' : firing + ' firing'), firing ? 'bad' : 'good');
    if (!snap.alerts.length) list.appendChild(mk('li', 'quiet', 'No alerts in the last 24 hours.'));
    snap.alerts.forEach(function (a) {
      var li = mk('li', 'alert ' + (a.status === 'firing' ? 'firing' : 'resolved'));
      li.setAttribute('data-alert', a.kind); li.setAttribute('data-value', a.status);
      li.appendChild(tone(mk('span', 'badge', a.status === 'firing' ? 'Firing' : 'Resolved'), a.status === 'firing' ? 'bad' : 'idle'));
      li.appendChild(mk('span', 'msg', a.message));
      li.appendChild(mk('span', 'when', a.status === 'firing' ? 'since ' + clock(a.fired_at) : 'resolved ' + clock(a.resolved_at)));
      list.appendChild(li);
    });
  }
  var RENDERERS = [renderStatus, renderUptime, renderDb, renderQueues, renderRates, renderScheduler, renderRpm, renderScaling, renderAlerts];
  function render(snap) {
    RENDERERS.forEach(function (fn) { try { fn(snap); } catch (err) { console.error('dashboard: ' + fn.name + ' failed', err); } });
    var up = doc.getElementById('updated');
    up.setAttribute('data-value', snap.summary.checked_at); up.setAttribute('datetime', snap.summary.checked_at);
    up.textContent = new Date(snap.summary.checked_at).toLocaleTimeString();
    doc.getElementById('tiles').setAttribute('aria-busy', 'false');
  }

  var conn = doc.getElementById('conn'), connText = doc.getElementById('conn-text');
  function setConn(state, text) {
    conn.setAttribute('data-connection', state); connText.textContent = text;
    doc.body.classList.toggle('offline', state === 'disconnected');
  }
  var es = null, retryMs = 1000, timer = null;
  function connect() {
    timer = null;
    es = new EventSource('/dashboard/events');
    es.addEventListener('open', function () { retryMs = 1000; setConn('live', 'Live'); });
    es.addEventListener('snapshot', function (ev) {
      var snap; try { snap = JSON.parse(ev.data); } catch (err) { return; }
      render(snap); setConn('live', 'Live');
    });
    es.addEventListener('snapshot_error', function () { setConn('live', 'Live, last refresh failed'); });
    es.addEventListener('error', function () {
      setConn('disconnected', 'Disconnected, reconnecting');
      // EventSource retries by itself after a dropped stream, but gives up on an error status.
      if (es.readyState === EventSource.CLOSED) { es.close(); retryLater(); }
    });
  }
  function retryLater() {
    if (timer) return;
    var wait = retryMs; retryMs = Math.min(retryMs * 2, 30000);
    timer = setTimeout(function () {
      fetch('/dashboard/snapshot.json', { cache: 'no-store', credentials: 'same-origin' }).then(function (r) {
        if (r.status === 401) { location.assign('/dashboard'); return; }
        connect();
      }, function () { timer = null; retryLater(); });
    }, wait);
  }
  connect();
})();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The Content-Security-Policy of a server-rendered page whose only style and script are the
 * given inline texts (pinned by hash): nothing else loads, connections and forms stay on this origin.
 */
export function inlineOnlyCsp(script: string, style: string): string {
  return [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Content-Security-Policy of the dashboard and sign-in pages. */
export const DASHBOARD_CSP = inlineOnlyCsp(SCRIPT, STYLE);

export { escapeHtml };

function shell(title: string, body: string, script: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${body}
${script ? `<script>${SCRIPT}</script>` : ''}
</body>
</html>
`;
}

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
  <p class="conn" id="conn" role="status" data-connection="connecting"><span class="dot" aria-hidden="true"></span><span id="conn-text">Connecting</span></p>
  <p class="updated">Updated <time id="updated" data-value="">—</time></p>
  ${signOut ? '<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>' : ''}
</header>`;
}

const PAGE_SIGNED_IN = shell('Levqor health', header(true) + TILES, true);
const PAGE_PUBLIC = shell('Levqor health', header(false) + TILES, true);

/** The live dashboard page (with a sign-out button unless it is public). */
export function dashboardPage(opts: { isPublic: boolean }): string {
  return opts.isPublic ? PAGE_PUBLIC : PAGE_SIGNED_IN;
}

/** The sign-in form, with an optional error shown above it; `next` is where it leads (the dashboard by default). */
export function signInPage(error?: string, next?: string): string {
  const product = next?.startsWith('/console') ? 'Levqor console' : 'Levqor health';
  return shell(
    `Sign in · ${product}`,
    `<main class="signin">
  <h1>${product}</h1>
  <p class="sub">Sign in with an API token (create one with <code>levqor token create</code>).</p>
  ${error ? `<p class="error" role="alert" id="signin-error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="/dashboard/login">
    ${next ? `<input type="hidden" name="next" value="${escapeHtml(next)}">` : ''}
    <label for="token">Access token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" spellcheck="false" required autofocus>
    <button type="submit">Sign in</button>
  </form>
</main>`,
    false,
  );
}
