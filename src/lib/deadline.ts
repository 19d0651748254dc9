/** A time limit shared by several awaits: each raced promise fails once `ms` have passed since it was made. */
export interface Deadline {
  race<T>(work: Promise<T>): Promise<T>;
  /** Stops the timer (call in `finally`). */
  clear(): void;
}

/** Starts a deadline of `ms` milliseconds; past it, raced work rejects with "no answer within `ms` ms". */
export function createDeadline(ms: number): Deadline {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // Nobody may be racing when it fires.
  expired.catch(() => undefined);
  return {
    race: (work) => Promise.race([work, expired]),
    clear: () => clearTimeout(timer),
  };
}
