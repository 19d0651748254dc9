// The frame of a benchmark's entry: run it, clean up after it whatever happens (also on Ctrl-C),
// and exit non-zero with the reason when it failed.
import process from 'node:process';

/** Runs `main`, then `cleanup`; on SIGINT or SIGTERM cleans up and exits. `exitCode` maps a failure to an exit code (default 1). */
export async function runBenchmark(
  name: string,
  main: () => Promise<void>,
  cleanup: () => Promise<void>,
  exitCode: (err: unknown) => number = () => 1,
): Promise<void> {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      void cleanup().finally(() => process.exit(code));
    });
  }
  try {
    await main();
  } catch (err) {
    console.error(`[${name}] FAILED:`, err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = exitCode(err);
  } finally {
    await cleanup();
  }
}
