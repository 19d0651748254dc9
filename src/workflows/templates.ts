/** Values a step's fields may refer to with {{ path }}. */
export interface TemplateScope {
  workflow: { id: string; name: string };
  run: { id: string; attempt: number; scheduled_for: number | null; trigger: string };
  steps: Record<string, unknown>;
  vars: Record<string, unknown>;
}

const WHOLE = /^\{\{\s*([\w.-]+)\s*\}\}$/;
const INLINE = /\{\{\s*([\w.-]+)\s*\}\}/g;

function lookup(scope: TemplateScope, path: string): unknown {
  let cur: unknown = scope;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Replaces {{ path }} in every string of value. A string that is only a reference keeps the
 * referenced value's type; references inside text are stringified. Unknown paths become "".
 */
export function renderTemplates<T>(value: T, scope: TemplateScope): T {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return (lookup(scope, whole[1] ?? '') ?? '') as T;
    return value.replace(INLINE, (_, path: string) => {
      const v = lookup(scope, path);
      if (v === undefined || v === null) return '';
      return typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol'
        ? (JSON.stringify(v) ?? '')
        : `${v as string | number | boolean | bigint}`;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => renderTemplates(v, scope)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderTemplates(v, scope)])) as T;
  }
  return value;
}
