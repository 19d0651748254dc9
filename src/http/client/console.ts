// The console pages' script: one decision per click, the reject reason counted as the server
// counts it, and the pending queue dropping rows that were decided elsewhere (Slack, the API).

// One decision per click: the buttons stay disabled until the page answers. Disabled just after
// the submission has read the form, so the clicked button's own value (the bulk verb) still goes.
for (const form of document.querySelectorAll<HTMLFormElement>('form[data-once]')) {
  form.addEventListener('submit', () => {
    setTimeout(() => {
      for (const b of form.querySelectorAll('button')) b.disabled = true;
    }, 0);
  });
}

// Times in the viewer's own zone (the server writes ISO UTC, which stays in the title).
for (const time of document.querySelectorAll<HTMLTimeElement>('time[data-local]')) {
  const at = new Date(time.dateTime);
  if (Number.isNaN(at.getTime())) continue;
  time.title = time.dateTime;
  time.textContent = at.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}

// Bulk decisions: how many requests are selected.
const bulkCount = document.getElementById('bulk-count');
if (bulkCount) {
  const picks = () => [...document.querySelectorAll<HTMLInputElement>('input[type="checkbox"][form="bulk"]')];
  const show = () => {
    const n = picks().filter((p) => p.checked).length;
    bulkCount.textContent = n ? `${n} selected` : '';
  };
  for (const p of picks()) p.addEventListener('change', show);
  show();
}

// The server counts a reason in code points (an emoji is one), as the browser's maxlength does not.
for (const input of document.querySelectorAll<HTMLInputElement>('input[data-max-points]')) {
  const max = Number(input.getAttribute('data-max-points'));
  const check = () => {
    const n = [...input.value.trim()].length;
    input.setCustomValidity(
      n > max
        ? `At most ${max} characters (this is ${n}).`
        : input.required && n === 0 && input.value.length > 0
          ? 'A reason cannot be only spaces.'
          : '',
    );
  };
  input.addEventListener('input', check);
  check();
}

const list = document.querySelector<HTMLElement>('[data-poll]');
if (list) followQueue(list, list.getAttribute('data-poll') ?? '', Number(list.getAttribute('data-poll-ms')) || 3000);

/** Polls the pending ids: rows decided elsewhere disappear, new ones are announced. */
function followQueue(list: HTMLElement, url: string, everyMs: number): void {
  const notice = document.getElementById('live');
  const rows = () => [...list.querySelectorAll('[data-approval-id]')];
  const tick = async () => {
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!res.ok) return;
      const { ids } = (await res.json()) as { ids: string[] };
      const live = new Set(ids);
      let gone = 0;
      for (const row of rows()) {
        if (!live.has(row.getAttribute('data-approval-id') ?? '')) {
          row.remove();
          gone++;
        }
      }
      const shown = new Set(rows().map((r) => r.getAttribute('data-approval-id')));
      const added = ids.filter((id) => !shown.has(id)).length;
      if (notice && (gone || added))
        notice.textContent =
          (gone ? `${gone} request(s) decided elsewhere. ` : '') + (added ? `${added} new request(s): reload to see them.` : '');
    } catch {
      // the next tick retries
    }
  };
  setInterval(() => void tick(), everyMs);
}
