import { describe, expect, it } from 'vitest';
import { getRun } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { loadWorkflowFile } from '../src/workflows/load.js';
import { workflowSchema, type WorkflowInput } from '../src/workflows/schema.js';
import { renderTemplates, TemplateError, type TemplateScope } from '../src/workflows/templates.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';

const FIXTURES = 'test/fixtures/workflows';
const noStdin = () => Promise.reject(new Error('no stdin in this test'));

const scope = (over: Partial<TemplateScope> = {}): TemplateScope => ({
  workflow: { id: 'wf-1', name: 'nightly' },
  run: { id: 'run-1', attempt: 1, scheduled_for: null, trigger: 'manual' },
  steps: { fetch: { status: 200, body: { id: 7, tags: ['a'] } } },
  vars: { day: 'monday', n: 3, empty: '', none: null },
  ...over,
});

/** The problems a render reports, or the rendered value. */
function render(value: unknown, s = scope()): { value: unknown } | { problems: readonly string[]; message: string } {
  try {
    return { value: renderTemplates(value, s) };
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { problems: err.problems, message: err.message };
  }
}

describe('renderTemplates: a reference without a value fails, naming the field and the path', () => {
  it.each<[string, unknown, unknown]>([
    ['inline text', 'day {{vars.day}}, run {{ run.id }}', 'day monday, run run-1'],
    ['a whole reference keeps its type', '{{vars.n}}', 3],
    ['an object inline is JSON', 'got {{steps.fetch.body}}', 'got {"id":7,"tags":["a"]}'],
    ['an empty string is a value', '[{{vars.empty}}]', '[]'],
    ['nested fields', { a: ['{{steps.fetch.body.tags.0}}'] }, { a: ['a'] }],
    ['a default in double quotes', '{{vars.nothere | default: "text"}}', 'text'],
    ['a default in single quotes, inline', "slot {{run.scheduled_for | default: 'none'}}", 'slot none'],
    ['a default that is a number keeps its type', '{{run.scheduled_for | default: 0}}', 0],
    ['a default for null', '{{vars.none|default:"-"}}', '-'],
    ['a default is not used when there is a value', '{{vars.day | default: "x"}}', 'monday'],
    ['escapes in a double-quoted default', '{{vars.x | default: "say \\"hi\\""}}', 'say "hi"'],
    ['text without references', 'plain { braces }', 'plain { braces }'],
    [
      'a secret reference stays for the execution to resolve',
      'Bearer {{secrets.TOKEN}} for {{vars.day}}',
      'Bearer {{secrets.TOKEN}} for monday',
    ],
    ['a whole secret reference stays too', '{{ secrets.TOKEN }}', '{{ secrets.TOKEN }}'],
  ])('%s', (_, input, expected) => {
    expect(render(input)).toEqual({ value: expected });
  });

  it.each<[string, unknown, string[]]>([
    ['an unknown var', { message: 'hello {{vars.nothere}}' }, ['in message: vars.nothere is undefined']],
    [
      'run.scheduled_for on a manual run',
      { body: { day: '{{run.scheduled_for}}' } },
      ['in body.day: run.scheduled_for is null (a run started by hand or through the API has no slot)'],
    ],
    ['a null var', { to: ['{{vars.none}}@example.com'] }, ['in to[0]: vars.none is null']],
    ['a missing nested field', { text: '{{steps.fetch.body.missing}}' }, ['in text: steps.fetch.body.missing is undefined']],
    ['an unknown root', { text: '{{sercets.TOKEN}}' }, ['in text: sercets.TOKEN is undefined']],
    [
      'a malformed tag',
      { text: '{{ vars.day | upper }}' },
      ['in text: "{{ vars.day | upper }}" is not a reference (write {{path}} or {{path | default: "text"}})'],
    ],
    [
      'every problem of a step at once',
      { subject: '{{vars.a}}', text: 'x {{vars.b}} {{vars.day}}' },
      ['in subject: vars.a is undefined', 'in text: vars.b is undefined'],
    ],
  ])('%s', (_, input, problems) => {
    const r = render(input);
    expect(r).toMatchObject({ problems });
    if ('message' in r) expect(r.message).toMatch(/^template error: .*; the step did not run \(write \{\{path\}\} or /);
  });
});

describe('applying a workflow: references no run can resolve are refused, nothing is written', () => {
  const wf = (steps: WorkflowInput['steps']) => workflowSchema.safeParse({ name: 'wf', steps });
  const problems = (steps: WorkflowInput['steps']) => {
    const r = wf(steps);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it.each<[string, WorkflowInput['steps'], string[]]>([
    [
      'an unknown root',
      [{ type: 'log', message: '{{sercets.TOKEN}}' }],
      ['steps.0.message: "{{sercets.TOKEN}}": unknown root "sercets": a reference starts with workflow, run, steps, vars, secrets'],
    ],
    [
      'an unknown field of run',
      [{ type: 'log', message: '{{run.slot}}' }],
      ['steps.0.message: "{{run.slot}}": run has no field "slot" (it has id, attempt, scheduled_for, trigger)'],
    ],
    [
      'a var no earlier transform sets',
      [
        { type: 'transform', set: { day: 'x' } },
        { type: 'log', message: '{{vars.dya}}' },
      ],
      ['steps.1.message: "{{vars.dya}}": no transform step before this one sets "dya" (set before it: "day")'],
    ],
    [
      'a var set only by the same transform',
      [{ type: 'transform', set: { a: 1, b: '{{vars.a}}' } }],
      ['steps.0.set.b: "{{vars.a}}": no transform step before this one sets "a"'],
    ],
    [
      'an unknown step name, even with a default',
      [
        { type: 'noop', name: 'prep' },
        { type: 'log', message: '{{steps.fetch.body | default: "x"}}' },
      ],
      ['steps.1.message: "{{steps.fetch.body | default: \\"x\\"}}": no step before this one is named "fetch" (before it: "prep")'],
    ],
    [
      'a step that runs later',
      [
        { type: 'log', message: '{{steps.notify.status}}' },
        { type: 'noop', name: 'notify' },
      ],
      ['steps.0.message: "{{steps.notify.status}}": step 2 ("notify") runs after this one: no output yet'],
    ],
    [
      'a malformed tag',
      [{ type: 'log', message: '{{ run.id | upper }}' }],
      ['steps.0.message: "{{ run.id | upper }}": is not a reference (write {{path}} or {{path | default: "text"}})'],
    ],
  ])('%s', (_, steps, expected) => {
    expect(problems(steps)).toEqual(expected);
  });

  it.each<[string, WorkflowInput['steps']]>([
    ['known roots and fields', [{ type: 'log', message: '{{workflow.name}} {{workflow.id}} {{run.id}} {{run.attempt}} {{run.trigger}}' }]],
    [
      'run.scheduled_for with or without a default',
      [{ type: 'log', message: '{{run.scheduled_for}} {{run.scheduled_for | default: ""}}' }],
    ],
    [
      'earlier steps by name or by index, and vars set before',
      [
        { type: 'transform', name: 'prep', set: { day: 'x' } },
        { type: 'noop' },
        { type: 'log', message: '{{steps.prep.day}} {{steps.1}} {{vars.day}} {{vars.day.deeper}}' },
      ],
    ],
  ])('accepts %s', (_, steps) => {
    expect(problems(steps)).toEqual([]);
  });

  it('a workflow file: each problem names the file, the step, the field and the path', async () => {
    const err = await loadWorkflowFile(`${FIXTURES}/invalid/template-unknown-refs.yaml`, noStdin).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_input' });
    const file = `${FIXTURES}/invalid/template-unknown-refs.yaml:`;
    expect((err as { issues: string[] }).issues).toEqual([
      `${file} steps[1].message: "{{vars.dya}}": no transform step before this one sets "dya" (set before it: "day")`,
      `${file} steps[1].message: "{{sercets.TOKEN}}": unknown root "sercets": a reference starts with workflow, run, steps, vars, secrets`,
      `${file} steps[2].body.fetched: "{{steps.fetch.body}}": no step before this one is named "fetch" (before it: "prep", "1")`,
      `${file} steps[2].body.later: "{{steps.notify.status}}": step 4 ("notify") runs after this one: no output yet`,
      `${file} steps[2].body.slot: "{{run.slot}}": run has no field "slot" (it has id, attempt, scheduled_for, trigger)`,
      `${file} steps[2].body.odd: "{{ vars.day | upper }}": is not a reference (write {{path}} or {{path | default: "text"}})`,
    ]);
  });

  it('a file whose references all resolve, defaults included, is accepted', async () => {
    const [spec] = await loadWorkflowFile(`${FIXTURES}/valid/templates.yaml`, noStdin);
    expect(spec?.steps).toHaveLength(3);
  });
});

describe.each(BACKENDS)('running a step whose reference has no value, on $name', ({ open }) => {
  const t = useTestDb(open);

  it.each<[string, (url: string) => WorkflowInput['steps'][number]]>([
    ['http', (url) => ({ type: 'http', method: 'POST', url: `${url}/hook`, body: { day: '{{run.scheduled_for}}' } })],
    ['email', () => ({ type: 'email', to: 'partner@example.com', subject: 'Feed for {{run.scheduled_for}}', text: 'hi' })],
    ['slack_message', () => ({ type: 'slack_message', channel: 'C0123ABCD', text: 'slot {{run.scheduled_for}}' })],
  ])('%s: fails before a request or an approval, naming the path', async (type, step) => {
    const target = await startRecordingServer();
    try {
      const tenant = await makeTenant(t.db);
      const wf = await makeWorkflow(t.db, tenant.id, {
        name: `loud-${type.replace('_', '-')}`,
        steps: [{ type: 'noop' }, step(target.url)],
      });
      const deps = testSchedulerDeps(t.db, { LEVQOR_HTTP_ALLOW: '127.0.0.1' });
      const { runId } = await startRun(deps, wf, { enqueue: false, trigger: 'manual', actor: 'cli:test' });
      const run = await getRun(t.db, runId);
      expect(run?.status).toBe('failed');
      expect(run?.error).toContain(`step 2 (${type}): template error: in `);
      expect(run?.error).toContain('run.scheduled_for is null (a run started by hand or through the API has no slot)');
      expect(target.requests).toHaveLength(0);
      const approvals = await t.db.query('SELECT 1 FROM approval_queue WHERE run_id = $1', [runId]);
      expect(approvals.rows).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('with a default, the same step goes on (to its approval)', async () => {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'gentle',
      steps: [
        {
          type: 'http',
          method: 'POST',
          url: 'https://partner.example.com/hook',
          body: { day: '{{run.scheduled_for | default: "manual"}}' },
        },
      ],
    });
    const { runId } = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'cli:test' });
    expect((await getRun(t.db, runId))?.status).toBe('waiting_approval');
    const { rows } = await t.db.query<{ payload: { body: unknown } }>('SELECT payload FROM approval_queue WHERE run_id = $1', [runId]);
    expect(rows[0]?.payload.body).toEqual({ day: 'manual' });
  });
});
