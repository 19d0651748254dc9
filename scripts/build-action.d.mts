export function buildAction(outdir?: string): Promise<string[]>;
