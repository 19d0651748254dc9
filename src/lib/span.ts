/** A span of seconds in words: "45 s", "12 min", "3.5 h", "2.0 days" (negative spans read as their size). */
export function span(seconds: number): string {
  const s = Math.abs(seconds);
  return s < 90
    ? `${Math.round(s)} s`
    : s < 5400
      ? `${Math.round(s / 60)} min`
      : s < 172_800
        ? `${(s / 3600).toFixed(1)} h`
        : `${(s / 86_400).toFixed(1)} days`;
}
