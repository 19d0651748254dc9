import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LATENCY_BOUNDS_MS, percentileFromHist } from '../src/health/requests.js';
import {
  decideScaling,
  DEFAULT_SCALING,
  levelForRate,
  type LoadLevel,
  type ScalingConfig,
  type ScalingInputs,
  type ScalingState,
} from '../src/health/scaling.js';

// The scaling policy is pure: plain inputs, `now` and the previous shared state in, a
// decision out. No database, no clock, no mocks.

const inputs = (over: Partial<ScalingInputs> = {}): ScalingInputs => ({
  requestsPerMinute: 300,
  p95Ms: null,
  queueDepth: 0,
  currentReplicas: 4,
  ...over,
});
const cfg = (over: Partial<ScalingConfig> = {}): ScalingConfig => ({ ...DEFAULT_SCALING, ...over });
const RANK: Record<LoadLevel, number> = { low: 0, normal: 1, high: 2, critical: 3 };

/** A histogram with `counts[boundMs] = n` and everything else zero (bound 'open' = the last, open bucket). */
function hist(counts: Partial<Record<number | 'open', number>>): number[] {
  const out = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const [key, n] of Object.entries(counts)) {
    const i = key === 'open' ? LATENCY_BOUNDS_MS.length : LATENCY_BOUNDS_MS.indexOf(Number(key) as (typeof LATENCY_BOUNDS_MS)[number]);
    if (i < 0) throw new Error(`no bucket bound ${key}`);
    out[i] = n ?? 0;
  }
  return out;
}

describe('levelForRate: the guide table at its boundaries', () => {
  it.each([
    [0, 'low'],
    [99, 'low'],
    [100, 'normal'],
    [500, 'normal'],
    [501, 'high'],
    [1000, 'high'],
    [1001, 'critical'],
    [5000, 'critical'],
  ] as const)('%i req/min is %s', (rpm, level) => {
    expect(levelForRate(rpm)).toBe(level);
  });
});

describe('decideScaling without a previous state', () => {
  it.each([
    { rpm: 0, current: 3, level: 'low', action: 'scale_down', replicas: 2 },
    { rpm: 99, current: 3, level: 'low', action: 'scale_down', replicas: 2 },
    { rpm: 50, current: 1, level: 'low', action: 'scale_down', replicas: 1 }, // min clamp
    { rpm: 100, current: 4, level: 'normal', action: 'maintain', replicas: 4 },
    { rpm: 500, current: 4, level: 'normal', action: 'maintain', replicas: 4 },
    { rpm: 501, current: 4, level: 'high', action: 'scale_up', replicas: 5 },
    { rpm: 1000, current: 20, level: 'high', action: 'scale_up', replicas: 20 }, // max clamp
    { rpm: 1001, current: 3, level: 'critical', action: 'emergency_scale', replicas: 6 }, // doubles
    { rpm: 1001, current: 1, level: 'critical', action: 'emergency_scale', replicas: 3 }, // at least +2
    { rpm: 5000, current: 15, level: 'critical', action: 'emergency_scale', replicas: 20 }, // max clamp
    { rpm: 300, current: 0, level: 'normal', action: 'maintain', replicas: 1 }, // never below minReplicas
  ] as const)('$rpm req/min on $current replicas: $level → $action, $replicas replicas', ({ rpm, current, level, action, replicas }) => {
    const d = decideScaling(inputs({ requestsPerMinute: rpm, currentReplicas: current }), null, 1_000);
    expect(d).toMatchObject({ level, action, recommendedReplicas: replicas, state: { level, changedAt: 1_000 } });
    expect(d.reasons[0]).toContain(`request rate ${rpm} req/min is ${level}`);
  });

  it.each([0, 99, 100, 500, 501, 1000, 1001])('the reason states the rule levelForRate applies (%i req/min)', (rpm) => {
    const reason = decideScaling(inputs({ requestsPerMinute: rpm }), null, 0).reasons[0] ?? '';
    expect(reason).toBe(`request rate ${rpm} req/min is ${levelForRate(rpm)} (<100 low, 100–500 normal, 501–1000 high, >1000 critical)`);
    // Each band the text names holds its own boundaries, and no boundary is in two bands.
    const bands = [...reason.matchAll(/(\d+)–(\d+) (\w+)/g)].map((m) => [Number(m[1]), Number(m[2]), m[3]] as const);
    for (const [from, to, level] of bands) expect([levelForRate(from), levelForRate(to)]).toEqual([level, level]);
    for (const [i, [, to]] of bands.entries()) if (i + 1 < bands.length) expect(bands[i + 1]?.[0]).toBeGreaterThan(to);
  });

  it.each([
    { name: 'min 3', over: { minReplicas: 3 }, rpm: 10, current: 3, replicas: 3 },
    { name: 'min 3, fewer running', over: { minReplicas: 3 }, rpm: 300, current: 1, replicas: 3 },
    { name: 'max 5', over: { maxReplicas: 5 }, rpm: 2000, current: 4, replicas: 5 },
    { name: 'max 5, more running', over: { maxReplicas: 5 }, rpm: 300, current: 8, replicas: 5 },
  ])('replica clamps ($name): $rpm req/min on $current → $replicas', ({ over, rpm, current, replicas }) => {
    expect(decideScaling(inputs({ requestsPerMinute: rpm, currentReplicas: current }), null, 0, cfg(over)).recommendedReplicas).toBe(
      replicas,
    );
  });
});

