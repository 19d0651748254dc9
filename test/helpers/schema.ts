import type { Queryable } from '../../src/db/types.js';

/**
 * A normalised text description of the public schema, from the catalogs (no pg_dump needed),
 * so the same text comes out of Postgres 15 and PGlite.
 */
export async function describeSchema(db: Queryable): Promise<string> {
  const out: string[] = [];
  const tables = await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname`,
  );
  for (const { relname } of tables.rows) {
    out.push(`TABLE ${relname}`);
    const cols = await db.query<{ line: string }>(
      `SELECT '  ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
              || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
              || CASE WHEN a.attidentity <> '' THEN ' IDENTITY' ELSE '' END
              || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') AS line
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [`public.${relname}`],
    );
    out.push(...cols.rows.map((r) => r.line));
    const cons = await db.query<{ line: string }>(
      `SELECT '  CONSTRAINT ' || conname || ' ' || pg_get_constraintdef(oid) AS line FROM pg_constraint
       WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f', 'c') ORDER BY conname`,
      [`public.${relname}`],
    );
    out.push(...cons.rows.map((r) => r.line));
  }
  const indexes = await db.query<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`,
  );
  out.push(...indexes.rows.map((r) => `INDEX ${r.indexdef}`));
  const triggers = await db.query<{ def: string }>(
    `SELECT pg_get_triggerdef(t.oid) AS def FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY t.tgname`,
  );
  out.push(...triggers.rows.map((r) => `TRIGGER ${r.def}`));
  const policies = await db.query<{ line: string }>(
    `SELECT 'POLICY ' || tablename || '.' || policyname || ' ' || permissive || ' ' || array_to_string(roles, ',')
            || ' ' || cmd || coalesce(' USING ' || qual, '') || coalesce(' CHECK ' || with_check, '') AS line
     FROM pg_policies WHERE schemaname = 'public' ORDER BY tablename, policyname`,
  );
  out.push(...policies.rows.map((r) => r.line));
  const rls = await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity ORDER BY c.relname`,
  );
  out.push(...rls.rows.map((r) => `FORCED RLS ${r.relname}`));
  const functions = await db.query<{ name: string }>(
    `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' ORDER BY p.proname`,
  );
  out.push(...functions.rows.map((r) => `FUNCTION ${r.name}`));
  return `${out.join('\n')}\n`;
}
