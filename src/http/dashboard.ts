import type { FastifyInstance } from 'fastify';
import type { DashboardSnapshot } from './routes/health.js';

export interface DashboardDeps {
  snapshot: () => Promise<DashboardSnapshot>;
  isPublic: boolean;
  authenticate: (token: string) => Promise<boolean>;
  /** Calls onChange when something worth a refresh happens (an alert); resolves to an unsubscribe. */
  subscribe: (onChange: () => void) => Promise<() => Promise<void>>;
}

/** Placeholder until the dashboard lands: registers nothing. */
export function registerDashboard(_app: FastifyInstance, _deps: DashboardDeps): void {}
