import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningClis, parseJson, REPO_ROOT, runCli, type CliEnv, type CliResult } from './helpers/cli.js';
import { createPgDatabase } from './helpers/db.js';

// The built CLI (lib/cli.js) as a child process, against real Postgres: what users run.

const FIXTURES = 'test/fixtures/workflows';
const UNREACHABLE_PG = 'postgres://postgres@127.0.0.1:1/x';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** A line of a JavaScript stack trace: never shown to a user for an expected failure. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

type Row = Record<string, unknown>;

afterAll(killRunningClis);

/** A fresh Postgres database for one describe block, with a client to look inside it. */
function useDatabase(): { env: () => CliEnv; sql: <T extends Row = Row>(text: string, params?: unknown[]) => Promise<T[]> } {
  let url = '';
  let drop: (() => Promise<void>) | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    const created = await createPgDatabase('levqor_cli');
    url = created.url;
    drop = created.drop;
  });
  afterAll(async () => {
    await client?.end();
    await drop?.();
  });
  return {
    env: () => ({ DATABASE_URL: url }),
    async sql<T extends Row = Row>(text: string, params: unknown[] = []): Promise<T[]> {
      if (!client) {
        client = new pg.Client({ connectionString: url });
        await client.connect();
      }
      return (await client.query<T>(text, params)).rows;
    },
  };
}

function expectExit(result: CliResult, code: number): void {
  expect(result.code, `exit code of the CLI\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(code);
}

describe('levqor --help and usage errors', () => {
  // Help must never need a database: point at one that cannot answer.
  const env = { DATABASE_URL: UNREACHABLE_PG };

  it('levqor --help exits 0 and lists every command', async () => {
    const r = await runCli(['--help'], { env });
    expectExit(r, 0);
    expect(r.stdout).toContain('Usage: levqor [options] [command]');
    for (const cmd of ['migrate', 'scheduler', 'start', 'tenant', 'workflow', 'run', 'runs', 'approvals', 'doctor']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
  });

  it.each([
    'migrate',
    'scheduler',
    'start',
    'tenant',
    'tenant create',
    'tenant list',
    'workflow',
    'workflow apply',
    'workflow list',
    'run',
    'runs',
    'runs list',
    'runs show',
    'approvals',
    'approvals list',
    'approvals show',
    'approvals approve',
    'approvals reject',
    'doctor',
  ])('levqor %s --help exits 0 with its usage', async (command) => {
    const r = await runCli([...command.split(' '), '--help'], { env });
    expectExit(r, 0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: levqor ${command} \\[options\\]`, 'm'));
    expect(r.stderr).toBe('');
  });

  it.each([
    { args: ['bogus'], message: /unknown command 'bogus'/ },
    { args: ['tenant', 'bogus'], message: /unknown command 'bogus'/ },
    { args: ['workflow', 'apply'], message: /required option '-f, --file <path>' not specified/ },
    { args: ['run'], message: /missing required argument 'workflow'/ },
    { args: ['runs', 'list', '--limit', '0'], message: /--limit must be a positive whole number/ },
    { args: ['runs', 'list', '--status', 'nope'], message: /Allowed choices are queued, running/ },
    { args: ['scheduler', '--interval', 'soon'], message: /must be a positive number of seconds/ },
  ])('levqor $args exits 2 with a usage message', async ({ args, message }) => {
    const r = await runCli(args, { env });
    expectExit(r, 2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('--help');
    expect(r.stdout).toBe('');
  });
});

