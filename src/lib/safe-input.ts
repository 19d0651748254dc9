/** The deepest nesting accepted from outside (JSON bodies, workflow files). */
const MAX_DEPTH = 64;

/**
 * Why a value from outside cannot be stored as text or jsonb in Postgres, or undefined:
 * strings (and keys) holding NUL or lone surrogates, or nesting deeper than MAX_DEPTH.
 * Iterative, so a hostile depth cannot overflow the stack while checking.
 */
export function unsafeInputProblem(value: unknown, root = 'body'): string | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  const bad = (s: string) => s.includes('\u0000') || !s.isWellFormed();
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (bad(v)) return `${path}: text must not contain NUL characters or unpaired surrogates`;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return `${path}: nested deeper than ${MAX_DEPTH} levels`;
      const entries = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x] as const) : Object.entries(v).map(([k, x]) => [k, x] as const);
      for (const [k, x] of entries) {
        if (!k.startsWith('[') && bad(k)) return `${path}: a key contains NUL characters or unpaired surrogates`;
        stack.push({ v: x, path: k.startsWith('[') ? `${path}${k}` : `${path}.${k}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}
