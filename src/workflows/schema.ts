import { z } from 'zod';
import { Cron } from 'croner';
import { IMPACT_CLASSES } from '../lib/impact.js';
import { templateIssues } from './template-check.js';

export const impactClassSchema = z.enum(IMPACT_CLASSES);

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why a cron expression is invalid, or undefined when it is valid. */
function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `cron must have 5 fields (minute hour day month weekday), got ${fields.length}`;
  try {
    if (new Cron(expr, { paused: true }).nextRun() === null) return `cron expression "${expr}" never fires`;
    return undefined;
  } catch (err) {
    return `invalid cron expression "${expr}": ${(err as Error).message}`;
  }
}

export const scheduleConfigSchema = z
  .object({
    enabled: z.boolean(),
    /** The guide's schedule: run every N minutes since the last slot. */
    interval_minutes: z.number().positive().max(525_600).optional(),
    /** A five-field cron expression, evaluated in `timezone`. */
    cron: z.string().optional(),
    timezone: z.string().refine(isTimeZone, { message: 'not an IANA time zone (e.g. Europe/London)' }).default('UTC'),
    /** Missed slots while no scheduler ran: run the latest once (default), none, or all within the window. */
    catch_up: z.enum(['latest', 'none', 'all']).default('latest'),
    /** Slots older than this are never run. */
    catch_up_window_minutes: z.number().positive().max(525_600).default(1440),
    /** A slot whose previous run is still going is skipped (default) or run alongside. */
    overlap: z.enum(['skip', 'allow']).default('skip'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.cron !== undefined) {
      const problem = cronProblem(s.cron);
      if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
    }
    if (s.cron !== undefined && s.interval_minutes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'set either cron or interval_minutes, not both' });
    }
    if (s.enabled && s.cron === undefined && s.interval_minutes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['interval_minutes'], message: 'an enabled schedule needs interval_minutes or cron' });
    }
  });
export type ScheduleConfig = z.infer<typeof scheduleConfigSchema>;

const stepBase = {
  /** Names a step so later steps can refer to its output. */
  name: z
    .string()
    .regex(/^[a-zA-Z][\w-]{0,62}$/, 'letters, digits, _ and -')
    .optional(),
  /** Raises (never lowers) the step's impact class. */
  impact_class: impactClassSchema.optional(),
  max_attempts: z.number().int().min(1).max(10).default(1),
  /** First retry delay; doubles each attempt, with jitter. */
  backoff_ms: z.number().int().min(0).max(600_000).default(1_000),
  timeout_ms: z.number().int().min(1).max(3_600_000).default(30_000),
};

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name');

/**
 * Why an http step's URL can never be requested, or undefined. Template references stand for
 * text that is only known at run time: a URL that starts with one is left to the run; in any
 * other, each reference is replaced by "0" (valid in a host, a port and a path) and the rest must
 * make an absolute http(s) URL.
 */
function urlProblem(url: string): string | undefined {
  if (url.trimStart().startsWith('{{')) return undefined;
  const literal = url.replace(/\{\{[\s\S]*?\}\}/g, '0');
  let parsed: URL;
  try {
    parsed = new URL(literal);
  } catch {
    return `${JSON.stringify(url)} is not a valid URL: an http step needs an absolute http:// or https:// URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `${JSON.stringify(url)} is a ${parsed.protocol} URL: an http step sends only http:// or https://`;
  }
  return undefined;
}

const STEP_TYPES = ['noop', 'log', 'transform', 'delay', 'set_workflow_active', 'http', 'email', 'slack_message', 'github'];

/** The `github` step's operations, each with the fields it needs and those it may have. */
const GITHUB_OPERATIONS = {
  dispatch_workflow: { required: ['workflow', 'ref'], optional: ['inputs'] },
  repository_dispatch: { required: ['event_type'], optional: ['client_payload'] },
  create_issue: { required: ['title'], optional: ['body', 'labels'] },
  comment: { required: ['issue', 'body'], optional: [] },
  create_deployment: { required: ['ref'], optional: ['environment', 'description'] },
  deployment_status: { required: ['deployment_id', 'state'], optional: ['description', 'environment', 'environment_url'] },
} as const satisfies Record<string, { required: readonly string[]; optional: readonly string[] }>;
const GITHUB_FIELDS = new Set(Object.values(GITHUB_OPERATIONS).flatMap((o) => [...o.required, ...o.optional]));

/** A positive integer, or a template that renders to one (`{{steps.open.number}}`). */
const idOrTemplate = z.union([
  z.number().int().positive(),
  z.string().regex(/^(\d{1,18}|.*\{\{.+\}\}.*)$/s, 'a positive integer or a {{template}} that renders to one'),
]);

