import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/db/types.js';
import { addRequestBuckets } from '../src/health/queries.js';
import { createRequestRecorder, LATENCY_BOUNDS_MS, readRequestLoad } from '../src/health/requests.js';
import { buildTestApp } from './helpers/api.js';
import { BACKENDS, useTestDb } from './helpers/db.js';

// /metrics (Prometheus text from prom-client), /api/scaling (the KEDA metrics-api shape) and
// the per-minute request buckets every replica adds to, read back as one rate and one P95.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (samples only). */
function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Samples named `name` whose labels include `labels`. */
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** label value → sample value for the samples of `name`. */
function byLabel(samples: Sample[], name: string, label: string): Record<string, number> {
  return Object.fromEntries(find(samples, name).map((x): [string, number] => [x.labels[label] ?? '', x.value]));
}

/** The one value of a sample, failing when there is none or several. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

const dbMinute = async (db: Queryable) =>
  (await db.query<{ m: number }>('SELECT floor(extract(epoch FROM now()) / 60)::int AS m')).rows[0]!.m;

/**
 * Runs `fn(minute)` with the database's current minute and repeats it if the minute turned
 * meanwhile: rate and P95 are read from the previous complete minute, so seeding and reading
 * must fall in the same one.
 */
async function inOneMinute<T>(db: Queryable, fn: (minute: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const minute = await dbMinute(db);
    const result = await fn(minute);
    if ((await dbMinute(db)) === minute) return result;
  }
  throw new Error('the minute turned during three attempts in a row');
}

/** A latency histogram with `counts[boundMs] = n`. */
function hist(counts: Record<number, number>): number[] {
  const out = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const [bound, n] of Object.entries(counts)) out[LATENCY_BOUNDS_MS.indexOf(Number(bound) as (typeof LATENCY_BOUNDS_MS)[number])] = n;
  return out;
}

