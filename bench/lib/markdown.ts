// Markdown for bench/RESULTS.md: tables, and the section writer (which smoke runs leave alone).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SMOKE } from './env.js';

/** A table cell: what prints as itself. */
export type Cell = string | number | boolean | null | undefined;

/** A GitHub-flavoured markdown table. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly Cell[]) => `| ${cells.map((c) => (c === null || c === undefined ? '' : String(c))).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Replaces (or appends) the `## <heading>` section of a markdown text: up to the next `## ` heading. */
export function replaceSection(text: string, heading: string, body: string): string {
  const section = `## ${heading}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) return `${text.trimEnd()}\n\n${section}`;
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, start).join('\n').trimEnd();
  const after = lines.slice(end).join('\n').trim();
  return `${before ? `${before}\n\n` : ''}${section}${after ? `\n${after}\n` : ''}`;
}

export const RESULTS = join(ROOT, 'bench/RESULTS.md');

/**
 * Writes the `## <heading>` section of bench/RESULTS.md; in a smoke run (BENCH_SMOKE=1) prints it
 * instead, between marker lines, and leaves the committed results alone.
 */
export function writeSection(heading: string, body: string, log: (...a: unknown[]) => void): void {
  if (SMOKE) {
    console.log(`--- ${heading} (smoke run: not written to bench/RESULTS.md) ---\n${body.trim()}\n--- end of ${heading} ---`);
    return;
  }
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  writeFileSync(RESULTS, replaceSection(old, heading, body));
  log(`wrote the ${heading} section of ${RESULTS}`);
}
