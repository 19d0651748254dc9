// One renderer per dashboard tile: each reads the snapshot and writes its tile's text and
// data-value attributes (which the tests and any scraper read).
import { empty, field, make, one, put, svg, tile, tone, type Tone } from './dom.js';
import { clockTime, duration, percent } from './format.js';
import { QUEUES, type SnapshotView } from './snapshot.js';

/** The error-rate bars reach full width at a 20 % failure rate. */
const RATE_SCALE = 0.2;

const ACTIONS: Record<NonNullable<SnapshotView['scaling']>['action'], string> = {
  scale_down: 'Scale down',
  maintain: 'Maintain',
  scale_up: 'Scale up',
  emergency_scale: 'Emergency scale',
};

function renderStatus(snap: SnapshotView): void {
  const s = snap.summary;
  const t = tile('status');
  t.setAttribute('data-value', s.status);
  const [text, state]: [string, Tone] =
    s.status === 'ok' ? ['OK', 'good'] : s.status === 'degraded' ? ['Degraded', 'warn'] : ['Down', 'bad'];
  tone(put(t, 'status', s.status, text), state);
  const ul = field(t, 'reasons');
  empty(ul);
  ul.setAttribute('data-value', String(s.reasons.length));
  if (!s.reasons.length) ul.append(make('li', 'quiet', 'All checks pass.'));
  for (const r of s.reasons) ul.append(make('li', '', r));
}

function renderUptime(snap: SnapshotView): void {
  const u = snap.summary.uptime;
  const d = u.deployment_seconds;
  const t = tile('uptime');
  t.setAttribute('data-value', String(u.process_seconds));
  put(t, 'process', u.process_seconds, duration(u.process_seconds));
  put(t, 'deployment', d ?? 'unknown', d === null ? 'unknown' : duration(d)).classList.toggle('soft', d === null);
}

function renderDb(snap: SnapshotView): void {
  const db = snap.summary.database;
  const t = tile('db-latency');
  const latency = db.ok ? db.latency_ms : null;
  t.setAttribute('data-value', latency === null ? 'down' : String(latency));
  tone(
    put(t, 'latency', db.ok ? String(db.latency_ms) : 'down', db.ok ? `${db.latency_ms} ms` : 'Unreachable'),
    db.ok ? ((db.latency_ms ?? 0) > 250 ? 'warn' : '') : 'bad',
  );
  put(t, 'db_state', db.ok ? 'ok' : 'down', db.ok ? 'Round trip of SELECT 1' : db.error || 'no answer');
}

function renderQueues(snap: SnapshotView): void {
  const q = snap.summary.queues;
  const t = tile('queues');
  for (const k of QUEUES) put(t, k, q ? q[k] : 'unknown', q ? String(q[k]) : '—');
  // The backlog is what the scaling policy counts as queue depth.
  const backlog = q ? q.pending_approvals + q.due_unclaimed_workflows + q.queued_runs : 'unknown';
  put(t, 'backlog', backlog, q ? String(backlog) : '—');
  t.setAttribute('data-value', String(backlog));
}

function renderRates(snap: SnapshotView): void {
  const rates = snap.summary.error_rates ?? [];
  const t = tile('error-rate');
  for (const w of ['1h', '24h'] as const) {
    const e = rates.find((x) => x.window === w);
    const v = e ? (e.rate !== null ? e.rate.toFixed(4) : 'none') : 'unknown';
    const state: Tone = !e || e.rate === null ? 'idle' : e.rate <= e.target ? 'good' : e.ok ? 'warn' : 'bad';
    tone(put(t, `rate_${w}`, v, e ? percent(e.rate) : '—'), state);
    const bar = tone(field(t, `bar_${w}`), state);
    bar.setAttribute('data-value', v);
    bar.setAttribute('aria-label', `${w === '1h' ? 'Last hour: ' : 'Last 24 hours: '}${e ? percent(e.rate) : 'unknown'}, target under 5 %`);
    const width = e && e.rate !== null ? Math.max(e.rate > 0 ? 1.5 : 0, Math.min(1, e.rate / RATE_SCALE) * 100) : 0;
    one(bar, '.fill').style.setProperty('width', `${width}%`);
    if (e) one(bar, '.limit').style.setProperty('left', `${Math.min(1, e.target / RATE_SCALE) * 100}%`);
    put(
      t,
      `counts_${w}`,
      e ? `${e.failed}/${e.total}` : 'unknown',
      e ? `${e.failed} failed of ${e.total} finished${state === 'warn' ? ': too few runs to judge' : ''}` : 'database unreachable',
    );
  }
  t.setAttribute('data-value', field(t, 'rate_1h').getAttribute('data-value') ?? '');
}