describe('createRequestRecorder (pure, fake clock)', () => {
  it('counts per minute into the shared latency buckets (upper bounds inclusive, last bucket open)', () => {
    let now = 10 * 60_000 + 5_000;
    const r = createRequestRecorder(() => now);
    for (const ms of [0, 5, 5.01, 10, 999, 1000, 1000.5, 10_000, 10_001, 60_000]) r.record(ms, false);
    r.record(3, true);
    now += 60_000;
    r.record(7, true);
    expect(r.drain()).toEqual([
      { minute: 10, requests: 11, errors: 1, hist: [3, 2, 0, 0, 0, 0, 0, 2, 1, 0, 1, 2] },
      { minute: 11, requests: 1, errors: 1, hist: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
    ]);
  });

  it('drain empties the recorder but always reports the current minute, so an idle replica still counts', () => {
    const r = createRequestRecorder(() => 42 * 60_000);
    expect(r.drain()).toEqual([{ minute: 42, requests: 0, errors: 0, hist: new Array<number>(12).fill(0) }]);
    r.record(1, false);
    expect(r.drain()[0]?.requests).toBe(1);
    expect(r.drain()[0]?.requests).toBe(0);
  });
});

describe.each(BACKENDS)('metrics and request buckets on $name', ({ open }) => {
  const t = useTestDb(open);

  describe('request buckets across replicas', () => {
    beforeEach(async () => {
      await t.db.exec('TRUNCATE request_buckets');
    });

    it('no buckets: rate 0, no P95, one replica (this one)', async () => {
      expect(await readRequestLoad(t.db)).toEqual({ requestsPerMinute: 0, p95Ms: null, replicas: 1 });
      await addRequestBuckets(t.db, 'nobody', []);
      expect((await t.db.query('SELECT 1 FROM request_buckets')).rows).toHaveLength(0);
    });

    it('two instances flushing into the same minute are summed; P95 comes from the merged histogram; replicas are distinct instances', async () => {
      const load = await inOneMinute(t.db, async (current) => {
        await t.db.exec('TRUNCATE request_buckets');
        let fakeNow = (current - 1) * 60_000 + 1_500;
        const clock = () => fakeNow;
        const a = createRequestRecorder(clock);
        const b = createRequestRecorder(clock);
        // Replica a: 100 fast requests (P95 5 ms); replica b: 20, 6 of them slow (P95 2500 ms alone).
        for (let i = 0; i < 100; i++) a.record(3, false);
        for (let i = 0; i < 14; i++) b.record(3, false);
        for (let i = 0; i < 6; i++) b.record(2_000, true);
        await addRequestBuckets(t.db, 'replica-a', a.drain());
        await addRequestBuckets(t.db, 'replica-b', b.drain());
        // A second flush of a into the same minute adds to its row.
        for (let i = 0; i < 10; i++) a.record(4, i < 2);
        await addRequestBuckets(t.db, 'replica-a', a.drain());
        // An idle replica flushing only the current minute counts as a replica, adding no requests.
        fakeNow = current * 60_000 + 1;
        await addRequestBuckets(t.db, 'replica-idle', createRequestRecorder(clock).drain());
        // A replica gone for minutes counts for nothing.
        fakeNow = (current - 3) * 60_000;
        const gone = createRequestRecorder(clock);
        for (let i = 0; i < 500; i++) gone.record(9_000, false);
        await addRequestBuckets(t.db, 'replica-gone', gone.drain());
        return readRequestLoad(t.db);
      });
      // Merged: 124 within 5 ms and 6 within 2500 ms of 130; the 95th percentile (rank 124) is 5 ms.
      expect(load).toEqual({ requestsPerMinute: 130, p95Ms: 5, replicas: 3 });

      const { rows } = await t.db.query<{ instance: string; requests: number; errors: number; latency_hist: number[] }>(
        'SELECT instance, requests, errors, latency_hist FROM request_buckets ORDER BY instance, minute',
      );
      expect(rows).toEqual([
        { instance: 'replica-a', requests: 110, errors: 2, latency_hist: hist({ 5: 110 }) },
        { instance: 'replica-b', requests: 20, errors: 6, latency_hist: hist({ 5: 14, 2500: 6 }) },
        { instance: 'replica-gone', requests: 500, errors: 0, latency_hist: hist({ 10000: 500 }) },
        { instance: 'replica-idle', requests: 0, errors: 0, latency_hist: hist({}) },
      ]);
    });

    it('a slow majority raises the merged P95', async () => {
      const load = await inOneMinute(t.db, async (current) => {
        await t.db.exec('TRUNCATE request_buckets');
        const clock = () => (current - 1) * 60_000;
        const a = createRequestRecorder(clock);
        const b = createRequestRecorder(clock);
        for (let i = 0; i < 50; i++) a.record(20, false);
        for (let i = 0; i < 50; i++) b.record(800, false);
        await addRequestBuckets(t.db, 'a', a.drain());
        await addRequestBuckets(t.db, 'b', b.drain());
        return readRequestLoad(t.db);
      });
      expect(load).toEqual({ requestsPerMinute: 100, p95Ms: 1000, replicas: 2 });
    });
  });

  describe('GET /metrics and GET /api/scaling', () => {
    let app: FastifyInstance;
    const INSTANCE = 'metrics-test-app';

    async function seedFacts(db: Queryable): Promise<void> {
      const { rows } = await db.query<{ id: string }>("INSERT INTO tenants (name) VALUES ('metrics') RETURNING id");
      const tenant = rows[0]!.id;
      const wf = await db.query<{ id: string }>("INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'm', '[]') RETURNING id", [
        tenant,
      ]);
      const runs: [string, number, number][] = [
        ['failed', 2, 600],
        ['succeeded', 3, 600],
        ['running', 1, 60],
        ['queued', 2, 10],
        ['waiting_approval', 1, 60],
        ['succeeded', 4, 2 * 86_400],
      ];
      for (const [status, n, ago] of runs) {
        await db.query(
          `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at) SELECT $1, $2, $3, 'manual', extract(epoch FROM now()) - $4 FROM generate_series(1, $5::int)`,
          [tenant, wf.rows[0]!.id, status, ago, n],
        );
      }
      const approvals: [string, number, number | null][] = [
        ['pending', 2, null],
        ['approved', 1, 60],
        ['rejected', 1, 40 * 86_400],
        ['expired', 1, 5 * 86_400],
      ];
      for (const [status, n, processedAgo] of approvals) {
        await db.query(
          `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, expires_at, processed_at)
           SELECT $1, 'email', 'C', 's', '{}', 'h', $2, 't', extract(epoch FROM now()) + 60, extract(epoch FROM now()) - $3::float8 FROM generate_series(1, $4::int)`,
          [tenant, status, processedAgo, n],
        );
      }
      await db.query(
        `INSERT INTO workflows (tenant_id, name, steps, schedule_config, next_run_at) VALUES
          ($1, 'due', '[]', '{"enabled": true, "interval_minutes": 5}', extract(epoch FROM now()) - 30),
          ($1, 'later', '[]', '{"enabled": true, "interval_minutes": 5}', extract(epoch FROM now()) + 300)`,
        [tenant],
      );
    }

    beforeAll(async () => {
      await seedFacts(t.db);
      app = await buildTestApp(t.db, { instanceId: INSTANCE });
      await app.ready();
    });
    afterAll(async () => {
      await app.close();
    });

    const scrape = async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return parseProm(res.body);
    };

    it('counts requests and latencies per route, and reads runs, approvals, queues and the tick age from the database', async () => {
      const before = await scrape();
      expect(valueOf(before, 'levqor_scheduler_tick_age_seconds')).toBe(-1);
      expect(find(before, 'levqor_http_requests_total', { route: '/api/health/summary' })).toEqual([]);

      for (let i = 0; i < 2; i++) expect((await app.inject({ method: 'GET', url: '/api/health/summary' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);
      await t.db.query(
        "INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at) VALUES ('m1', 'h', 1, extract(epoch FROM now()) - 600, extract(epoch FROM now()) - 42)",
      );

      const s = await scrape();
      expect(valueOf(s, 'levqor_http_requests_total', { method: 'GET', route: '/api/health/summary', status: '200' })).toBe(2);
      expect(valueOf(s, 'levqor_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBe(1);
      // A scanner's random paths must not mint a label value each.
      expect(find(s, 'levqor_http_requests_total', { status: '404' }).map((x) => x.labels.route)).toEqual(['unmatched']);

      const buckets = find(s, 'levqor_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/health/summary' });
      expect(buckets.map((b) => b.labels.le)).toEqual([
        '0.005',
        '0.01',
        '0.025',
        '0.05',
        '0.1',
        '0.25',
        '0.5',
        '1',
        '2.5',
        '5',
        '10',
        '+Inf',
      ]);
      const counts = buckets.map((b) => b.value);
      expect([...counts].sort((x, y) => x - y)).toEqual(counts);
      expect(counts.at(-1)).toBe(2);
      expect(valueOf(s, 'levqor_http_request_duration_seconds_count', { route: '/api/health/summary' })).toBe(2);
      expect(valueOf(s, 'levqor_http_request_duration_seconds_sum', { route: '/api/health/summary' })).toBeGreaterThan(0);

      const runs = byLabel(s, 'levqor_runs', 'status');
      expect(runs).toEqual({ queued: 2, running: 1, waiting_approval: 1, succeeded: 3, failed: 2, rejected: 0, expired: 0, cancelled: 0 });
      const approvals = byLabel(s, 'levqor_approvals', 'status');
      expect(approvals).toEqual({ pending: 2, approved: 1, rejected: 0, expired: 1 });
      const queues = byLabel(s, 'levqor_queue_depth', 'queue');
      expect(queues).toEqual({ due_workflows: 1, queued_runs: 2, running_runs: 1, waiting_approval_runs: 1 });
      const age = valueOf(s, 'levqor_scheduler_tick_age_seconds');
      expect(age).toBeGreaterThanOrEqual(42);
      expect(age).toBeLessThan(60);
    });

    it('gauges follow the database between scrapes', async () => {
      await t.db.query("UPDATE workflow_runs SET status = 'cancelled' WHERE status = 'queued'");
      const s = await scrape();
      expect(valueOf(s, 'levqor_runs', { status: 'cancelled' })).toBe(2);
      expect(valueOf(s, 'levqor_runs', { status: 'queued' })).toBe(0);
      expect(valueOf(s, 'levqor_queue_depth', { queue: 'queued_runs' })).toBe(0);
      await t.db.query("UPDATE workflow_runs SET status = 'queued' WHERE status = 'cancelled'");
    });

    /** Replaces the other replicas' rows for the previous minute and calls GET /api/scaling in the same minute. */
    async function scalingWith(
      perReplica: Record<string, number[]>,
    ): Promise<Record<string, unknown> & { inputs: Record<string, unknown>; reasons: string[] }> {
      return inOneMinute(t.db, async (current) => {
        await t.db.query('DELETE FROM request_buckets WHERE instance <> $1 OR minute < $2 - 1', [INSTANCE, current]);
        for (const [instance, h] of Object.entries(perReplica)) {
          await t.db.query('INSERT INTO request_buckets (minute, instance, requests, errors, latency_hist) VALUES ($1, $2, $3, 0, $4)', [
            current - 1,
            instance,
            h.reduce((x, y) => x + y, 0),
            h,
          ]);
        }
        // This app's own requests of that minute (it flushes every 10 s) are zeroed, its row kept: it is a replica too.
        await t.db.query('UPDATE request_buckets SET requests = 0, latency_hist = $3 WHERE instance = $1 AND minute = $2 - 1', [
          INSTANCE,
          current,
          hist({}),
        ]);
        const res = await app.inject({ method: 'GET', url: '/api/scaling' });
        expect(res.statusCode).toBe(200);
        return res.json<Record<string, unknown> & { inputs: Record<string, unknown>; reasons: string[] }>();
      });
    }

    it('GET /api/scaling returns the KEDA metrics-api shape, measured across replicas, with a shared state', async () => {
      await t.db.exec('TRUNCATE scaling_state');
      const idle = await scalingWith({});
      expect(Object.keys(idle).sort()).toEqual(['decided_at', 'decision', 'inputs', 'level', 'reasons', 'recommendedReplicas']);
      // Queue depth: 2 pending approvals + 1 due workflow + 2 queued runs. Replicas: this app only.
      expect(idle).toMatchObject({
        decision: 'scale_down',
        level: 'low',
        recommendedReplicas: 1,
        inputs: { requestsPerMinute: 0, p95Ms: null, queueDepth: 5, currentReplicas: 1 },
      });
      expect(Number.isInteger(idle.recommendedReplicas)).toBe(true);
      expect(idle.reasons[0]).toContain('request rate 0 req/min is low');
      expect(Date.parse(idle.decided_at as string)).not.toBeNaN();

      // 400 + 300 requests on two other replicas (20 of them slow): high, scale up from 3 replicas.
      const busy = await scalingWith({ 'replica-a': hist({ 5: 380, 2500: 20 }), 'replica-b': hist({ 5: 300 }) });
      expect(busy).toMatchObject({
        decision: 'scale_up',
        level: 'high',
        recommendedReplicas: 4,
        inputs: { requestsPerMinute: 700, p95Ms: 5, queueDepth: 5, currentReplicas: 3 },
      });
      expect(busy.reasons[0]).toContain('request rate 700 req/min is high');

      // Slow at P95 on a normal rate: raised to high, the reason names the number.
      const slow = await scalingWith({ 'replica-a': hist({ 5: 100, 2500: 100 }) });
      expect(slow).toMatchObject({
        level: 'high',
        decision: 'scale_up',
        inputs: { requestsPerMinute: 200, p95Ms: 2500, currentReplicas: 2 },
      });
      expect(slow.reasons).toContain('P95 latency 2500 ms ≥ 1000 ms');

      // Back to 480 within the cool-down: the shared state holds high, for every replica.
      const cooling = await scalingWith({ 'replica-a': hist({ 5: 480 }) });
      expect(cooling).toMatchObject({ level: 'high', decision: 'scale_up' });
      expect(cooling.reasons.at(-1)).toMatch(/^holding high: cool-down, \d+ s left since the last change$/);

      // Cool-down over (the state's change moved back in time): 480 is inside the band, 440 is not.
      await t.db.query('UPDATE scaling_state SET changed_at = changed_at - 1000');
      const band = await scalingWith({ 'replica-a': hist({ 5: 480 }) });
      expect(band).toMatchObject({ level: 'high' });
      expect(band.reasons.at(-1)).toBe('holding high: rate 480 is not yet below 450 (10 % under 500)');
      const down = await scalingWith({ 'replica-a': hist({ 5: 440 }) });
      expect(down).toMatchObject({ level: 'normal', decision: 'maintain', recommendedReplicas: 2 });
      const { rows } = await t.db.query<{ level: string; decision: { action: string } }>('SELECT level, decision FROM scaling_state');
      expect(rows).toEqual([{ level: 'normal', decision: expect.objectContaining({ action: 'maintain' }) as unknown }]);
    });

    it('this app flushes its own /api requests (not /metrics or /healthz) into the shared buckets on close', async () => {
      const other = await buildTestApp(t.db, { instanceId: 'flush-on-close' });
      for (let i = 0; i < 3; i++) await other.inject({ method: 'GET', url: '/api/health/summary' });
      await other.inject({ method: 'GET', url: '/metrics' });
      await other.inject({ method: 'GET', url: '/healthz' });
      await other.close();
      const { rows } = await t.db.query<{ requests: number; n: number }>(
        "SELECT coalesce(sum(requests), 0)::int AS requests, count(*)::int AS n FROM request_buckets WHERE instance = 'flush-on-close'",
      );
      expect(rows[0]?.requests).toBe(3);
      expect(rows[0]?.n).toBeGreaterThanOrEqual(1);
    });
  });
});
