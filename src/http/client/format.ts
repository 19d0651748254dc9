// Text for the dashboard's numbers (pure: no DOM).

/** A span of seconds, coarser as it grows: "45 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A failure rate as a percentage with one decimal, or "no runs". */
export function percent(rate: number | null): string {
  return rate === null ? 'no runs' : `${(rate * 100).toFixed(1)} %`;
}

/** An epoch-seconds time as the viewer's local hours and minutes. */
export function clockTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