describe('bad configuration', () => {
  it('DATABASE_URL that is not Postgres: exit 2 naming DATABASE_URL', async () => {
    const r = await runCli(['tenant', 'list'], { env: { DATABASE_URL: 'mysql://x' } });
    expectExit(r, 2);
    expect(r.stderr).toMatch(/^levqor: invalid configuration:\n {2}DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('several bad LEVQOR_* variables: one message naming each', async () => {
    const r = await runCli(['tenant', 'list'], {
      // Were the configuration accepted, the unreachable database would give exit 1 instead.
      env: { DATABASE_URL: UNREACHABLE_PG, LEVQOR_SCHEDULER_BATCH_SIZE: 'abc', LEVQOR_LOG_LEVEL: 'loud', LEVQOR_HTTP_TIMEOUT_MS: '5' },
    });
    expectExit(r, 2);
    expect(r.stderr.match(/invalid configuration/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/^ {2}LEVQOR_SCHEDULER_BATCH_SIZE: /m);
    expect(r.stderr).toMatch(/^ {2}LEVQOR_LOG_LEVEL: .*"silent"/m);
    expect(r.stderr).toMatch(/^ {2}LEVQOR_HTTP_TIMEOUT_MS: /m);
    expect(r.stderr).not.toContain('DATABASE_URL');
  });

  it('an unreachable Postgres: exit 1, a clear message, no stack trace', async () => {
    const r = await runCli(['tenant', 'list'], { env: { DATABASE_URL: UNREACHABLE_PG } });
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^levqor: cannot use Postgres at 127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toContain('unexpected error');
    expect(r.stdout).toBe('');
  });

  it('a password in DATABASE_URL is never printed', async () => {
    const r = await runCli(['tenant', 'list'], { env: { DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/x' } });
    expectExit(r, 1);
    expect(r.stderr).toContain('cannot use Postgres at 127.0.0.1:1');
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw');
  });
});

describe('levqor workflow apply: files', () => {
  const db = useDatabase();
  const cli = (args: string[], input?: string) => runCli(args, { env: db.env(), input });
  const count = async () => Number((await db.sql<{ n: string }>('SELECT count(*) AS n FROM workflows'))[0]?.n);
  let tmp = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'levqor-cli-'));
    expectExit(await cli(['tenant', 'create', 'files']), 0);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** Applies a bad file and checks exit 2, one "path: problem" line per problem, and no write. */
  async function expectRejected(file: string, fragments: (string | RegExp)[]): Promise<CliResult> {
    const r = await cli(['workflow', 'apply', '-f', file]);
    expectExit(r, 2);
    const [head, ...problems] = r.stderr.trimEnd().split('\n');
    expect(head).toBe('levqor: invalid workflow definition; nothing was written:');
    expect(problems.length).toBeGreaterThan(0);
    // Each line is the file's path and a problem: content from the file cannot forge a line.
    for (const line of problems) expect(line.startsWith(`  ${file}`), `problem line ${JSON.stringify(line)}`).toBe(true);
    for (const f of fragments) {
      if (typeof f === 'string') expect(r.stderr).toContain(f);
      else expect(r.stderr).toMatch(f);
    }
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
    expect(await count()).toBe(0);
    return r;
  }

  describe('invalid and hostile files: exit 2, every bad field named, nothing written', () => {
    it.each<{ file: string; fragments: (string | RegExp)[]; absent?: string[] }>([
      { file: 'unknown-step-type.yaml', fragments: [': steps[0].type: unknown step type "shell": expected one of noop, log'] },
      { file: 'bad-cron.yaml', fragments: [': schedule_config.cron: invalid cron expression "61 * * * *"'] },
      { file: 'cron-never-fires.yaml', fragments: [': schedule_config.cron: cron expression "0 0 30 2 *" never fires'] },
      { file: 'bad-timezone.yaml', fragments: [': schedule_config.timezone: not an IANA time zone'] },
      { file: 'cron-and-interval.yaml', fragments: [': schedule_config.cron: set either cron or interval_minutes, not both'] },
      {
        file: 'enabled-without-schedule.yaml',
        fragments: [': schedule_config.interval_minutes: an enabled schedule needs interval_minutes or cron'],
      },
      {
        file: 'unknown-keys.yaml',
        fragments: [
          ': steps[0]: Unrecognized key: "colour"',
          ': schedule_config: Unrecognized key: "every"',
          ': (root): Unrecognized key: "retries"',
        ],
      },
      { file: 'duplicate-names.yaml', fragments: [':[1].name: "same-name" is defined twice (also at '] },
      { file: 'invalid-syntax.yaml', fragments: [/invalid-syntax\.yaml: .*line \d+, column \d+/] },
      { file: 'truncated.json', fragments: [/truncated\.json: .*line 1, column \d+/] },
      { file: 'empty.yaml', fragments: ['empty.yaml: no workflow found'] },
      { file: 'scalar.yaml', fragments: [': (root): Invalid input: expected object'] },
      { file: 'proto-key.yaml', fragments: [': (root): Unrecognized key: "__proto__"'] },
      {
        file: 'wrong-types.yaml',
        fragments: [': is_active: ', ': max_run_attempts: ', ': steps[0].ms: ', ': schedule_config.enabled: '],
      },
      { file: 'billion-laughs.yaml', fragments: [/billion-laughs\.yaml: .*alias/i] },
      { file: 'http-header-newline.yaml', fragments: [': steps[0].headers'] },
      {
        file: 'template-unknown-refs.yaml',
        fragments: [
          ': steps[1].message: "{{vars.dya}}": no transform step before this one sets "dya"',
          ': steps[1].message: "{{sercets.TOKEN}}": unknown root "sercets"',
          ': steps[2].body.fetched: "{{steps.fetch.body}}": no step before this one is named "fetch"',
          ': steps[2].body.later: "{{steps.notify.status}}": step 4 ("notify") runs after this one',
          ': steps[2].body.slot: "{{run.slot}}": run has no field "slot"',
        ],
      },
      {
        file: 'http-bad-url.yaml',
        fragments: [
          ': steps[0].url: "htps//partner.example.com/hooks/levqor" is not a valid URL',
          ': steps[1].url: "https://partner example.com/{{run.id}}" is not a valid URL',
          ': steps[2].url: "ftp://files.example.com/upload" is a ftp: URL',
        ],
      },
      // The valid first workflow is not written either, and draws no complaint.
      { file: 'mixed-valid-invalid.yaml', fragments: [':[1].steps[0].message: '], absent: [':[0]'] },
    ])('invalid/$file', async ({ file, fragments, absent = [] }) => {
      const r = await expectRejected(`${FIXTURES}/invalid/${file}`, fragments);
      for (const a of absent) expect(r.stderr).not.toContain(a);
    });

    it('rejects a 2 MB file without echoing it', async () => {
      const file = join(tmp, 'huge.yaml');
      await writeFile(file, `name: huge\nsteps:\n  - type: log\n    message: ${'x'.repeat(2 * 1024 * 1024)}\n`);
      const r = await expectRejected(file, [': steps[0].message: ']);
      expect(r.stderr.length).toBeLessThan(2_000);
    });

    it('a missing file: exit 2 naming it', async () => {
      const r = await cli(['workflow', 'apply', '-f', `${FIXTURES}/no-such-file.yaml`]);
      expectExit(r, 2);
      expect(r.stderr).toContain(`cannot read ${FIXTURES}/no-such-file.yaml`);
      expect(await count()).toBe(0);
    });
  });

  describe('valid files', () => {
    it('after all the bad files, workflow list --json is still empty', async () => {
      const r = await cli(['workflow', 'list', '--json']);
      expectExit(r, 0);
      expect(parseJson(r)).toEqual([]);
    });

    const VALID = [
      { file: 'single.yaml', names: ['single-log'] },
      { file: 'list.yaml', names: ['list-one', 'list-two'] },
      { file: 'multi-doc.yaml', names: ['doc-one', 'doc-two'] },
      { file: 'single.json', names: ['json-workflow'] },
      { file: 'wrapped.yaml', names: ['wrapped-one', 'wrapped-two'] },
      { file: 'templates.yaml', names: ['templates-ok'] },
    ];

    it.each(VALID)('--dry-run of valid/$file validates and writes nothing', async ({ file, names }) => {
      const r = await cli(['workflow', 'apply', '--dry-run', '--json', '-f', `${FIXTURES}/valid/${file}`]);
      expectExit(r, 0);
      expect(parseJson(r).map((w) => [w.name, w.valid])).toEqual(names.map((n) => [n, true]));
      expect(await count()).toBe(0);
    });

    it.each(VALID)('applies valid/$file: every workflow created', async ({ file, names }) => {
      const r = await cli(['workflow', 'apply', '--json', '-f', `${FIXTURES}/valid/${file}`]);
      expectExit(r, 0);
      expect(parseJson(r).map((w) => [w.name, w.outcome])).toEqual(names.map((n) => [n, 'created']));
      const stored = await db.sql<{ name: string }>('SELECT name FROM workflows WHERE name = ANY($1)', [names]);
      expect(stored.map((w) => w.name).sort()).toEqual([...names].sort());
    });

    it('workflow list --json shows every applied workflow, with next_run for scheduled ones only', async () => {
      const r = await cli(['workflow', 'list', '--json']);
      expectExit(r, 0);
      const byName = new Map(parseJson(r).map((w) => [w.name, w]));
      expect([...byName.keys()].sort()).toEqual(VALID.flatMap((v) => v.names).sort());
      expect(byName.get('single-log')).toMatchObject({ active: true, schedule: 'every 15 min', steps: 'log' });
      expect(byName.get('doc-two')).toMatchObject({ schedule: 'cron 30 6 * * 1-5 Europe/London' });
      for (const name of ['single-log', 'doc-two', 'json-workflow']) expect(byName.get(name)?.next_run).toMatch(ISO);
      for (const name of ['list-one', 'doc-one', 'wrapped-two']) expect(byName.get(name)).toMatchObject({ schedule: 'off', next_run: '-' });
    });

    it('applying the same file again: unchanged; a changed file: updated', async () => {
      const again = await cli(['workflow', 'apply', '--json', '-f', `${FIXTURES}/valid/single.yaml`]);
      expectExit(again, 0);
      expect(parseJson(again)).toEqual([expect.objectContaining({ name: 'single-log', outcome: 'unchanged' })]);

      const changed = join(tmp, 'single-changed.yaml');
      const original = await readFile(join(REPO_ROOT, FIXTURES, 'valid/single.yaml'), 'utf8');
      await writeFile(changed, original.replace('hello from', 'goodbye from'));
      const updated = await cli(['workflow', 'apply', '--json', '-f', changed]);
      expectExit(updated, 0);
      expect(parseJson(updated)).toEqual([expect.objectContaining({ name: 'single-log', outcome: 'updated' })]);
      const [row] = await db.sql<{ steps: { message: string }[] }>("SELECT steps FROM workflows WHERE name = 'single-log'");
      expect(row?.steps[0]?.message).toBe('goodbye from {{workflow.name}}');
    });

    it('a file updating one workflow and breaking another changes neither', async () => {
      const before = await db.sql("SELECT steps, updated_at FROM workflows WHERE name = 'list-one'");
      const file = join(tmp, 'half-bad.yaml');
      await writeFile(file, '- name: list-one\n  steps: [{type: log, message: changed}]\n- name: brand-new\n  steps: [{type: delay}]\n');
      const r = await cli(['workflow', 'apply', '-f', file]);
      expectExit(r, 2);
      expect(r.stderr).toContain(':[1].steps[0].ms: ');
      expect(await db.sql("SELECT steps, updated_at FROM workflows WHERE name = 'list-one'")).toEqual(before);
      expect(await db.sql("SELECT 1 FROM workflows WHERE name = 'brand-new'")).toEqual([]);
    });

    it('reads standard input with -f -', async () => {
      const r = await cli(['workflow', 'apply', '-f', '-', '--json'], JSON.stringify({ name: 'from-stdin', steps: [{ type: 'noop' }] }));
      expectExit(r, 0);
      expect(parseJson(r)).toEqual([expect.objectContaining({ name: 'from-stdin', outcome: 'created' })]);
      const bad = await cli(['workflow', 'apply', '-f', '-'], 'name: Not Valid\nsteps: []\n');
      expectExit(bad, 2);
      expect(bad.stderr).toContain('-: name: ');
      expect(bad.stderr).toContain('-: steps: ');
    });
  });
});

describe('tenants, runs, approvals and doctor', () => {
  const db = useDatabase();
  const cli = (args: string[], env: CliEnv = {}) => runCli(args, { env: { ...db.env(), ...env } });
  let callHomeRun = '';
  let approvalId = '';

  const runsOf = async (workflow: string) => {
    const r = await cli(['runs', 'list', '--workflow', workflow, '--json']);
    expectExit(r, 0);
    return parseJson(r);
  };

  it('tenant create, and a duplicate name is a conflict (exit 1)', async () => {
    const r = await cli(['tenant', 'create', 'acme']);
    expectExit(r, 0);
    expect(r.stdout).toMatch(new RegExp(`^created tenant acme \\(${UUID.source}, timezone UTC\\)$`, 'm'));
    const dup = await cli(['tenant', 'create', 'acme']);
    expectExit(dup, 1);
    expect(dup.stderr).toBe('levqor: tenant "acme" already exists\n');
    const bad = await cli(['tenant', 'create', 'Not A Name']);
    expectExit(bad, 2);
    expect(bad.stderr).toContain('tenant name "Not A Name"');
  });

  it('tenant list --json', async () => {
    const r = await cli(['tenant', 'list', '--json']);
    expectExit(r, 0);
    const tenants = parseJson(r);
    expect(tenants).toEqual([
      { name: 'acme', id: expect.stringMatching(UUID) as unknown, timezone: 'UTC', created: expect.stringMatching(ISO) as unknown },
    ]);
  });

  it('token create --json prints one object, not a one-element list; token list --json a list', async () => {
    const r = await cli(['token', 'create', '--name', 'ci-bot', '--scopes', 'approvals:read', '--json']);
    expectExit(r, 0);
    expect(parseJson(r)).toEqual({
      token: expect.stringMatching(/^\S{20,}$/) as unknown,
      name: 'ci-bot',
      tenant: 'acme',
      scopes: ['approvals:read'],
    });
    const list = await cli(['token', 'list', '--json']);
    expectExit(list, 0);
    expect(parseJson(list)).toEqual([expect.objectContaining({ name: 'ci-bot', scopes: 'approvals:read' })]);
  });

  it('workflow apply, then workflow list --json shows next_run', async () => {
    const r = await cli(['workflow', 'apply', '-f', `${FIXTURES}/scenarios/ops.yaml`]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^hello\s+created\s+\d{4}-/m);
    const list = await cli(['workflow', 'list', '--json']);
    expectExit(list, 0);
    const byName = new Map(parseJson(list).map((w) => [w.name, w]));
    expect(byName.get('hello')).toMatchObject({ active: true, schedule: 'every 5 min', last_run: '-', steps: 'transform,log' });
    expect(byName.get('hello')?.next_run).toMatch(ISO);
    expect(byName.get('paused')).toMatchObject({ active: false, next_run: '-' });
    expect(byName.get('call-home')).toMatchObject({ schedule: 'off', next_run: '-', steps: 'log,http' });
  });

  it('run NAME of a transform/log workflow: exit 0, and runs list shows it succeeded', async () => {
    const r = await cli(['run', 'hello', '--as', 'tester']);
    expectExit(r, 0);
    const id = new RegExp(`^run (${UUID.source}): succeeded$`, 'm').exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(await runsOf('hello')).toEqual([
      expect.objectContaining({ id, workflow: 'hello', status: 'succeeded', trigger: 'manual', error: null }),
    ]);
  });

  it('run of an unknown workflow: exit 1 naming it', async () => {
    const r = await cli(['run', 'no-such-workflow']);
    expectExit(r, 1);
    expect(r.stderr).toContain('workflow "no-such-workflow" not found');
  });

  it('a Class C http step waits for approval', async () => {
    const r = await cli(['run', 'call-home', '--as', 'tester']);
    expectExit(r, 0);
    callHomeRun = new RegExp(`^run (${UUID.source}): waiting_approval$`, 'm').exec(r.stdout)?.[1] ?? '';
    approvalId = new RegExp(`^waiting for approval (${UUID.source}): levqor approvals approve \\1$`, 'm').exec(r.stdout)?.[1] ?? '';
    expect(callHomeRun).toMatch(UUID);
    expect(approvalId).toMatch(UUID);
    const pending = await cli(['approvals', 'list', '--json']);
    expectExit(pending, 0);
    expect(parseJson(pending)).toEqual([
      expect.objectContaining({
        id: approvalId,
        class: 'C',
        action: 'http',
        summary: 'call-home: POST http://127.0.0.1:9/hook',
        status: 'pending',
      }),
    ]);
    // One object, not a one-element list, with or without --json.
    for (const args of [[], ['--json']]) {
      const shown = await cli(['approvals', 'show', approvalId, ...args]);
      expectExit(shown, 0);
      expect(parseJson(shown)).toEqual(expect.objectContaining({ id: approvalId, run_id: callHomeRun, status: 'pending' }));
    }
  });

  it('approvals approve runs the step here; SSRF protection refuses loopback: exit 1, run failed', async () => {
    const r = await cli(['approvals', 'approve', approvalId, '--as', 'alice']);
    expectExit(r, 1);
    expect(r.stdout).toContain(`approval ${approvalId}: approved by cli:alice`);
    expect(r.stdout).toMatch(new RegExp(`^run ${callHomeRun}: failed — .*127\\.0\\.0\\.1 is loopback`, 'm'));
    const [run] = (await runsOf('call-home')).filter((x) => x.id === callHomeRun);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringContaining('loopback') as unknown });
  });

  it('a second decision on the same approval: exit 1 "already"', async () => {
    for (const args of [
      ['approvals', 'approve', approvalId],
      ['approvals', 'reject', approvalId, '--reason', 'too late'],
    ]) {
      const r = await cli(args);
      expectExit(r, 1);
      expect(r.stderr).toBe(`levqor: approval ${approvalId} is already approved (by cli:alice)\n`);
    }
  });

  it('runs show ID lists the events in order', async () => {
    const r = await cli(['runs', 'show', callHomeRun, '--json']);
    expectExit(r, 0);
    const run = parseJson<{ status: string; events: { id: string; type: string; step_index: number | null; created_at: number }[] }>(r);
    expect(Array.isArray(run)).toBe(false);
    expect(run?.status).toBe('failed');
    const events = run?.events ?? [];
    const types = events.map((e) => e.type);
    const order = ['run_started', 'approval_requested', 'run_resumable', 'approval_used', 'step_failed', 'run_finished'];
    expect(types.filter((t) => order.includes(t))).toEqual(order);
    expect(types[0]).toBe('run_started');
    expect(types.at(-1)).toBe('run_finished');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]?.created_at).toBeGreaterThanOrEqual(events[i - 1]?.created_at ?? Infinity);
    }

    const text = await cli(['runs', 'show', callHomeRun]);
    expectExit(text, 0);
    expect(text.stdout).toMatch(/^ {2}status: failed$/m);
    expect(text.stdout).toMatch(/^ {2}error: .*loopback/m);
    const positions = order.map((t) => text.stdout.search(new RegExp(`^\\S+\\s+${t}\\b`, 'm')));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('runs show of an unknown or malformed id: exit 1', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', "x' OR 1=1 --"]) {
      const r = await cli(['runs', 'show', id]);
      expectExit(r, 1);
      expect(r.stderr).toBe(`levqor: run ${id} not found\n`);
    }
  });

  let rejectRun = '';
  let rejectApproval = '';

  it('approvals reject without --reason: exit 2, and the request stays pending', async () => {
    const started = await cli(['run', 'call-home']);
    expectExit(started, 0);
    rejectRun = new RegExp(`^run (${UUID.source}): waiting_approval$`, 'm').exec(started.stdout)?.[1] ?? '';
    rejectApproval = new RegExp(`^waiting for approval (${UUID.source})`, 'm').exec(started.stdout)?.[1] ?? '';
    expect(rejectApproval).toMatch(UUID);

    const blankReason = await cli(['approvals', 'reject', rejectApproval, '--reason', '   ']);
    expectExit(blankReason, 2);
    expect(blankReason.stderr).toBe('levqor: reason: a rejection needs a reason (1–500 characters)\n');
    const noReason = await cli(['approvals', 'reject', rejectApproval]);
    expectExit(noReason, 2);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
    const pending = await cli(['approvals', 'list', '--json']);
    expect(parseJson(pending)).toEqual([expect.objectContaining({ id: rejectApproval, status: 'pending' })]);
  });

  it('approvals reject --reason: the run ends rejected; a second decision: exit 1 "already"', async () => {
    const rejected = await cli(['approvals', 'reject', rejectApproval, '--reason', 'not today', '--as', 'bob']);
    expectExit(rejected, 0);
    expect(rejected.stdout).toBe(`approval ${rejectApproval}: rejected by cli:bob\n`);
    expect((await runsOf('call-home')).find((x) => x.id === rejectRun)).toMatchObject({
      status: 'rejected',
      error: 'rejected by cli:bob: not today',
    });

    const again = await cli(['approvals', 'approve', rejectApproval]);
    expectExit(again, 1);
    expect(again.stderr).toBe(`levqor: approval ${rejectApproval} is already rejected (by cli:bob)\n`);
    const listed = await cli(['approvals', 'list', '--status', 'rejected', '--json']);
    expect(parseJson(listed)).toEqual([expect.objectContaining({ id: rejectApproval, status: 'rejected', by: 'cli:bob' })]);
  });

  it('a run whose step fails: exit 1, recorded as failed', async () => {
    const r = await cli(['run', 'times-out']);
    expectExit(r, 1);
    expect(r.stdout).toMatch(/: failed — step 1 \(delay\): timed out after 50 ms$/m);
    expect(await runsOf('times-out')).toEqual([
      expect.objectContaining({ status: 'failed', error: 'step 1 (delay): timed out after 50 ms' }),
    ]);
  });

  it('--json output stays machine-readable when the run logs a warning', async () => {
    const r = await cli(['run', 'times-out', '--json']);
    expectExit(r, 1);
    expect(parseJson(r)).toEqual(expect.objectContaining({ status: 'failed' }));
  });

  it('scheduler --once: exit 0 when every due run succeeded; then doctor passes', async () => {
    const r = await cli(['scheduler', '--once']);
    expectExit(r, 0);
    const tick = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row)
      .find((l) => l.msg === 'tick');
    expect(tick).toMatchObject({ claimed: 1, succeeded: 1, failed: 0 });
    expect((await runsOf('hello')).map((x) => x.trigger)).toContain('schedule');

    const doctor = await cli(['doctor', 'hello']);
    expectExit(doctor, 0);
    expect(doctor.stdout).toMatch(/^workflow hello \(tenant acme\)$/m);
    expect(doctor.stdout).toMatch(/✓ scheduler running: last tick/);
    expect(doctor.stdout).not.toContain('✗');
  });

  it('doctor says how LISTEN goes behind a transaction-mode pooler: polling (exit 1, the fix named), or direct', async () => {
    const polling = await cli(['doctor', 'hello'], { LEVQOR_DB_POOLER: 'transaction' });
    expectExit(polling, 1);
    expect(polling.stdout).toMatch(/✗ pooler and LISTEN: transaction-mode pooler .*LISTEN: polling.*set DATABASE_DIRECT_URL/);
    const direct = await cli(['doctor', 'hello', '--json'], {
      LEVQOR_DB_POOLER: 'transaction',
      DATABASE_DIRECT_URL: 'postgres://postgres:s3cret@127.0.0.1:5432/postgres',
    });
    const line = parseJson(direct).find((c) => c.check === 'pooler and LISTEN');
    expect(line?.ok).toBe(true);
    expect(line?.detail).toMatch(/LISTEN: direct on DATABASE_DIRECT_URL \(Postgres at 127\.0\.0\.1:5432\/postgres\)/);
    expect(direct.stdout + direct.stderr).not.toContain('s3cret');
  });

  it('doctor of a paused workflow: exit 1 naming is_active', async () => {
    const r = await cli(['doctor', 'paused']);
    expectExit(r, 1);
    expect(r.stdout).toMatch(/^ {2}✗ is_active: false/m);
    const json = await cli(['doctor', 'paused', '--json']);
    expectExit(json, 1);
    expect(parseJson(json)).toContainEqual(expect.objectContaining({ check: 'is_active', ok: false }));
  });

  it('scheduler --once: exit 1 when a due run fails; doctor names the failed last run', async () => {
    expectExit(await cli(['workflow', 'apply', '-f', `${FIXTURES}/scenarios/scheduled-failure.yaml`]), 0);
    const r = await cli(['scheduler', '--once']);
    expectExit(r, 1);
    const tick = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row)
      .find((l) => l.msg === 'tick');
    expect(tick).toMatchObject({ claimed: 1, failed: 1 });
    const doctor = await cli(['doctor', 'scheduled-failure']);
    expectExit(doctor, 1);
    expect(doctor.stdout).toMatch(/✗ last run: failed .*timed out after 50 ms/);
  });

  it('with several tenants a command needs --tenant (exit 2 listing them); --tenant and LEVQOR_TENANT both work', async () => {
    expectExit(await cli(['tenant', 'create', 'beta', '--timezone', 'Europe/Paris']), 0);
    const ambiguous = await cli(['workflow', 'list']);
    expectExit(ambiguous, 2);
    expect(ambiguous.stderr).toContain('several tenants exist (acme, beta): pass --tenant NAME or set LEVQOR_TENANT');

    const names = (r: CliResult) => parseJson(r).map((w) => w.name);
    const flag = await cli(['workflow', 'list', '--json', '--tenant', 'acme']);
    expectExit(flag, 0);
    expect(names(flag)).toContain('hello');
    const fromEnv = await cli(['workflow', 'list', '--json'], { LEVQOR_TENANT: 'acme' });
    expectExit(fromEnv, 0);
    expect(names(fromEnv)).toEqual(names(flag));
    const other = await cli(['workflow', 'list', '--json'], { LEVQOR_TENANT: 'beta' });
    expectExit(other, 0);
    expect(names(other)).toEqual([]);
    const unknown = await cli(['workflow', 'list'], { LEVQOR_TENANT: 'nope' });
    expectExit(unknown, 1);
    expect(unknown.stderr).toContain('tenant "nope" not found');
  });
});