describe('decideScaling: P95 and queue-depth triggers raise the level', () => {
  it.each([
    { name: 'P95 below high', over: { p95Ms: 999 }, level: 'normal', reason: undefined },
    { name: 'P95 at high', over: { p95Ms: 1000 }, level: 'high', reason: 'P95 latency 1000 ms ≥ 1000 ms' },
    { name: 'P95 over high', over: { p95Ms: 1234.4 }, level: 'high', reason: 'P95 latency 1234 ms' },
    { name: 'P95 at critical', over: { p95Ms: 3000 }, level: 'critical', reason: 'P95 latency 3000 ms ≥ 3000 ms' },
    { name: 'queue below high', over: { queueDepth: 99 }, level: 'normal', reason: undefined },
    { name: 'queue at high', over: { queueDepth: 100 }, level: 'high', reason: 'queue depth 100 ≥ 100' },
    { name: 'queue over high', over: { queueDepth: 250 }, level: 'high', reason: 'queue depth 250' },
    { name: 'queue at critical', over: { queueDepth: 1000 }, level: 'critical', reason: 'queue depth 1000 ≥ 1000' },
    { name: 'both: the higher wins', over: { p95Ms: 1500, queueDepth: 4000 }, level: 'critical', reason: 'queue depth 4000' },
  ] as const)('$name → $level', ({ over, level, reason }) => {
    const d = decideScaling(inputs({ requestsPerMinute: 300, ...over }), null, 0);
    expect(d.level).toBe(level);
    if (reason === undefined) expect(d.reasons).toHaveLength(1);
    else expect(d.reasons.some((r) => r.includes(reason))).toBe(true);
  });

  it('triggers never lower the rate level, and say nothing when they change nothing', () => {
    const d = decideScaling(inputs({ requestsPerMinute: 2000, p95Ms: 1500, queueDepth: 150 }), null, 0);
    expect(d.level).toBe('critical');
    expect(d.reasons).toHaveLength(1);
  });

  it('uses the configured trigger thresholds', () => {
    const c = cfg({ p95HighMs: 200, p95CriticalMs: 400, queueHigh: 5, queueCritical: 10 });
    expect(decideScaling(inputs({ p95Ms: 250 }), null, 0, c).level).toBe('high');
    expect(decideScaling(inputs({ p95Ms: 400 }), null, 0, c).level).toBe('critical');
    expect(decideScaling(inputs({ queueDepth: 5 }), null, 0, c).level).toBe('high');
    expect(decideScaling(inputs({ queueDepth: 10 }), null, 0, c).reasons.at(-1)).toBe('queue depth 10 ≥ 10');
  });
});