function renderScheduler(snap: SnapshotView): void {
  const sc = snap.summary.scheduler;
  const t = tile('scheduler');
  if (!sc) {
    t.setAttribute('data-value', 'unknown');
    put(t, 'age', 'unknown', '—');
    tone(put(t, 'stale', 'unknown', 'Unknown'), 'idle');
    put(t, 'instances', 0, 'database unreachable');
    return;
  }
  const age = sc.age_seconds === null ? 'never' : String(Math.round(sc.age_seconds));
  t.setAttribute('data-value', age);
  put(t, 'age', age, sc.age_seconds === null ? 'Never' : `${duration(sc.age_seconds)} ago`);
  tone(put(t, 'stale', String(sc.stale), sc.stale ? 'Stale' : 'Fresh'), sc.stale ? 'bad' : 'good');
  const live = sc.instances.filter((i) => i.stopped_at === null);
  const names = live
    .slice(0, 3)
    .map((i) => `${i.hostname} (pid ${i.pid})`)
    .join(', ');
  put(
    t,
    'instances',
    live.length,
    live.length === 0 ? 'no live instance' : `${live.length} live: ${names}${live.length > 3 ? ', ...' : ''}`,
  );
}

function renderRunsPerMinute(snap: SnapshotView): void {
  const points = snap.runs_per_minute;
  const t = tile('runs-per-minute');
  const chart = field<SVGSVGElement>(t, 'spark');
  const line = field(t, 'summary');
  const [W, H, TOP] = [300, 104, 8];
  const bw = W / Math.max(points.length, 1);
  const max = Math.max(1, ...points.map((p) => p.runs));
  const total = points.reduce((n, p) => n + p.runs, 0);
  const failed = points.reduce((n, p) => n + p.failed, 0);
  const peak = total ? max : 0;
  empty(chart);
  empty(line);
  if (!snap.summary.database.ok) {
    t.setAttribute('data-value', 'unknown');
    line.setAttribute('data-value', 'unknown');
    line.textContent = 'Unknown while the database is unreachable.';
    chart.setAttribute('aria-label', 'Runs per minute: unknown while the database is unreachable');
    return;
  }
  line.setAttribute('data-value', String(total));
  const part = (name: string, value: number, text: string, cls: string) => {
    const e = make(cls ? 'span' : 'strong', cls, text);
    e.setAttribute('data-field', name);
    e.setAttribute('data-value', String(value));
    line.append(e);
  };
  part('total', total, `${total}${total === 1 ? ' run' : ' runs'}`, '');
  line.append(' in 30 min, ');
  part('failed', failed, `${failed} failed`, failed ? 'bad' : 'quiet');
  line.append(', peak ');
  part('peak', peak, `${peak}/min`, 'quiet');
  chart.append(svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: 'spark-base' }));
  points.forEach((p, i) => {
    const g = svg('g');
    const title = svg('title');
    title.textContent = `${clockTime(p.minute)}: ${p.runs} runs, ${p.failed} failed`;
    g.append(title);
    const h = (p.runs / max) * (H - TOP);
    const x = i * bw + bw * 0.15;
    const w = bw * 0.7;
    if (p.runs > 0) g.append(svg('rect', { x, y: H - h, width: w, height: h, class: 'spark-bar' }));
    if (p.failed > 0) {
      const fh = (p.failed / max) * (H - TOP);
      g.append(svg('rect', { x, y: H - fh, width: w, height: fh, class: 'spark-fail' }));
      g.append(svg('rect', { x: i * bw, y: 0, width: bw, height: 4, class: 'spark-mark' }));
      g.setAttribute('data-failed-bar', String(p.failed));
    }
    chart.append(g);
  });
  chart.setAttribute('aria-label', `Runs per minute over the last 30 minutes: ${total} runs, ${failed} failed, peak ${peak} per minute`);
  t.setAttribute('data-value', String(total));
}

