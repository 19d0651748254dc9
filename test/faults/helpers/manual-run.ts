import type { Db } from '../../../src/db/types.js';
import { insertQueuedRun } from '../../../src/runs/lifecycle-queries.js';
import { dbNow } from '../../../src/workflows/queries.js';
import { pollUntil } from '../../helpers/proc.js';

/**
 * Queues a manual run of a workflow (with its NOTIFY, as `levqor run` and the API do) and waits
 * for it to succeed: the seconds of database time from queued to done, to two decimals.
 */
export async function manualRunSeconds(db: Db, tenantId: string, workflowId: string, what: string): Promise<number> {
  const queuedAt = await dbNow(db);
  const runId = await db.transaction((tx) =>
    insertQueuedRun(tx, { tenant_id: tenantId, workflow_id: workflowId, trigger: 'manual', actor: 'cli:faults', notify: true }),
  );
  const finishedAt = await pollUntil(
    async () => {
      const { rows } = await db.query<{ finished_at: number }>(
        `SELECT finished_at FROM workflow_runs WHERE id = $1 AND status = 'succeeded'`,
        [runId],
      );
      return rows[0]?.finished_at;
    },
    { what, attempts: 1200, intervalMs: 50 },
  );
  return Math.round((finishedAt - queuedAt) * 100) / 100;
}