describe('decideScaling: hysteresis and cool-down', () => {
  const longAgo: ScalingState = { level: 'high', changedAt: 0 };
  const NOW = 10_000; // far past the 300 s cool-down of longAgo

  it.each([
    { rpm: 480, level: 'high', changed: false, note: 'inside the band (≥ 450): holds' },
    { rpm: 450, level: 'high', changed: false, note: 'exactly at the band: holds' },
    { rpm: 449, level: 'normal', changed: true, note: 'just below the band: steps down' },
    { rpm: 440, level: 'normal', changed: true, note: 'below the band: steps down' },
    { rpm: 50, level: 'low', changed: true, note: 'far below: straight to low' },
    { rpm: 700, level: 'high', changed: false, note: 'still high: unchanged state' },
    { rpm: 1200, level: 'critical', changed: true, note: 'up: immediate' },
  ] as const)('from high (changed long ago), $rpm req/min → $level ($note)', ({ rpm, level, changed }) => {
    const d = decideScaling(inputs({ requestsPerMinute: rpm }), longAgo, NOW);
    expect(d.level).toBe(level);
    expect(d.state).toEqual(changed ? { level, changedAt: NOW } : longAgo);
    if (level === 'high' && rpm < 501) expect(d.reasons.at(-1)).toBe(`holding high: rate ${rpm} is not yet below 450 (10 % under 500)`);
  });

  it('the band follows the configured hysteresis and the level being left', () => {
    const fromCritical = { level: 'critical', changedAt: 0 } as const;
    expect(decideScaling(inputs({ requestsPerMinute: 950 }), fromCritical, NOW).level).toBe('critical');
    expect(decideScaling(inputs({ requestsPerMinute: 899 }), fromCritical, NOW).level).toBe('high');
    const fromNormal = { level: 'normal', changedAt: 0 } as const;
    expect(decideScaling(inputs({ requestsPerMinute: 90 }), fromNormal, NOW).level).toBe('normal');
    expect(decideScaling(inputs({ requestsPerMinute: 89 }), fromNormal, NOW).level).toBe('low');
    expect(decideScaling(inputs({ requestsPerMinute: 480 }), longAgo, NOW, cfg({ hysteresis: 0 })).level).toBe('normal');
    expect(decideScaling(inputs({ requestsPerMinute: 380 }), longAgo, NOW, cfg({ hysteresis: 0.25 })).level).toBe('high');
    expect(decideScaling(inputs({ requestsPerMinute: 370 }), longAgo, NOW, cfg({ hysteresis: 0.25 })).level).toBe('normal');
  });

  it('stepping down within cooldownSeconds holds, naming the seconds left; at the cool-down it steps', () => {
    const recent: ScalingState = { level: 'high', changedAt: 1_000 };
    const held = decideScaling(inputs({ requestsPerMinute: 50 }), recent, 1_100);
    expect(held.level).toBe('high');
    expect(held.action).toBe('scale_up');
    expect(held.state).toEqual(recent);
    expect(held.reasons.at(-1)).toBe('holding high: cool-down, 200 s left since the last change');
    expect(decideScaling(inputs({ requestsPerMinute: 50 }), recent, 1_299).level).toBe('high');
    const stepped = decideScaling(inputs({ requestsPerMinute: 50 }), recent, 1_300);
    expect(stepped).toMatchObject({ level: 'low', action: 'scale_down', state: { level: 'low', changedAt: 1_300 } });
    expect(decideScaling(inputs({ requestsPerMinute: 50 }), recent, 1_030, cfg({ cooldownSeconds: 30 })).level).toBe('low');
  });

  it('stepping up is immediate, even right after a change', () => {
    const justChanged: ScalingState = { level: 'normal', changedAt: 1_000 };
    expect(decideScaling(inputs({ requestsPerMinute: 700 }), justChanged, 1_001)).toMatchObject({
      level: 'high',
      state: { level: 'high', changedAt: 1_001 },
    });
    expect(decideScaling(inputs({ requestsPerMinute: 300, queueDepth: 5000 }), justChanged, 1_001).level).toBe('critical');
    expect(decideScaling(inputs({ requestsPerMinute: 50 }), { level: 'low', changedAt: 1_000 }, 1_001).state).toEqual({
      level: 'low',
      changedAt: 1_000,
    });
  });

  /** Feeds rates one per `step` seconds from `start`, carrying the state; returns the level after each. */
  function replay(rates: readonly number[], step: number, c: ScalingConfig = DEFAULT_SCALING) {
    let state: ScalingState | null = null;
    return rates.map((rpm, i) => {
      const now = i * step;
      const d = decideScaling(inputs({ requestsPerMinute: rpm }), state, now, c);
      const previous = state;
      state = d.state;
      return { now, rpm, level: d.level, changed: previous !== null && previous.level !== d.level, previous };
    });
  }

  it('495, 505, 495, 505 … at the 500 boundary changes the level once, not every minute', () => {
    const rates = Array.from({ length: 60 }, (_, i) => (i % 2 ? 505 : 495));
    const steps = replay(rates, 60);
    expect(steps.filter((s) => s.changed).map((s) => [s.now, s.level])).toEqual([[60, 'high']]);
    expect(steps.at(-1)?.level).toBe('high');
  });

  it('95, 105, 95, 105 … at the 100 boundary changes the level once', () => {
    const steps = replay(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? 105 : 95)),
      30,
    );
    expect(steps.filter((s) => s.changed).map((s) => s.level)).toEqual(['normal']);
  });

  it('a rate swinging past the band steps down only after a full cool-down since the last change', () => {
    const steps = replay(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? 600 : 400)),
      30,
    );
    const changes = steps.filter((s) => s.changed);
    const downs = changes.filter((c) => RANK[c.level] < RANK[c.previous!.level]);
    expect(downs.map((d) => d.now)).toEqual([360, 720, 1080, 1440]);
    for (const s of downs) {
      expect(s.now - s.previous!.changedAt).toBeGreaterThanOrEqual(DEFAULT_SCALING.cooldownSeconds);
    }
    // 30 minutes of a 30-second swing: at most one step down per 5-minute cool-down (plus the step back up).
    expect(changes.length).toBeLessThanOrEqual(2 * Math.ceil((60 * 30) / DEFAULT_SCALING.cooldownSeconds));
  });

  it('property: any rate sequence steps down only below the band and after the cool-down', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 600 }),
        (rates, step, cooldownSeconds) => {
          const c = cfg({ cooldownSeconds });
          for (const s of replay(rates, step, c)) {
            if (!s.previous) {
              expect(s.level).toBe(levelForRate(s.rpm));
              continue;
            }
            if (RANK[s.level] < RANK[s.previous.level]) {
              expect(s.now - s.previous.changedAt).toBeGreaterThanOrEqual(cooldownSeconds);
              const floor = { low: 0, normal: 100, high: 500, critical: 1000 }[s.previous.level];
              expect(s.rpm).toBeLessThan(floor * (1 - c.hysteresis));
              expect(s.level).toBe(levelForRate(s.rpm));
            } else {
              // Never below what the rate alone says.
              expect(RANK[s.level]).toBeGreaterThanOrEqual(RANK[levelForRate(s.rpm)]);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('percentileFromHist', () => {
  it.each([
    { name: 'empty', h: [], p: 0.95, want: null },
    { name: 'all zero', h: hist({}), p: 0.95, want: null },
    { name: 'all fast', h: hist({ 5: 100 }), p: 0.95, want: 5 },
    { name: '95 fast, 5 slow: P95 is fast', h: hist({ 5: 95, 1000: 5 }), p: 0.95, want: 5 },
    { name: '94 fast, 6 slow: P95 is slow', h: hist({ 5: 94, 1000: 6 }), p: 0.95, want: 1000 },
    { name: '57 of 60 fast (rank exactly 57)', h: hist({ 5: 57, 2500: 3 }), p: 0.95, want: 5 },
    { name: 'median', h: hist({ 10: 50, 250: 50 }), p: 0.5, want: 10 },
    { name: 'median just past', h: hist({ 10: 49, 250: 51 }), p: 0.5, want: 250 },
    { name: 'max', h: hist({ 5: 99, 10000: 1 }), p: 1, want: 10000 },
    { name: 'open bucket: twice the last bound', h: hist({ open: 3 }), p: 0.95, want: 20000 },
    { name: 'one request', h: hist({ 50: 1 }), p: 0.95, want: 50 },
  ])('$name → $want', ({ h, p, want }) => {
    expect(percentileFromHist(h, p)).toBe(want);
  });
});
