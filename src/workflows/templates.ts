import { AppError } from '../lib/errors.js';

/** Values a step's fields may refer to with {{ path }}. */
export interface TemplateScope {
  workflow: { id: string; name: string };
  run: { id: string; attempt: number; scheduled_for: number | null; trigger: string };
  steps: Record<string, unknown>;
  vars: Record<string, unknown>;
}

/**
 * The roots a reference starts with; `workflow` and `run` have fixed fields, `steps` and `vars`
 * the run's own. `secrets.NAME` is not rendered with the others: the reference stays in the step
 * (and so in its approval) until the one execution resolves it (secret-refs.ts).
 */
export const TEMPLATE_ROOTS: Readonly<Record<keyof TemplateScope | 'secrets', readonly string[] | undefined>> = {
  workflow: ['id', 'name'],
  run: ['id', 'attempt', 'scheduled_for', 'trigger'],
  steps: undefined,
  vars: undefined,
  secrets: undefined,
};

/** One {{ … }}: the path it refers to and, when written, the value used where the path has none. */
export interface TemplateRef {
  /** The tag as written, braces included. */
  tag: string;
  path: string[];
  fallback?: { value: string | number | boolean };
}

/** Where a string sits in a step: ["body", "day"], ["to", 0]. */
export type FieldPath = (string | number)[];

const TAG = /\{\{([\s\S]*?)\}\}/g;
const LITERAL = String.raw`"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|-?\d+(?:\.\d+)?|true|false`;
const REF = new RegExp(String.raw`^\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*(?:\|\s*default\s*:\s*(${LITERAL})\s*)?$`);

export const TEMPLATE_SYNTAX = '{{path}} or {{path | default: "text"}}';

function parseLiteral(text: string): string | number | boolean | undefined {
  if (text.startsWith("'")) return text.slice(1, -1);
  try {
    return JSON.parse(text) as string | number | boolean;
  } catch {
    return undefined;
  }
}

/** Parses the inside of one {{ … }}; undefined when it is not a reference. */
export function parseRef(tag: string, inner: string): TemplateRef | undefined {
  const m = REF.exec(inner);
  if (!m) return undefined;
  const path = (m[1] ?? '').split('.');
  if (m[2] === undefined) return { tag, path };
  const value = parseLiteral(m[2]);
  return value === undefined ? undefined : { tag, path, fallback: { value } };
}

/** Every {{ … }} in a string, parsed (or, when malformed, the raw tag). */
export function findRefs(text: string): (TemplateRef | { tag: string; malformed: true })[] {
  return [...text.matchAll(TAG)].map((m) => parseRef(m[0], m[1] ?? '') ?? { tag: m[0], malformed: true as const });
}

/** Calls fn with every string in value and where it sits. */
export function forEachString(value: unknown, fn: (text: string, at: FieldPath) => void, at: FieldPath = []): void {
  if (typeof value === 'string') fn(value, at);
  else if (Array.isArray(value)) value.forEach((v: unknown, i) => forEachString(v, fn, [...at, i]));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) forEachString(v, fn, [...at, k]);
}

/** "body.day", "to[0]": a field path as messages show it. */
export function formatFieldPath(at: FieldPath): string {
  return at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(value)';
}

/** A tag for a message: quoted, so that text from a workflow file cannot forge lines. */
export function quoteTag(tag: string): string {
  return JSON.stringify(tag.length > 120 ? `${tag.slice(0, 119)}…` : tag);
}

/** The text of a run-time template failure; the demo history uses it too. */
export function templateErrorMessage(problems: readonly string[]): string {
  return `template error: ${problems.join('; ')}; the step did not run (write ${TEMPLATE_SYNTAX} where an empty value is intended)`;
}

/** A step whose references do not all have a value: it fails before doing anything. */
export class TemplateError extends AppError {
  constructor(readonly problems: readonly string[]) {
    super('step_failed', templateErrorMessage(problems), problems);
  }
}

function lookup(scope: TemplateScope, path: readonly string[]): unknown {
  let cur: unknown = scope;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function missing(ref: TemplateRef, value: null | undefined): string {
  const path = ref.path.join('.');
  const why = path === 'run.scheduled_for' && value === null ? ' (a run started by hand or through the API has no slot)' : '';
  return `${path} is ${value === null ? 'null' : 'undefined'}${why}`;
}

function textOf(v: unknown): string {
  return typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol'
    ? (JSON.stringify(v) ?? '')
    : `${v as string | number | boolean | bigint}`;
}

/** Renders one string; problems get each reference without a value (or a malformed tag). */
function renderString(text: string, scope: TemplateScope, at: FieldPath, problems: string[]): unknown {
  const where = formatFieldPath(at);
  const resolve = (tag: string, inner: string): { value?: unknown } => {
    const ref = parseRef(tag, inner);
    if (!ref) {
      problems.push(`in ${where}: ${quoteTag(tag)} is not a reference (write ${TEMPLATE_SYNTAX})`);
      return {};
    }
    if (ref.path[0] === 'secrets') return { value: tag };
    const value = lookup(scope, ref.path);
    if (value !== undefined && value !== null) return { value };
    if (ref.fallback) return { value: ref.fallback.value };
    problems.push(`in ${where}: ${missing(ref, value)}`);
    return {};
  };
  const whole = /^\{\{([\s\S]*?)\}\}$/.exec(text);
  if (whole && !(whole[1] ?? '').includes('}}')) return resolve(text, whole[1] ?? '').value;
  return text.replace(TAG, (tag, inner: string) => {
    const { value } = resolve(tag, inner);
    return value === undefined ? '' : textOf(value);
  });
}

function renderValue(value: unknown, scope: TemplateScope, at: FieldPath, problems: string[]): unknown {
  if (typeof value === 'string') return renderString(value, scope, at, problems);
  if (Array.isArray(value)) return value.map((v: unknown, i) => renderValue(v, scope, [...at, i], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, scope, [...at, k], problems)]));
  }
  return value;
}

/**
 * Replaces {{ path }} in every string of value. A string that is only a reference keeps the
 * referenced value's type; references inside text are stringified. A reference without a
 * value (undefined or null) and without `| default: …` throws a TemplateError naming each.
 */
export function renderTemplates<T>(value: T, scope: TemplateScope): T {
  const problems: string[] = [];
  const out = renderValue(value, scope, [], problems);
  if (problems.length > 0) throw new TemplateError(problems);
  return out as T;
}
