import { approvalEventsAfter, APPROVALS_CHANNEL } from '../approvals/queries.js';
import { errorMessage } from '../lib/errors.js';
import { advanceFeedCursor, approvalsBehind, approvalsNeedingSync, pruneDeliveries, readFeedCursor } from './queries.js';
import { syncApproval, type SlackSyncDeps } from './sync.js';

const BATCH = 200;

/** Syncs each request once, logging (not throwing) a failure: the sweep retries it. */
async function syncAll(deps: SlackSyncDeps, ids: Iterable<string>): Promise<void> {
  for (const id of ids) {
    try {
      await syncApproval(deps, id);
    } catch (err) {
      deps.log.warn({ approval: id, err: errorMessage(err) }, 'could not bring the Slack message up to date; will retry');
    }
  }
}

/** Reads the approval event feed from the shared cursor to its end, syncing every request it names. */
async function drainApprovalFeed(deps: SlackSyncDeps): Promise<number> {
  let seen = 0;
  for (;;) {
    const after = await readFeedCursor(deps.db);
    const events = await approvalEventsAfter(deps.db, after, BATCH);
    if (events.length === 0) return seen;
    await syncAll(deps, await approvalsBehind(deps.db, [...new Set(events.map((e) => e.approval_id))]));
    await advanceFeedCursor(deps.db, events[events.length - 1]?.id ?? after);
    seen += events.length;
    if (events.length < BATCH) return seen;
  }
}

/** Catches up on anything the feed missed: unposted, stale or unreminded messages; old deliveries. */
async function sweepSlack(deps: SlackSyncDeps): Promise<void> {
  await syncAll(deps, await approvalsNeedingSync(deps.db, 100));
  await pruneDeliveries(deps.db, 3600);
}

export interface ApprovalFeed {
  /** Resolves once the catch-up after start is done. */
  ready: Promise<void>;
  /** Syncs now (coalesced with a drain already running). */
  poke(): void;
  stop(): Promise<void>;
}

/**
 * Follows the approval event feed: LISTEN for the nudge, catch up from the shared cursor
 * (so a bot that was down picks up where the bots left off), and sweep every
 * `sweepSeconds` for anything a failed Slack call left behind.
 */
export function startApprovalFeed(deps: SlackSyncDeps, opts: { sweepSeconds?: number } = {}): ApprovalFeed {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const drain = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await drainApprovalFeed(deps);
        } catch (err) {
          deps.log.warn({ err: errorMessage(err) }, 'reading the approval feed failed; retrying on the next event or sweep');
        }
      } while (again && !stopped);
    })().finally(() => (running = undefined));
    return running;
  };
  let unlisten: (() => Promise<void>) | undefined;
  const timer = setInterval(
    () => {
      void (async () => {
        try {
          await sweepSlack(deps);
        } catch (err) {
          deps.log.warn({ err: errorMessage(err) }, 'Slack sweep failed');
        }
        await drain();
      })();
    },
    (opts.sweepSeconds ?? 30) * 1000,
  );
  timer.unref();
  const ready = (async () => {
    unlisten = await deps.db.listen(APPROVALS_CHANNEL, () => void drain());
    await sweepSlack(deps).catch((err: unknown) => deps.log.warn({ err: errorMessage(err) }, 'Slack sweep failed'));
    await drain();
  })();
  return {
    ready,
    poke: () => void drain(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await ready.catch(() => undefined);
      await unlisten?.();
      await running;
    },
  };
}
