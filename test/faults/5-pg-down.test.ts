import { describe, expect, it } from 'vitest';
import { dbNow } from '../../src/workflows/queries.js';
import { insertDueWorkflows, insertTenant, pollUntil } from '../helpers/proc.js';
import { startServe } from '../helpers/server.js';
import { useFaultDb } from './helpers/fault-db.js';
import { manualRunSeconds } from './helpers/manual-run.js';
import { recordFigures } from './helpers/results.js';

// Experiment 5: Postgres goes away under `levqor serve` (API + scheduler loop): stopped
// (connections refused), then frozen (SIGSTOP: connections accepted, nothing answers, as a
// hung or partitioned server). /api/health/summary and /readyz must answer within 2 s saying
// the database is down; when it is back, the same process serves and schedules again, and its
// LISTEN is back: a manual run queued then starts within 1 s, although the loop's interval is 30 s.

/** The product guarantee: a health probe answers within 2 s whatever the database does. */
const ANSWER_WITHIN_MS = 2_000;
/** A manual run queued once the database is back starts within this (NOTIFY, not the interval). */
const MANUAL_START_WITHIN_S = 1;
const PROBES = 5;

const fault = useFaultDb();

interface Probe {
  path: string;
  status: number;
  ms: number;
  body: Record<string, unknown>;
}

async function probe(baseUrl: string, path: string): Promise<Probe> {
  const started = performance.now();
  try {
    // Far beyond the guarantee, so a slow answer is measured rather than cut off.
    const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(15_000) });
    const body = (await res.json()) as Record<string, unknown>;
    return { path, status: res.status, ms: Math.round(performance.now() - started), body };
  } catch (err) {
    return { path, status: 0, ms: Math.round(performance.now() - started), body: { error: (err as Error).message } };
  }
}

describe('Postgres down under levqor serve', () => {
  it('health answers within 2 s saying the database is down, and serve recovers without a restart', async () => {
    const { db, url, cluster } = fault();
    const tenantId = await insertTenant(db, 'down');
    await insertDueWorkflows(db, tenantId, {
      prefix: 'tick',
      count: 20,
      steps: [{ type: 'noop' }],
      schedule: { enabled: true, interval_minutes: 0.05 },
    });
    const [manualId] = await insertDueWorkflows(db, tenantId, {
      prefix: 'manual',
      steps: [{ type: 'noop' }],
      schedule: { enabled: true, interval_minutes: 600 },
    });
    // A long interval: after an outage only the loop's own LISTEN (back on a new connection) wakes it at once.
    const serve = await startServe({ DATABASE_URL: url, LEVQOR_DB_CONNECT_TIMEOUT_MS: '10000' }, ['--interval', '30'], { scheduler: true });
    const figures: [string, string | number][] = [];
    const failures: string[] = [];
    try {
      expect((await probe(serve.baseUrl, '/readyz')).status).toBe(200);
      for (const outage of ['stopped', 'frozen'] as const) {
        if (outage === 'stopped') await cluster.stop('fast');
        else await cluster.freeze(true);
        const probes: Probe[] = [];
        for (let i = 0; i < PROBES; i++) {
          probes.push(...(await Promise.all([probe(serve.baseUrl, '/api/health/summary'), probe(serve.baseUrl, '/readyz')])));
        }
        for (const p of probes) {
          const down =
            p.path === '/readyz'
              ? p.status === 503 && p.body.ok === false
              : p.status === 503 && p.body.status === 'down' && (p.body.database as { ok: boolean }).ok === false;
          if (!down || p.ms > ANSWER_WITHIN_MS)
            failures.push(`${outage}: GET ${p.path} → ${p.status} in ${p.ms} ms ${JSON.stringify(p.body).slice(0, 200)}`);
        }
        const worst = (path: string) => Math.max(...probes.filter((p) => p.path === path).map((p) => p.ms));
        const sample = probes.find((p) => p.path === '/readyz')?.body.error;
        figures.push(
          [`${outage}: GET /api/health/summary, slowest of ${PROBES} (ms)`, worst('/api/health/summary')],
          [`${outage}: GET /readyz, slowest of ${PROBES} (ms)`, worst('/readyz')],
          [`${outage}: /readyz says`, `503 ${JSON.stringify(String(sample)).slice(0, 80)}`],
        );
        const backFrom = performance.now();
        if (outage === 'stopped') await cluster.start();
        else await cluster.freeze(false);
        const since = await dbNow(db);
        // The same process: ready again, and its scheduler loop runs slots again.
        await pollUntil(async () => (await probe(serve.baseUrl, '/readyz')).status === 200, {
          what: 'readyz 200 after the outage',
          attempts: 300,
          intervalMs: 100,
        });
        const readyAfter = Math.round(performance.now() - backFrom);
        await pollUntil(
          async () => {
            const { rows } = await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM workflow_runs WHERE started_at > $1 AND status = 'succeeded'`,
              [since],
            );
            return (rows[0]?.n ?? 0) > 0;
          },
          { what: 'a run scheduled after the outage', attempts: 1200, intervalMs: 100 },
        );
        // With the scheduled workflows paused, only NOTIFY wakes the loop for a manual run.
        await db.query(`UPDATE workflows SET is_active = false WHERE tenant_id = $1 AND name LIKE 'tick-%'`, [tenantId]);
        const manualStart = await manualRunSeconds(db, tenantId, manualId as string, 'the manual run queued after the outage');
        figures.push([`${outage}: manual run queued after the database is back → done (s), loop interval 30 s`, manualStart]);
        if (manualStart > MANUAL_START_WITHIN_S) failures.push(`${outage}: a manual run queued after the outage took ${manualStart} s`);
        await db.query(`UPDATE workflows SET is_active = true WHERE tenant_id = $1 AND name LIKE 'tick-%'`, [tenantId]);
        await db.query(`SELECT pg_notify('levqor_scheduler', 'workflow')`);
        const summary = await probe(serve.baseUrl, '/api/health/summary');
        figures.push(
          [`${outage}: database back → /readyz 200 (ms), same process`, readyAfter],
          [`${outage}: health after recovery`, `${summary.status} ${String(summary.body.status)}`],
        );
        expect(summary.body.database).toMatchObject({ ok: true });
        expect(serve.proc.exit, serve.proc.tail()).toBeUndefined();
      }
    } finally {
      await recordFigures('5-pg-down', {
        title: '5. Postgres down under `levqor serve` (API + scheduler loop)',
        rows: [...figures, ['**probes slower than 2 s or not saying "down", manual runs later than 1 s**', failures.length]],
        notes: failures.length ? failures.map((f) => `- ${f}`) : undefined,
      });
    }
    expect(failures).toEqual([]);
    expect(await serve.stop()).toEqual({ code: 0, signal: null });
  });
});
