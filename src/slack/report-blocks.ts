import type { HealthSummary } from '../health/summary.js';
import { esc, slackDate, type SlackBlock, type SlackMessage } from './blocks.js';

const MAX_SECTION = 2900;
const MAX_BLOCKS = 50;
/** Stands in for bold while single-asterisk italics are converted. */
const BOLD = '\u{E000}';

/** One line of GitHub-flavoured markdown as Slack mrkdwn (bold, italics, links, code kept). */
function inlineToMrkdwn(line: string): string {
  const parts = line.split(/(`[^`]*`)/);
  return parts
    .map((p, i) => {
      if (i % 2 === 1) return p;
      return esc(p)
        .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, (_, text: string, url: string) => `<${url}|${text}>`)
        .replace(/\*\*([^*]+)\*\*/g, `${BOLD}$1${BOLD}`)
        .replace(/__([^_]+)__/g, `${BOLD}$1${BOLD}`)
        .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?=[^*\w]|$)/g, '$1_$2_')
        .replace(/~~([^~]+)~~/g, '~$1~')
        .replaceAll(BOLD, '*');
    })
    .join('');
}

/**
 * Markdown (a report) as Block Kit: headings become header blocks, tables and code stay
 * monospaced, everything else becomes mrkdwn sections of at most ~3,000 characters.
 */
export function markdownToBlocks(markdown: string): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  let text: string[] = [];
  const flush = () => {
    const body = text.join('\n').trim();
    text = [];
    for (let i = 0; i < body.length; i += MAX_SECTION)
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: body.slice(i, i + MAX_SECTION) } });
  };
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const title = (heading[2] ?? '').replace(/[*_`]/g, '').trim();
      if ((heading[1] ?? '').length <= 2) blocks.push({ type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) || ' ' } });
      else text.push(`*${esc(title)}*`);
    } else if (line.startsWith('```')) {
      const code: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) code.push(lines[i] ?? '');
      text.push(`\`\`\`${code.join('\n')}\`\`\``);
    } else if (/^\s*\|/.test(line)) {
      const table: string[] = [];
      for (; i < lines.length && /^\s*\|/.test(lines[i] ?? ''); i++) {
        if (!/^\s*\|[\s:|-]+\|\s*$/.test(lines[i] ?? '')) table.push(lines[i] ?? '');
      }
      i--;
      text.push(`\`\`\`${tableText(table)}\`\`\``);
    } else if (/^\s*[-*+]\s+/.test(line)) {
      text.push(line.replace(/^(\s*)[-*+]\s+/, '$1• ').replace(/^(\s*• )(.*)$/, (_, b: string, rest: string) => b + inlineToMrkdwn(rest)));
    } else if (/^\s*(---|\*\*\*)\s*$/.test(line)) {
      flush();
      blocks.push({ type: 'divider' });
    } else {
      text.push(inlineToMrkdwn(line.replace(/^>\s?/, '> ')));
    }
  }
  flush();
  if (blocks.length > MAX_BLOCKS) {
    return [
      ...blocks.slice(0, MAX_BLOCKS - 1),
      { type: 'context', elements: [{ type: 'mrkdwn', text: '(report shortened to fit one Slack message)' }] },
    ];
  }
  return blocks;
}

/** A markdown table as aligned plain columns. */
function tableText(rows: string[]): string {
  const cells = rows.map((r) =>
    r
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim().replace(/\*\*/g, '')),
  );
  const widths = cells.reduce<number[]>((w, row) => row.map((c, j) => Math.max(w[j] ?? 0, c.length)), []);
  return cells
    .map((row) =>
      row
        .map((c, j) => c.padEnd(widths[j] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const STATUS_ICON: Record<HealthSummary['status'], string> = { ok: '🟢', degraded: '🟠', down: '🔴' };

/** The health summary as blocks: status and reasons, database, queues, failure rates, scheduler. */
export function healthMessage(s: HealthSummary): SlackMessage {
  const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
  const fields: { type: 'mrkdwn'; text: string }[] = [
    {
      type: 'mrkdwn',
      text: `*Database*\n${s.database.ok ? `ok (${s.database.latency_ms} ms)` : `unreachable: ${esc(s.database.error ?? '')}`}`,
    },
  ];
  if (s.queues) {
    fields.push({
      type: 'mrkdwn',
      text: `*Queues*\n${s.queues.pending_approvals} pending approvals\n${s.queues.queued_runs} queued, ${s.queues.running_runs} running runs\n${s.queues.due_unclaimed_workflows} due workflows`,
    });
  }
  if (s.error_rates) {
    fields.push({
      type: 'mrkdwn',
      text: `*Failure rate* (target < 5 %)\n${s.error_rates.map((e) => `${e.window}: ${pct(e.rate)} (${e.failed}/${e.total})${e.ok ? '' : ' ⚠️'}`).join('\n')}`,
    });
  }
  if (s.scheduler) {
    fields.push({
      type: 'mrkdwn',
      text: `*Scheduler*\n${s.scheduler.last_tick_at === null ? 'never ticked' : `last tick ${slackDate(s.scheduler.last_tick_at, '{time_secs}')}${s.scheduler.stale ? ' (stale)' : ''}`}`,
    });
  }
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `${STATUS_ICON[s.status]} Levqor health: ${s.status}` } },
  ];
  if (s.reasons.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: s.reasons.map((r) => `• ${esc(r)}`).join('\n') } });
  blocks.push({ type: 'section', fields });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `checked ${esc(s.checked_at)}` }] });
  return { text: `Levqor health: ${s.status}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`, blocks };
}
