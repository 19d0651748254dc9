import type { Notification } from './wire.js';

/**
 * Fans the embedded database's notifications out by channel. PGlite is one backend: every
 * NOTIFY it delivers arrives once, in the reply of whichever caller was running (this process
 * or a client of its socket), and the hub hands it to everyone listening on that channel.
 */
export interface NotifyHub {
  subscribe(channel: string, onPayload: (payload: string) => void): () => void;
  publish(notification: Notification): void;
  /** Channels someone listens on. */
  channels(): string[];
}

/** Creates an empty hub. */
export function createNotifyHub(onError: (err: unknown) => void = () => undefined): NotifyHub {
  const byChannel = new Map<string, Set<(payload: string) => void>>();
  return {
    subscribe(channel, onPayload) {
      let set = byChannel.get(channel);
      if (!set) byChannel.set(channel, (set = new Set()));
      // Each subscription is its own entry, even for the same function subscribed twice.
      const entry = (payload: string) => onPayload(payload);
      set.add(entry);
      return () => {
        set.delete(entry);
        if (set.size === 0 && byChannel.get(channel) === set) byChannel.delete(channel);
      };
    },
    publish({ channel, payload }) {
      for (const fn of [...(byChannel.get(channel) ?? [])]) {
        try {
          fn(payload);
        } catch (err) {
          onError(err);
        }
      }
    },
    channels: () => [...byChannel.keys()],
  };
}
