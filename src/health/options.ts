import type { Config } from '../config.js';
import type { RetentionOptions } from '../maintenance/cleanup.js';
import { DEFAULT_SCALING, type ScalingConfig } from './scaling.js';
import type { HealthThresholds } from './summary.js';

/** Health thresholds, scaling and retention settings from configuration. */
export function healthOptions(config: Config): {
  thresholds: HealthThresholds;
  scaling: ScalingConfig;
  retention: Omit<RetentionOptions, 'dryRun' | 'archiveDir' | 'onProgress'>;
} {
  return {
    thresholds: {
      schedulerIntervalSeconds: config.LEVQOR_SCHEDULER_INTERVAL_SECONDS,
      pendingApprovalsHigh: config.LEVQOR_ALERT_PENDING_APPROVALS,
      minRunsForRate: 20,
    },
    scaling: {
      ...DEFAULT_SCALING,
      p95HighMs: config.LEVQOR_SCALING_P95_HIGH_MS,
      p95CriticalMs: config.LEVQOR_SCALING_P95_CRITICAL_MS,
      queueHigh: config.LEVQOR_SCALING_QUEUE_HIGH,
      queueCritical: config.LEVQOR_SCALING_QUEUE_CRITICAL,
      cooldownSeconds: config.LEVQOR_SCALING_COOLDOWN_SECONDS,
      maxReplicas: config.LEVQOR_SCALING_MAX_REPLICAS,
    },
    retention: {
      runsDays: config.LEVQOR_RETENTION_RUNS_DAYS,
      eventsDays: config.LEVQOR_RETENTION_EVENTS_DAYS,
      approvalsDays: config.LEVQOR_RETENTION_APPROVALS_DAYS,
      batchSize: 5000,
      statementTimeoutMs: 5000,
    },
  };
}
