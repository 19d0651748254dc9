import { z } from 'zod';
import { ENV_DOCS, envSchema, type ProcessName } from './config.js';
import { AppError } from './lib/errors.js';

/** One environment variable as the reference shows it. */
interface EnvVariable {
  name: string;
  /** e.g. `integer 1–200`, `boolean`, `` `info` | `debug` `` */
  type: string;
  /** What the process uses when the variable is unset, as text (empty when it stays unset). */
  default: string;
  uses: readonly ProcessName[];
  doc: string;
}

interface JsonProperty {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

const BOOL_FORMS = ['0', '1', 'true', 'false'];

function describeType(p: JsonProperty): string {
  if (p.enum) {
    if (p.enum.length === BOOL_FORMS.length && BOOL_FORMS.every((f) => p.enum?.includes(f))) return 'boolean (`true`/`false`/`1`/`0`)';
    return p.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  }
  const bounds = [
    p.exclusiveMinimum !== undefined ? `> ${p.exclusiveMinimum}` : p.minimum !== undefined ? `≥ ${p.minimum}` : '',
    p.maximum !== undefined ? `≤ ${p.maximum}` : '',
  ].filter(Boolean);
  return [p.type ?? 'string', bounds.join(', ')].filter(Boolean).join(' ');
}

function describeDefault(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Every variable src/config.ts reads, from its zod schema and ENV_DOCS, in schema order. */
export function listEnvVariables(): EnvVariable[] {
  const json = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonProperty> };
  // Defaults as the process sees them: a transformed default (a list, a boolean) shows its parsed form.
  const defaults = envSchema.parse({}) as Record<string, unknown>;
  return Object.entries(json.properties).map(([name, p]) => {
    const doc = (ENV_DOCS as Record<string, { uses: readonly ProcessName[]; doc: string } | undefined>)[name];
    if (!doc) throw new AppError('config', `${name} has no entry in ENV_DOCS (src/config.ts)`, [name]);
    return { name, type: describeType(p), default: describeDefault(defaults[name]), uses: doc.uses, doc: doc.doc };
  });
}

/** docs/configuration.md: the generated reference (`levqor config docs`; test/deploy-config.test.ts checks it is fresh). */
export function renderConfigReference(vars: EnvVariable[] = listEnvVariables()): string {
  const rows = vars.map(
    (v) => `| \`${v.name}\` | ${v.type} | ${v.default === '' ? 'unset' : `\`${v.default}\``} | ${v.uses.join(', ')} | ${v.doc} |`,
  );
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from the zod schema and ENV_DOCS in src/config.ts by `levqor config docs` (npm run build). Do not edit. -->',
    '',
    'Every environment variable Levqor reads. Each process parses them once at start; an invalid value stops it with',
    'one message naming every bad variable. An empty value counts as unset.',
    '',
    '"Used by": `serve` is `levqor serve` (and `levqor start`), `scheduler` is `levqor scheduler` (and the Action\'s',
    '`command: scheduler`), `bot` is `levqor bot`, `cli` the one-shot commands (`migrate`, `run`, `approvals`, `cleanup`,',
    '`report`, `health` …). Steps (`http`, `email`, `slack_message`) run wherever a run executes: the scheduler loop',
    '(also inside `serve` unless `--no-scheduler`), the bot (an approved step right after the click) and the CLI.',
    '',
    '| variable | type | default | used by | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
