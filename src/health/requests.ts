import type { Queryable } from '../db/types.js';
import { lastMinuteLoad, type RequestBucket } from './queries.js';

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
    drain(): RequestBucket[] {
      const current = Math.floor(nowMs() / 60_000);
      if (!minutes.has(current))
        minutes.set(current, { requests: 0, errors: 0, hist: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) });
      const out = [...minutes].map(([minute, b]) => ({ minute, ...b }));
      minutes.clear();
      return out;
    },
  };
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
  const r = await lastMinuteLoad(db);
  return {
    requestsPerMinute: r?.requests ?? 0,
    p95Ms: r?.hist ? percentileFromHist(r.hist, 0.95) : null,
    replicas: Math.max(1, r?.replicas ?? 1),
  };
}