function renderScaling(snap: SnapshotView): void {
  const sc = snap.scaling;
  const t = tile('scaling');
  const ul = field(t, 'reasons');
  empty(ul);
  if (!sc) {
    t.setAttribute('data-value', 'unknown');
    for (const k of ['action', 'level', 'replicas']) put(t, k, 'unknown', '—');
    put(t, 'inputs', 'unknown', 'needs the database');
    return;
  }
  t.setAttribute('data-value', sc.action);
  tone(
    put(t, 'action', sc.action, ACTIONS[sc.action] ?? sc.action),
    sc.action === 'scale_up' ? 'warn' : sc.action === 'emergency_scale' ? 'bad' : 'good',
  );
  put(t, 'level', sc.level, sc.level);
  put(t, 'replicas', sc.recommendedReplicas, String(sc.recommendedReplicas));
  const i = sc.inputs;
  const p95 = i.p95Ms === null ? 'n/a' : `${Math.round(i.p95Ms)} ms`;
  const replicas = `${i.currentReplicas}${i.currentReplicas === 1 ? ' replica now' : ' replicas now'}`;
  put(t, 'inputs', i.requestsPerMinute, `${i.requestsPerMinute} req/min, P95 ${p95}, queue depth ${i.queueDepth}, ${replicas}`);
  for (const r of sc.reasons) ul.append(make('li', '', r));
}

function renderAlerts(snap: SnapshotView): void {
  const t = tile('alerts');
  const list = field(t, 'list');
  empty(list);
  if (!snap.summary.database.ok) {
    t.setAttribute('data-value', 'unknown');
    tone(put(t, 'firing', 'unknown', 'unknown'), 'idle');
    list.append(make('li', 'quiet', 'Alerts are recorded in the database, which is unreachable.'));
    return;
  }
  const firing = snap.alerts.filter((a) => a.status === 'firing').length;
  t.setAttribute('data-value', String(firing));
  tone(put(t, 'firing', firing, firing === 0 ? 'none firing' : `${firing} firing`), firing ? 'bad' : 'good');
  if (!snap.alerts.length) list.append(make('li', 'quiet', 'No alerts in the last 24 hours.'));
  for (const a of snap.alerts) {
    const isFiring = a.status === 'firing';
    const li = make('li', `alert ${isFiring ? 'firing' : 'resolved'}`);
    li.setAttribute('data-alert', a.kind);
    li.setAttribute('data-value', a.status);
    const when = isFiring ? `since ${clockTime(a.fired_at)}` : `resolved ${clockTime(a.resolved_at ?? a.fired_at)}`;
    li.append(
      tone(make('span', 'badge', isFiring ? 'Firing' : 'Resolved'), isFiring ? 'bad' : 'idle'),
      make('span', 'msg', isFiring ? a.message : (a.resolved_message ?? a.message)),
      make('span', 'when', when),
    );
    list.append(li);
  }
}

const RENDERERS = [
  renderStatus,
  renderUptime,
  renderDb,
  renderQueues,
  renderRates,
  renderScheduler,
  renderRunsPerMinute,
  renderScaling,
  renderAlerts,
];

/** Fills every tile from a snapshot; one tile failing leaves the others current. */
export function renderSnapshot(snap: SnapshotView): void {
  for (const render of RENDERERS) {
    try {
      render(snap);
    } catch (err) {
      console.error(`dashboard: ${render.name} failed`, err);
    }
  }
  const updated = document.getElementById('updated');
  if (updated) {
    updated.setAttribute('data-value', snap.summary.checked_at);
    updated.setAttribute('datetime', snap.summary.checked_at);
    updated.textContent = new Date(snap.summary.checked_at).toLocaleTimeString();
  }
  document.getElementById('tiles')?.setAttribute('aria-busy', 'false');
}
