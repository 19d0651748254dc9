/** Locale-independent number and duration formatting, so the same data renders the same text everywhere. */

/** 1234567 → "1,234,567". */
export function int(n: number): string {
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A ratio as a percentage with one decimal: 0.0734 → "7.3 %"; null → "–". */
export function pct(ratio: number | null): string {
  return ratio === null || !Number.isFinite(ratio) ? '–' : `${(ratio * 100).toFixed(1)} %`;
}

/** part / whole, or null when whole is 0. */
export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** Seconds in the largest sensible unit: 0.042 → "42 ms", 95 → "1.6 min", 7200 → "2.0 h". */
export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** The change from `before` to `now` as "+12.5 %", "−3.0 %", "new" or "–". */
export function change(now: number | null, before: number | null): string {
  if (now === null || before === null) return '–';
  if (before === 0) return now === 0 ? '0.0 %' : 'new';
  const d = ((now - before) / before) * 100;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)} %`;
}

/** Epoch seconds as "2025-10-20 14:03 UTC" (reports show UTC times beside the local week). */
export function utcTime(epochSeconds: number | null): string {
  if (epochSeconds === null) return '–';
  return `${new Date(Math.floor(epochSeconds) * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Text safe inside one GFM table cell: one line, pipes escaped, bounded length. */
export function cell(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return cut
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/([`*_<>[\]])/g, '\\$1');
}

/** Plain code-unit comparison: unlike localeCompare, the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
