// bench/api's settings: sizes (tiny in a smoke run), flags, and the endpoints compared.
import { join } from 'node:path';
import { ROOT, SMOKE, flag, logger } from '../lib/env.js';

export const QUICK = flag('--quick');
export const KEEP = flag('--keep');
/** Where the copy of lib/ every Levqor process of the run uses is taken (see snapshotCli). */
export const SNAPSHOT_DIR = join(ROOT, 'node_modules/.cache/levqor-bench-api');
export const PENDING = SMOKE ? 400 : 10_000;
export const CONNECTIONS = SMOKE ? [10] : [10, 50];
export const WARMUP_S = SMOKE ? 0.3 : 2;
export const DURATION_S = SMOKE ? 0.5 : QUICK ? 5 : 8;
/** Rounds of the Levqor / bare comparison (odd, so that the median is a measured round). */
export const ROUNDS = SMOKE || QUICK ? 1 : 5;
export const DECIDERS = SMOKE ? 2 : 4;
export const APPROVE_S = SMOKE ? 1 : QUICK ? 5 : 10;
export const RACE_IDS = SMOKE ? 10 : 100;
export const PROBE_ROUNDS = SMOKE || QUICK ? 1 : 3;
export const PROBE_S = SMOKE ? 0.2 : 2;
export const TRACED_APPROVALS = SMOKE ? 20 : 200;
export const TRACED_LIST_S = SMOKE ? 1 : 11;
export const SEQUENTIAL = SMOKE ? 20 : 500;
export const PAGE_LIMITS = SMOKE ? [10] : [1, 10, 200];
/** Calls of each query per block, and blocks, when timing queries one at a time. */
export const QUERY_BLOCK = SMOKE ? { calls: 10, blocks: 3 } : { calls: 200, blocks: 7 };
/** Calls when timing in-process work (JSON, sha256, zod). */
export const SYNC_CALLS = SMOKE ? 100 : 100_000;
/** Levqor's default pool size (LEVQOR_DB_POOL_MAX), for the share of pool time the token look-ups hold; the bare server's too. */
export const POOL_MAX = 10;
/** LEVQOR_API_RATE_LIMIT: config.ts refuses more than 1,000,000 (100,000,000 fails at start). */
export const RATE_LIMIT = 1_000_000;

export interface Endpoint {
  key: 'list' | 'id';
  label: string;
  /** The issue-13 target: Levqor's req/s ÷ the bare server's. */
  target: number;
  levqor: (id: string) => string;
  bare: (id: string) => string;
}

/** The endpoints compared, each Levqor's route against the bare server's, with the issue-13 target. */
export const ENDPOINTS: readonly Endpoint[] = [
  { key: 'list', label: 'GET /api/approvals (page of 50)', target: 0.9, levqor: () => '/api/approvals', bare: () => '/bench/approvals' },
  {
    key: 'id',
    label: 'GET /api/approvals/:id',
    target: 0.6,
    levqor: (id) => `/api/approvals/${id}`,
    bare: (id) => `/bench/approvals/${id}`,
  },
];

export const log = logger('bench:api');
