import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

// A stand-in for a Kubernetes API server's discovery endpoints, so `kubectl apply --dry-run=client`
// can map kinds to resources on a machine without a cluster. Every object is "not found" (a first
// apply); nothing can be written. Records each request.

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const GROUPS: Record<string, Resource[]> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'secrets', kind: 'Secret', namespaced: true },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  ],
  '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
  '/apis/batch/v1': [{ name: 'jobs', kind: 'Job', namespaced: true }],
  '/apis/policy/v1': [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true }],
  '/apis/keda.sh/v1alpha1': [
    { name: 'scaledobjects', kind: 'ScaledObject', namespaced: true },
    { name: 'triggerauthentications', kind: 'TriggerAuthentication', namespaced: true },
  ],
};

export interface FakeKubeApi {
  /** A kubeconfig file pointing kubectl at the fake. */
  kubeconfig: string;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 and writes its kubeconfig into `dir`. */
export async function startFakeKubeApi(dir: string): Promise<FakeKubeApi> {
  const requests: FakeKubeApi['requests'] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? '', path });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { kind: 'Status', status: 'Failure', code: 405 });
    if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') {
      const groups = Object.keys(GROUPS)
        .filter((g) => g.startsWith('/apis/'))
        .map((g) => {
          const [, , name = '', version = ''] = g.split('/');
          const v = { groupVersion: `${name}/${version}`, version };
          return { name, versions: [v], preferredVersion: v };
        });
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const resources = GROUPS[path];
    if (resources) {
      const groupVersion = path === '/api/v1' ? 'v1' : path.slice('/apis/'.length);
      const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
      return send(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: resources.map((r) => ({ ...r, singularName: '', verbs })),
      });
    }
    if (path === '/version') return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}" } }]`,
      'users: [{ name: fake, user: { token: fake } }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return { kubeconfig, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
