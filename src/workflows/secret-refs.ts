// `{{secrets.NAME}}` in a step: the reference is what workflows, approvals, hashes and timelines
// carry; the value replaces it only in memory, for the one execution (executor.ts).
import { AppError } from '../lib/errors.js';
import { forEachString } from './templates.js';

/** A secret's name: upper case, digits and "_", starting with a letter, at most 64 characters. */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Checks a secret name, naming the rule when it does not hold. */
export function assertSecretName(name: string): string {
  if (!SECRET_NAME.test(name))
    throw new AppError(
      'bad_input',
      `secret name ${JSON.stringify(name.slice(0, 80))}: must match ${SECRET_NAME.source} (e.g. DEPLOY_TOKEN)`,
    );
  return name;
}

const REF = /\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g;

/** The secret names a value (a step, a payload) refers to, each once, in order of appearance. */
export function secretRefNames(value: unknown): string[] {
  const names = new Set<string>();
  forEachString(value, (text) => {
    for (const m of text.matchAll(REF)) names.add(m[1] ?? '');
  });
  return [...names];
}

/** A copy of value with every `{{secrets.NAME}}` replaced by its value (pure; values has every name). */
export function substituteSecrets<T>(value: T, values: ReadonlyMap<string, string>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(REF, (tag, name: string) => values.get(name) ?? tag);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * A function that replaces every resolved value (and its URL- and JSON-escaped forms) in a text
 * with `[secrets.NAME]`: for error messages and outputs an upstream may echo a credential into.
 */
export function createScrubber(values: ReadonlyMap<string, string>): (text: string) => string {
  const pairs: [string, string][] = [];
  for (const [name, value] of values) {
    // A one- or two-character value would scrub ordinary text; it cannot be hidden by replacement anyway.
    if (value.length < 3) continue;
    const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')]);
    for (const form of forms) pairs.push([form, `[secrets.${name}]`]);
  }
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (text) => pairs.reduce((t, [form, mark]) => t.split(form).join(mark), text);
}

/** A copy of value with every string scrubbed (pure). */
export function scrubValue<T>(value: T, scrub: (text: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrub(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