const githubStep = z
  .object({
    ...stepBase,
    type: z.literal('github'),
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/repo'),
    operation: z.enum(Object.keys(GITHUB_OPERATIONS) as [keyof typeof GITHUB_OPERATIONS, ...(keyof typeof GITHUB_OPERATIONS)[]]),
    /** dispatch_workflow: the workflow's file name (deploy.yml) or id. */
    workflow: z.string().min(1).max(255).optional(),
    ref: z.string().min(1).max(255).optional(),
    inputs: z.record(z.string().min(1).max(100), z.union([z.string(), z.number(), z.boolean()])).optional(),
    event_type: z
      .string()
      .regex(/^[\w.:-]{1,100}$/, '1–100 letters, digits, "_", ".", ":" or "-"')
      .optional(),
    client_payload: z.record(z.string(), z.unknown()).optional(),
    title: z.string().min(1).max(256).optional(),
    body: z.string().max(65_536).optional(),
    labels: z.array(z.string().min(1).max(50)).max(20).optional(),
    issue: idOrTemplate.optional(),
    environment: z.string().min(1).max(255).optional(),
    description: z.string().max(140).optional(),
    deployment_id: idOrTemplate.optional(),
    state: z.enum(['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success']).optional(),
    environment_url: z.string().max(2_048).optional(),
  })
  .strict()
  .superRefine((st, ctx) => {
    const op = GITHUB_OPERATIONS[st.operation];
    const given = st as Record<string, unknown>;
    for (const field of op.required)
      if (given[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `required by operation ${st.operation}` });
    for (const field of GITHUB_FIELDS)
      if (
        given[field] !== undefined &&
        !(op.required as readonly string[]).includes(field) &&
        !(op.optional as readonly string[]).includes(field)
      )
        ctx.addIssue({ code: 'custom', path: [field], message: `not used by operation ${st.operation}` });
  });

export const stepSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ ...stepBase, type: z.literal('noop') }).strict(),
    z
      .object({
        ...stepBase,
        type: z.literal('log'),
        message: z.string().min(1).max(10_000),
        level: z.enum(['info', 'warn', 'error']).default('info'),
      })
      .strict(),
    z.object({ ...stepBase, type: z.literal('transform'), set: z.record(z.string(), z.unknown()) }).strict(),
    z.object({ ...stepBase, type: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }).strict(),
    z.object({ ...stepBase, type: z.literal('set_workflow_active'), workflow: z.string().min(1).optional(), active: z.boolean() }).strict(),
    z
      .object({
        ...stepBase,
        type: z.literal('http'),
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('POST'),
        url: z
          .string()
          .min(1)
          .max(8_192)
          .superRefine((url, ctx) => {
            const problem = urlProblem(url);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        headers: z.record(headerName, z.string().max(8_192)).default({}),
        body: z.unknown().optional(),
        max_response_bytes: z
          .number()
          .int()
          .positive()
          .max(100 * 1024 * 1024)
          .optional(),
        max_redirects: z.number().int().min(0).max(10).default(5),
      })
      .strict(),
    z
      .object({
        ...stepBase,
        type: z.literal('email'),
        to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1).max(1000)]).optional(),
        /** Recipients who do not see each other (a campaign); `to` may then be left out. */
        bcc: z.array(z.string().min(3)).min(1).max(1000).optional(),
        subject: z.string().min(1).max(998),
        text: z.string().max(1_000_000),
        from: z.string().min(3).optional(),
      })
      .strict()
      .refine((st) => st.to !== undefined || st.bcc !== undefined, { message: 'an email step needs "to" or "bcc"', path: ['to'] }),
    z
      .object({
        ...stepBase,
        type: z.literal('slack_message'),
        /** A channel id, never a name: the id decides the class (B for the tenant's internal channels). */
        channel: z.string().regex(/^[CGD][A-Z0-9]{2,30}$/, 'a Slack channel id like C0123ABCD (names are not accepted)'),
        text: z.string().min(1).max(40_000),
      })
      .strict(),
    githubStep,
  ],
  {
    error: (issue) => {
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined
        ? `a step needs a "type": one of ${STEP_TYPES.join(', ')}`
        : `unknown step type ${JSON.stringify(type)}: expected one of ${STEP_TYPES.join(', ')}`;
    },
  },
);
export type Step = z.infer<typeof stepSchema>;
export type StepType = Step['type'];

export const workflowSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,127}$/, 'lowercase letters, digits, ".", "_" and "-", starting with a letter or digit'),
    description: z.string().max(2_000).optional(),
    steps: z.array(stepSchema).min(1).max(100),
    is_active: z.boolean().default(true),
    schedule_config: scheduleConfigSchema.default({
      enabled: false,
      timezone: 'UTC',
      catch_up: 'latest',
      catch_up_window_minutes: 1440,
      overlap: 'skip',
    }),
    /** Raises the class of every step (never lowers). */
    impact_class: impactClassSchema.optional(),
    /** Times a run is retried after its scheduler process died mid-run. */
    max_run_attempts: z.number().int().min(1).max(10).default(1),
  })
  .strict()
  .superRefine((w, ctx) => {
    const seen = new Set<string>();
    w.steps.forEach((s, i) => {
      if (s.name === undefined) return;
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'name'], message: `duplicate step name "${s.name}"` });
      seen.add(s.name);
    });
    for (const issue of templateIssues(w.steps)) ctx.addIssue({ code: 'custom', path: ['steps', ...issue.path], message: issue.message });
  });
export type WorkflowSpec = z.infer<typeof workflowSchema>;
export type WorkflowInput = z.input<typeof workflowSchema>;

/** Formats zod issues as "path: message" lines, the path naming each bad field. */
export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    // Keys come from the user's file: quote odd ones so they cannot forge lines or paths.
    const key = (p: PropertyKey) =>
      typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][\w-]*$/.test(String(p)) ? String(p) : `[${JSON.stringify(String(p))}]`;
    const path = [prefix, ...i.path.map(key)].filter(Boolean).join('.').replaceAll('.[', '[');
    return `${path || '(root)'}: ${i.message}`;
  });
}
