/** Load levels of the operations guide's scaling table. */
export type LoadLevel = 'low' | 'normal' | 'high' | 'critical';
type ScalingAction = 'scale_down' | 'maintain' | 'scale_up' | 'emergency_scale';

export interface ScalingConfig {
  /** P95 latency (ms) at or above which load counts as high / critical. */
  p95HighMs: number;
  p95CriticalMs: number;
  /** Queue depth (pending approvals + due-but-unclaimed workflows + queued runs) for high / critical. */
  queueHigh: number;
  queueCritical: number;
  /** Fraction below a threshold the rate must fall before the level steps down (no flapping at a boundary). */
  hysteresis: number;
  /** Seconds after a change before the level may step down again (stepping up is never delayed). */
  cooldownSeconds: number;
  minReplicas: number;
  maxReplicas: number;
}

export const DEFAULT_SCALING: ScalingConfig = {
  p95HighMs: 1000,
  p95CriticalMs: 3000,
  queueHigh: 100,
  queueCritical: 1000,
  hysteresis: 0.1,
  cooldownSeconds: 300,
  minReplicas: 1,
  maxReplicas: 20,
};

export interface ScalingInputs {
  requestsPerMinute: number;
  p95Ms: number | null;
  queueDepth: number;
  currentReplicas: number;
}

/** The decision shared by every replica (stored in Postgres between evaluations). */
export interface ScalingState {
  level: LoadLevel;
  changedAt: number;
}

export interface ScalingDecision {
  level: LoadLevel;
  action: ScalingAction;
  reasons: string[];
  recommendedReplicas: number;
  state: ScalingState;
}

const ORDER: readonly LoadLevel[] = ['low', 'normal', 'high', 'critical'];
const ACTION: Record<LoadLevel, ScalingAction> = { low: 'scale_down', normal: 'maintain', high: 'scale_up', critical: 'emergency_scale' };
const rank = (l: LoadLevel) => ORDER.indexOf(l);

/** The guide's table: < 100 req/min low, 100–500 normal, 501–1000 high, > 1000 critical. */
export function levelForRate(rpm: number): LoadLevel {
  if (rpm < 100) return 'low';
  if (rpm <= 500) return 'normal';
  if (rpm <= 1000) return 'high';
  return 'critical';
}

/** The lowest rate that still counts as `level`, for the hysteresis band. */
function floorOf(level: LoadLevel): number {
  return level === 'normal' ? 100 : level === 'high' ? 500 : level === 'critical' ? 1000 : 0;
}

/**
 * The scaling decision (pure): the guide's rate thresholds raised by P95 latency and queue
 * depth triggers; stepping down needs the rate below the band under the current level's
 * threshold and the cool-down passed, so a rate hovering at a boundary does not flap.
 */
export function decideScaling(
  inputs: ScalingInputs,
  previous: ScalingState | null,
  now: number,
  cfg: ScalingConfig = DEFAULT_SCALING,
): ScalingDecision {
  const reasons: string[] = [];
  const rpm = inputs.requestsPerMinute;
  let level = levelForRate(rpm);
  // The rule as applied: the guide's "100-500 normal" and "500-1000 high" share 500, which is normal.
  reasons.push(`request rate ${rpm} req/min is ${level} (<100 low, 100–500 normal, 501–1000 high, >1000 critical)`);
  const raise = (to: LoadLevel, why: string) => {
    if (rank(to) > rank(level)) {
      level = to;
      reasons.push(why);
    }
  };
  if (inputs.p95Ms !== null && inputs.p95Ms >= cfg.p95CriticalMs)
    raise('critical', `P95 latency ${Math.round(inputs.p95Ms)} ms ≥ ${cfg.p95CriticalMs} ms`);
  else if (inputs.p95Ms !== null && inputs.p95Ms >= cfg.p95HighMs)
    raise('high', `P95 latency ${Math.round(inputs.p95Ms)} ms ≥ ${cfg.p95HighMs} ms`);
  if (inputs.queueDepth >= cfg.queueCritical) raise('critical', `queue depth ${inputs.queueDepth} ≥ ${cfg.queueCritical}`);
  else if (inputs.queueDepth >= cfg.queueHigh) raise('high', `queue depth ${inputs.queueDepth} ≥ ${cfg.queueHigh}`);

  if (previous && rank(level) < rank(previous.level)) {
    const band = floorOf(previous.level) * (1 - cfg.hysteresis);
    const cooling = now - previous.changedAt < cfg.cooldownSeconds;
    if (rpm >= band || cooling) {
      reasons.push(
        cooling
          ? `holding ${previous.level}: cool-down, ${Math.ceil(cfg.cooldownSeconds - (now - previous.changedAt))} s left since the last change`
          : `holding ${previous.level}: rate ${rpm} is not yet below ${band} (${Math.round(cfg.hysteresis * 100)} % under ${floorOf(previous.level)})`,
      );
      level = previous.level;
    }
  }
  const changed = !previous || previous.level !== level;
  const state: ScalingState = changed ? { level, changedAt: now } : previous;
  const action = ACTION[level];
  const current = Math.max(cfg.minReplicas, inputs.currentReplicas);
  const target =
    action === 'scale_down'
      ? current - 1
      : action === 'maintain'
        ? current
        : action === 'scale_up'
          ? current + 1
          : Math.max(current * 2, current + 2);
  const recommendedReplicas = Math.min(cfg.maxReplicas, Math.max(cfg.minReplicas, target));
  return { level, action, reasons, recommendedReplicas, state };
}
