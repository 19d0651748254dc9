import type { Db } from '../db/types.js';
import { lockScalingInputs, saveScalingState } from './queries.js';
import { readRequestLoad } from './requests.js';
import { decideScaling, type ScalingConfig, type ScalingDecision, type ScalingInputs } from './scaling.js';

export interface ScalingReport extends ScalingDecision {
  inputs: ScalingInputs;
  decided_at: string;
}

/**
 * Measures load across all replicas (request buckets and queues in Postgres) and decides
 * under the shared, locked scaling state, so every replica answers the same.
 */
export async function evaluateScaling(db: Db, cfg: ScalingConfig): Promise<ScalingReport> {
  const load = await readRequestLoad(db);
  return db.transaction(async (tx) => {
    const r = await lockScalingInputs(tx);
    const inputs: ScalingInputs = {
      requestsPerMinute: load.requestsPerMinute,
      p95Ms: load.p95Ms,
      queueDepth: r.queue,
      currentReplicas: load.replicas,
    };
    const previous = r.level && r.changed_at !== null ? { level: r.level, changedAt: r.changed_at } : null;
    const decision = decideScaling(inputs, previous, r.now, cfg);
    await saveScalingState(tx, {
      level: decision.state.level,
      changedAt: decision.state.changedAt,
      decidedAt: r.now,
      decision: { action: decision.action, reasons: decision.reasons, inputs },
    });
    return { ...decision, inputs, decided_at: new Date(r.now * 1000).toISOString() };
  });
}
