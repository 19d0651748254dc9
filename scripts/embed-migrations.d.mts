export const generatedPath: string;
export function renderMigrationsModule(): Promise<string>;
export function embedMigrations(): Promise<void>;
