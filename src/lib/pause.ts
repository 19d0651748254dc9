/** A sleeper for background loops: waits between passes, woken early by a NOTIFY or a stop. */
export interface Pause {
  /** Resolves after `seconds`, when stop aborts (or already has), or when wake() is called. */
  wait(seconds: number): Promise<void>;
  /** Ends the current wait; called while no wait is running, it makes the next one return at once. */
  wake(): void;
}

/**
 * One Pause per loop. A wake that arrives while the loop is busy is kept, so a NOTIFY during
 * a pass is never lost; every wait removes its listener from `stop`, so a long-lived signal
 * does not collect one per pass.
 */
export function createPause(stop: AbortSignal): Pause {
  let pending = false;
  let release: (() => void) | undefined;
  return {
    wake() {
      if (release) release();
      else pending = true;
    },
    wait(seconds) {
      if (stop.aborted || pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stop.removeEventListener('abort', done);
          release = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, seconds * 1000));
        stop.addEventListener('abort', done, { once: true });
        release = done;
      });
    },
  };
}
