// The one set of redaction rules for every face that shows a payload (API, CLI, console, Slack):
// rows written before secrets existed may still carry inline credentials.

/** Keys whose values are secrets whatever they look like. */
const SECRET_KEY = /pass(word|wd)?|secret|token|authorization|api[-_]?key|apikey|credential|private[-_]?key|cookie|signature/i;

/** Values that look like credentials wherever they appear. */
const SECRET_VALUE = [
  /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi,
  /\bBasic\s+[A-Za-z0-9+/]{8,}=*/gi,
  /\bxox[abposr]-[A-Za-z0-9-]+/g,
  /\bxapp-[A-Za-z0-9-]+/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bsk_(live|test)_[A-Za-z0-9]{8,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g,
  /(?<=:\/\/[^\s/:@]+:)[^\s/@]+(?=@)/g,
];

const REDACTED = '[redacted]';

/** A `{{secrets.NAME}}` reference: the name is shown, never a value. */
const SECRET_REF = /\{\{\s*secrets\.[A-Za-z0-9_]+\s*\}\}/g;

/** True when a secret-named field holds only references (and an auth scheme word): nothing to hide. */
function onlyReferences(value: string): boolean {
  const rest = value.replace(SECRET_REF, '');
  return rest !== value && rest.replace(/^\s*(Bearer|Basic|Token|Bot|Digest)\b/i, '').trim() === '';
}

/** A string with anything credential-shaped replaced (pure). */
export function redactString(value: string): string {
  return SECRET_VALUE.reduce(
    (s, re) =>
      s.replace(re, (m) =>
        // A reference names a secret, it is not one: `https://bob:{{secrets.PW}}@…` stays readable.
        /^\{\{\s*secrets\.[A-Za-z0-9_]+\s*\}\}$/.test(m) ? m : /^(Bearer|Basic)\s/i.test(m) ? `${m.split(/\s+/)[0]} ${REDACTED}` : REDACTED,
      ),
    value,
  );
}

/** A copy of a payload with secret-named keys and credential-shaped values redacted (pure). */
export function redactPayload(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactPayload(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && v !== null && v !== '' && !(typeof v === 'string' && onlyReferences(v)) ? REDACTED : redactPayload(v, depth + 1),
      ]),
    );
  }
  return value;
}

/** The redacted payload as pretty JSON, cut to `max` characters for a message. */
export function payloadPreview(payload: unknown, max = 1500): string {
  const text = JSON.stringify(redactPayload(payload), null, 2) ?? 'null';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A row for display with its payload (and summary, if any) redacted: what every face shows of an approval or event (pure). */
export function withRedactedPayload<T extends { payload: unknown; summary?: unknown }>(row: T): T {
  const out = { ...row, payload: redactPayload(row.payload) };
  if (typeof row.summary === 'string') out.summary = redactString(row.summary);
  return out;
}
