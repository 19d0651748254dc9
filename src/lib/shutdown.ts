import type { Logger } from 'pino';

export interface Shutdown {
  /** Aborted on the first SIGTERM/SIGINT: stop taking new work. */
  stopClaiming: AbortSignal;
  /** Aborted after the grace period or on a second signal: release work in flight now. */
  abortRuns: AbortSignal;
  /** Resolves on the first signal. */
  stopped: Promise<void>;
}

/**
 * Runs a long-lived command under SIGTERM/SIGINT handling shared by every process kind:
 * the first signal stops new work and gives work in flight `graceSeconds` to finish, a
 * second signal (or the end of the grace) aborts it, and 4 s after that the process exits
 * whatever it is doing — inside the 30 s an orchestrator allows between SIGTERM and SIGKILL.
 */
export async function withShutdownSignals<T>(log: Logger, graceSeconds: number, what: string, fn: (s: Shutdown) => Promise<T>): Promise<T> {
  const stopClaiming = new AbortController();
  const abortRuns = new AbortController();
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const graceMs = graceSeconds * 1000;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopClaiming.signal.aborted) {
      log.warn({ signal }, 'second signal: releasing work in flight now');
      abortRuns.abort(new Error(`stopped by ${signal}`));
      return;
    }
    log.info({ signal, grace_seconds: graceSeconds }, `stopping: ${what}`);
    stopClaiming.abort();
    setTimeout(() => abortRuns.abort(new Error(`stopped by ${signal}`)), graceMs).unref();
    setTimeout(() => process.exit(1), graceMs + 4_000).unref();
    markStopped();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await fn({ stopClaiming: stopClaiming.signal, abortRuns: abortRuns.signal, stopped });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
