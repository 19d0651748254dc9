import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createPause } from '../src/lib/pause.js';

// The background loops' sleeper: woken by NOTIFY or stop, never losing a wake, never
// leaving listeners behind on the long-lived stop signal.

describe('createPause', () => {
  it('wake() ends a running wait at once', async () => {
    const pause = createPause(new AbortController().signal);
    const waiting = pause.wait(3600);
    pause.wake();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('a wake while no wait runs (a NOTIFY during a pass) makes the next wait return at once, once', async () => {
    const stop = new AbortController();
    const pause = createPause(stop.signal);
    pause.wake();
    await pause.wait(3600);
    // The wake was used up: the following wait waits again, until something ends it.
    let ended = false;
    const next = pause.wait(3600).then(() => (ended = true));
    await Promise.resolve();
    expect(ended).toBe(false);
    stop.abort();
    await next;
    expect(ended).toBe(true);
  });

  it('stop ends a wait, and an aborted signal never waits', async () => {
    const stop = new AbortController();
    const pause = createPause(stop.signal);
    const waiting = pause.wait(3600);
    stop.abort();
    await waiting;
    await expect(pause.wait(3600)).resolves.toBeUndefined();
  });

  it('leaves no abort listener behind after many waits', async () => {
    const stop = new AbortController();
    const pause = createPause(stop.signal);
    for (let i = 0; i < 50; i++) {
      const w = pause.wait(3600);
      pause.wake();
      await w;
    }
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
