// What the dashboard script reads from a /dashboard/events snapshot: the server's
// DashboardSnapshot must satisfy it (src/http/dashboard.ts checks that at compile time).

/** The queue counters of the health summary, in the order the Queues tile lists them. */
export const QUEUES = ['pending_approvals', 'due_unclaimed_workflows', 'queued_runs', 'running_runs', 'waiting_approval_runs'] as const;

export type QueueName = (typeof QUEUES)[number];

export interface ErrorRateView {
  window: '1h' | '24h';
  total: number;
  failed: number;
  rate: number | null;
  target: number;
  ok: boolean;
}

export interface SnapshotView {
  summary: {
    status: 'ok' | 'degraded' | 'down';
    reasons: string[];
    checked_at: string;
    uptime: { process_seconds: number; deployment_seconds: number | null };
    database: { ok: boolean; latency_ms: number | null; error?: string };
    queues: Record<QueueName, number> | null;
    error_rates: ErrorRateView[] | null;
    scheduler: {
      age_seconds: number | null;
      stale: boolean;
      instances: { hostname: string; pid: number; stopped_at: number | null }[];
    } | null;
  };
  scaling: {
    action: 'scale_down' | 'maintain' | 'scale_up' | 'emergency_scale';
    level: string;
    recommendedReplicas: number;
    reasons: string[];
    inputs: { requestsPerMinute: number; p95Ms: number | null; queueDepth: number; currentReplicas: number };
  } | null;
  alerts: {
    kind: string;
    status: 'firing' | 'resolved';
    message: string;
    fired_at: number;
    resolved_at: number | null;
    /** The value read at resolution (older rows: null). */
    resolved_message: string | null;
  }[];
  runs_per_minute: { minute: number; runs: number; failed: number }[];
}
