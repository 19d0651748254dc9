// The dashboard page's script: follows /dashboard/events (server-sent snapshots) and fills the
// tiles; reconnects with backoff when the stream fails, and goes to sign-in when the session ended.
import { renderSnapshot } from './dashboard-tiles.js';
import { one } from './dom.js';
import type { SnapshotView } from './snapshot.js';

const conn = one(document, '#conn');
const connText = one(document, '#conn-text');

function setConnection(state: 'live' | 'disconnected', text: string): void {
  conn.setAttribute('data-connection', state);
  connText.textContent = text;
  document.body.classList.toggle('offline', state === 'disconnected');
}

let retryMs = 1000;
let timer: ReturnType<typeof setTimeout> | undefined;

function connect(): void {
  timer = undefined;
  const es = new EventSource('/dashboard/events');
  es.addEventListener('open', () => {
    retryMs = 1000;
    setConnection('live', 'Live');
  });
  es.addEventListener('snapshot', (ev: MessageEvent<string>) => {
    let snap: SnapshotView;
    try {
      snap = JSON.parse(ev.data) as SnapshotView;
    } catch {
      return;
    }
    renderSnapshot(snap);
    setConnection('live', 'Live');
  });
  es.addEventListener('snapshot_error', () => setConnection('live', 'Live, last refresh failed'));
  es.addEventListener('error', () => {
    setConnection('disconnected', 'Disconnected, reconnecting');
    // EventSource retries by itself after a dropped stream, but gives up on an error status.
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      retryLater();
    }
  });
}

function retryLater(): void {
  if (timer) return;
  const wait = retryMs;
  retryMs = Math.min(retryMs * 2, 30_000);
  timer = setTimeout(() => {
    fetch('/dashboard/snapshot.json', { cache: 'no-store', credentials: 'same-origin' }).then(
      (r) => {
        if (r.status === 401) location.assign('/dashboard');
        else connect();
      },
      () => {
        timer = undefined;
        retryLater();
      },
    );
  }, wait);
}

connect();
