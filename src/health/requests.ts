import type { Queryable } from '../db/types.js';

/** Upper bounds (ms) of the latency histogram shared by every replica; the last bucket is open. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

interface Bucket {
  requests: number;
  errors: number;
  hist: number[];
}

/** Counts requests per minute in memory until they are flushed to Postgres. */
export function createRequestRecorder(nowMs: () => number = Date.now) {
  const minutes = new Map<number, Bucket>();
  return {
    record(latencyMs: number, isError: boolean): void {
      const minute = Math.floor(nowMs() / 60_000);
      let b = minutes.get(minute);
      if (!b) minutes.set(minute, (b = { requests: 0, errors: 0, hist: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) }));
      b.requests++;
      if (isError) b.errors++;
      const i = LATENCY_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
      b.hist[i === -1 ? LATENCY_BOUNDS_MS.length : i]! += 1;
    },
    /** Takes what was counted so far; always includes the current minute so idle replicas still count. */
    drain(): { minute: number; requests: number; errors: number; hist: number[] }[] {
      const current = Math.floor(nowMs() / 60_000);
      if (!minutes.has(current))
        minutes.set(current, { requests: 0, errors: 0, hist: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) });
      const out = [...minutes].map(([minute, b]) => ({ minute, ...b }));
      minutes.clear();
      return out;
    },
  };
}

/** Adds drained counts to the shared per-minute rows of this instance. */
export async function flushRequestBuckets(
  db: Queryable,
  instance: string,
  buckets: ReturnType<ReturnType<typeof createRequestRecorder>['drain']>,
): Promise<void> {
  if (buckets.length === 0) return;
  await db.query(
    `INSERT INTO request_buckets (minute, instance, requests, errors, latency_hist)
     SELECT b.minute, $1, b.requests, b.errors, ARRAY(SELECT jsonb_array_elements_text(b.hist)::int)
     FROM jsonb_to_recordset($2::jsonb) AS b(minute bigint, requests int, errors int, hist jsonb)
     ON CONFLICT (minute, instance) DO UPDATE SET
       requests = request_buckets.requests + excluded.requests,
       errors = request_buckets.errors + excluded.errors,
       latency_hist = ARRAY(SELECT a + b FROM unnest(request_buckets.latency_hist, excluded.latency_hist) AS t(a, b))`,
    [instance, JSON.stringify(buckets)],
  );
}

/** The p-th percentile (0–1) from histogram counts: the upper bound of the bucket it falls in. */
export function percentileFromHist(hist: readonly number[], p: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]! * 2;
  }
  return null;
}

/** Request rate and P95 over the last complete minute, summed across every API replica. */
export async function readRequestLoad(db: Queryable): Promise<{ requestsPerMinute: number; p95Ms: number | null; replicas: number }> {
  const { rows } = await db.query<{ requests: number; hist: number[] | null; replicas: number }>(
    `WITH m AS (SELECT floor(extract(epoch FROM now()) / 60)::bigint AS current)
     SELECT
       coalesce((SELECT sum(requests)::int FROM request_buckets, m WHERE minute = m.current - 1), 0) AS requests,
       (SELECT array_agg(s ORDER BY i) FROM (
          SELECT i, sum(v)::int AS s FROM request_buckets, m, unnest(latency_hist) WITH ORDINALITY AS u(v, i)
          WHERE minute = m.current - 1 GROUP BY i) h) AS hist,
       (SELECT count(DISTINCT instance)::int FROM request_buckets, m WHERE minute >= m.current - 1) AS replicas`,
  );
  const r = rows[0];
  return {
    requestsPerMinute: r?.requests ?? 0,
    p95Ms: r?.hist ? percentileFromHist(r.hist, 0.95) : null,
    replicas: Math.max(1, r?.replicas ?? 1),
  };
}
