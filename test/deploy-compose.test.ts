import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { requireBotCredentials } from '../src/slack/env.js';
import { commandProblems, readYamlDocuments, unknownVariables } from './helpers/deploy.js';

// docker-compose.yml without Docker: every service's command is a real `levqor` command, every
// variable it sets is one src/config.ts reads, and the values parse.

interface Service {
  image?: string;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  healthcheck?: { disable?: boolean; test?: string[] };
}
const [compose] = readYamlDocuments<{ services: Record<string, Service> }>('docker-compose.yml');
const services = compose?.services ?? {};
const levqor = Object.entries(services).filter(([, s]) => s.image === 'levqor:local');

/** Compose's `${NAME:-default}` with nothing set: the default. */
const interpolate = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));

describe('docker-compose.yml', () => {
  it('runs Postgres, migrate, the API without scheduler, two schedulers and the bot', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'bot', 'migrate', 'postgres', 'scheduler']);
    expect(services.api?.command).toEqual(['serve', '--no-scheduler']);
    expect(services.scheduler?.command).toEqual(['scheduler']);
    expect(services.scheduler?.deploy?.replicas).toBe(2);
    expect(services.bot?.command).toEqual(['bot']);
    expect(services.migrate?.command).toEqual(['migrate']);
  });

  it.each(levqor.map(([name, s]) => [name, s.command ?? []]))('%s: `levqor %s` is a real command with real options', (_name, command) => {
    expect(commandProblems(command)).toEqual([]);
  });

  it('the command check itself catches a wrong command or option', () => {
    expect(commandProblems(['serve', '--no-sheduler'])).toEqual(['levqor serve --no-sheduler: serve has no option --no-sheduler']);
    expect(commandProblems(['schedule'])[0]).toMatch(/no command "schedule"/);
    expect(commandProblems(['approvals'])[0]).toMatch(/command group/);
  });

  it('sets only variables src/config.ts reads, and every value parses', () => {
    const unknown = levqor.flatMap(([name, s]) => unknownVariables(name, Object.keys(s.environment ?? {})));
    expect(unknown).toEqual([]);
    for (const [name, s] of levqor) {
      const env = interpolate(s.environment ?? {});
      // One schema: the Slack variables parse with the rest.
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('every Levqor service uses the compose Postgres, started and migrated first', () => {
    const pg = interpolate(services.postgres?.environment as Record<string, string>);
    for (const [name, s] of levqor) {
      const url = new URL(interpolate(s.environment ?? {}).DATABASE_URL ?? '');
      expect([url.hostname, url.username, url.password, url.pathname], name).toEqual([
        'postgres',
        pg.POSTGRES_USER,
        pg.POSTGRES_PASSWORD,
        `/${pg.POSTGRES_DB}`,
      ]);
      expect(s.depends_on, name).toEqual(
        name === 'migrate' ? { postgres: { condition: 'service_healthy' } } : { migrate: { condition: 'service_completed_successfully' } },
      );
    }
  });

  it('the API listens beyond loopback; the bot gets its secrets and a /readyz check on its probe port; the scheduler no /readyz check', () => {
    expect(services.api?.environment?.HOST).toBe('0.0.0.0');
    const bot = interpolate(services.bot?.environment ?? {});
    expect(Object.keys(bot)).toEqual(expect.arrayContaining(['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']));
    // Unset secrets stop the bot with a message naming them, not a crash loop of stack traces.
    expect(() => requireBotCredentials(loadConfig(bot))).toThrow(/SLACK_SIGNING_SECRET .* and SLACK_BOT_TOKEN/);
    // The probe port works in Socket Mode too, which opens no other port.
    expect(loadConfig(bot).LEVQOR_BOT_HEALTH_PORT).toBe(3001);
    expect(services.bot?.healthcheck?.test?.join(' ')).toContain(`127.0.0.1:${bot.LEVQOR_BOT_HEALTH_PORT}/readyz`);
    expect(services.scheduler?.healthcheck).toEqual({ disable: true });
  });

  it('stop_grace_period outlasts the shutdown grace for runs in flight', () => {
    for (const name of ['scheduler', 'bot']) {
      const s = services[name] as Service;
      const grace = Number(/^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1]);
      expect(grace, name).toBeGreaterThan(loadConfig(interpolate(s.environment ?? {})).LEVQOR_SHUTDOWN_TIMEOUT_SECONDS);
    }
  });
});
