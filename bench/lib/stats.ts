// Rounding and percentiles for the reports.

/** x to d decimals, or 'n/a' when it is missing or not a finite number. */
export const round = (x: number | null | undefined, d = 2): number | 'n/a' =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x.toFixed(d));

/** A share as a whole percentage. */
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${Math.round(x * 100)} %`;

/** A whole number with thousands separators. */
export const int = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Math.round(x).toLocaleString('en');

export const sumOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const maxOf = (xs: readonly number[]): number => xs.reduce((a, x) => Math.max(a, x), 0);

/** The p-th percentile (nearest rank) of a list of numbers; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** The median; of an even count, the mean of the middle two. */
export function median(xs: readonly number[]): number {
  const s = Float64Array.from(xs).sort();
  const mid = Math.floor(s.length / 2);
  return (s.length % 2 ? s[mid] : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2) ?? NaN;
}

/** The lower median (a measured value also for an even count). */
export const lowerMedian = (xs: readonly number[]): number => Float64Array.from(xs).sort()[Math.floor((xs.length - 1) / 2)] ?? NaN;

export interface Percentiles {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** n, min, p50, p99, max and mean of a list of numbers (NaN for an empty one). */
export function percentiles(xs: readonly number[]): Percentiles {
  return {
    n: xs.length,
    min: xs.length ? Math.min(...xs) : NaN,
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    max: xs.length ? Math.max(...xs) : NaN,
    mean: xs.length ? sumOf(xs) / xs.length : NaN,
  };
}
