import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

import { DEFAULT_SCALING } from '../src/health/scaling.js';
import { REPO_ROOT } from './helpers/cli.js';
import { useTestDb } from './helpers/db.js';
import { commandProblems, readYamlDocuments, unknownVariables } from './helpers/deploy.js';
import { startFakeKubeApi, type FakeKubeApi } from './helpers/kube.js';
import { startInProcessApi, type InProcessApi } from './helpers/server.js';

// deploy/k8s/ without a cluster: kubectl's client-side dry run (against a local discovery stand-in),
// the commands and variables the manifests give Levqor, and the KEDA ScaledObject against what
// GET /api/scaling really answers.

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    replicas?: number;
    template?: { spec: { containers: Container[]; terminationGracePeriodSeconds?: number } };
    ports?: { port: number; name: string }[];
    [key: string]: unknown;
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  cooldownPeriod: number;
  triggers: { type: string; metricType: string; metadata: { url: string; valueLocation: string; targetValue: string } }[];
}

const DIR = 'deploy/k8s';
const files = readdirSync(join(REPO_ROOT, DIR))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const manifests = files.flatMap((f) => readYamlDocuments<Manifest>(join(DIR, f)));
const find = (kind: string, name: string) => {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name} in ${DIR}`);
  return m;
};
const workloads = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
const containers = workloads.flatMap((w) => (w.spec?.template?.spec.containers ?? []).map((c) => ({ workload: w.metadata.name, ...c })));
const configMap = find('ConfigMap', 'levqor');
const secret = find('Secret', 'levqor');
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('deploy/k8s', () => {
  let kube: FakeKubeApi;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'levqor-kube-'));
    kube = await startFakeKubeApi(dir);
  });
  afterAll(async () => {
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl apply --dry-run=client accepts every manifest and writes nothing', async () => {
    const { stdout } = await promisify(execFile)('kubectl', [
      'apply',
      '--dry-run=client',
      '--validate=false',
      '--kubeconfig',
      kube.kubeconfig,
      '-f',
      join(REPO_ROOT, DIR),
    ]);
    const created = stdout.trim().split('\n').sort();
    expect(created).toEqual(
      manifests
        .map(
          (m) =>
            `${m.kind.toLowerCase()}${m.kind === 'ScaledObject' ? '.keda.sh' : m.kind === 'Deployment' ? '.apps' : m.kind === 'Job' ? '.batch' : ''}/${m.metadata.name} created (dry run)`,
        )
        .sort(),
    );
    expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('the namespace is applied first; everything else lives in it', () => {
    expect(files[0]).toBe('00-namespace.yaml');
    for (const m of manifests.filter((x) => x.kind !== 'Namespace'))
      expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe('levqor');
  });

  it('serve without scheduler, two schedulers, the bot and a migration Job, each a real levqor command', () => {
    const args = Object.fromEntries(containers.map((c) => [c.workload, c.args]));
    expect(args).toEqual({
      'levqor-api': ['serve', '--no-scheduler'],
      'levqor-scheduler': ['scheduler'],
      'levqor-bot': ['bot'],
      'levqor-migrate': ['migrate'],
    });
    expect(find('Deployment', 'levqor-scheduler').spec?.replicas).toBe(2);
    for (const c of containers) expect(commandProblems(c.args ?? [])).toEqual([]);
  });

  it("every image is this version's", () => {
    for (const c of containers) expect(c.image, c.workload).toBe(`levqor:${version}`);
  });

  it('sets only variables src/config.ts reads, from the ConfigMap and the Secret that exist, with values that parse', () => {
    const names = containers.flatMap((c) => (c.env ?? []).map((e) => `${c.workload}: ${e.name}`));
    expect(
      containers.flatMap((c) =>
        unknownVariables(
          c.workload,
          (c.env ?? []).map((e) => e.name),
        ),
      ),
    ).toEqual([]);
    expect(unknownVariables('ConfigMap', Object.keys(configMap.data ?? {}))).toEqual([]);
    expect(unknownVariables('Secret', Object.keys(secret.stringData ?? {}))).toEqual([]);
    expect(names.length).toBeGreaterThan(8);
    for (const c of containers) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref)
          expect([ref.name, Object.keys(secret.stringData ?? {}).includes(ref.key)], `${c.workload}: ${e.name}`).toEqual(['levqor', true]);
      }
      for (const from of c.envFrom ?? []) expect(from.configMapRef?.name).toBe('levqor');
      const env = {
        ...configMap.data,
        ...secret.stringData,
        ...Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value])),
      };
      expect(() => loadConfig(env), c.workload).not.toThrow();
    }
  });

  it("the bot's probes ask its probe port (Socket Mode opens no other): /readyz for readiness, /healthz for liveness", () => {
    const bot = containers.find((c) => c.workload === 'levqor-bot');
    const env = Object.fromEntries((bot?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const healthPort = loadConfig(env).LEVQOR_BOT_HEALTH_PORT;
    expect(healthPort).toBeDefined();
    const port = (name: string | number | undefined) => bot?.ports?.find((p) => p.name === name)?.containerPort;
    expect([bot?.readinessProbe?.httpGet?.path, port(bot?.readinessProbe?.httpGet?.port)]).toEqual(['/readyz', healthPort]);
    expect([bot?.livenessProbe?.httpGet?.path, port(bot?.livenessProbe?.httpGet?.port)]).toEqual(['/healthz', healthPort]);
  });

  it("every Deployment's grace period outlasts the runs-in-flight grace", () => {
    const grace = loadConfig(configMap.data).LEVQOR_SHUTDOWN_TIMEOUT_SECONDS;
    for (const d of manifests.filter((m) => m.kind === 'Deployment'))
      expect(d.spec?.template?.spec.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThan(grace);
  });
});

describe('the KEDA ScaledObject and GET /api/scaling', () => {
  const t = useTestDb();
  let api: InProcessApi;
  beforeAll(async () => {
    api = await startInProcessApi(t.db);
  });
  afterAll(() => api.close());

  const so = find('ScaledObject', 'levqor-api').spec as unknown as ScaledObjectSpec;
  const [trigger] = so.triggers;

  it("scales the API Deployment, between the policy's bounds, with its cool-down", () => {
    expect(so.scaleTargetRef.name).toBe(find('Deployment', 'levqor-api').metadata.name);
    const config = loadConfig(configMap.data);
    expect([so.minReplicaCount, so.maxReplicaCount]).toEqual([DEFAULT_SCALING.minReplicas, config.LEVQOR_SCALING_MAX_REPLICAS]);
    expect(so.cooldownPeriod).toBe(config.LEVQOR_SCALING_COOLDOWN_SECONDS);
  });

  it("polls the API Service's address at /api/scaling", () => {
    const svc = find('Service', 'levqor-api');
    const url = new URL(trigger?.metadata.url ?? '');
    expect(trigger?.type).toBe('metrics-api');
    expect(url.host).toBe(`${svc.metadata.name}.${svc.metadata.namespace ?? ''}.svc:${svc.spec?.ports?.[0]?.port ?? 0}`);
    expect(url.pathname).toBe('/api/scaling');
  });

  it('reads a replica count that /api/scaling answers, as an AverageValue with target 1', async () => {
    const res = await fetch(`${api.baseUrl}${new URL(trigger?.metadata.url ?? '').pathname}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const value = body[trigger?.metadata.valueLocation ?? ''];
    expect(typeof value).toBe('number');
    expect(value as number).toBeGreaterThanOrEqual(so.minReplicaCount);
    expect(value as number).toBeLessThanOrEqual(so.maxReplicaCount);
    // A replica count: the HPA wants ceil(value / target) pods only with AverageValue.
    expect([trigger?.metricType, trigger?.metadata.targetValue]).toEqual(['AverageValue', '1']);
  });
});
