// Types for the parts of bench/lib.mjs that TypeScript code (the fault suite's results writer) imports.

/** A GitHub-flavoured markdown table. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string;
/** Replaces (or appends) the `## <heading>` section of a markdown text: up to the next `## ` heading. */
export function replaceSection(text: string, heading: string, body: string): string;
/** The 1-minute load average, two decimals. */
export function load1(): number;
