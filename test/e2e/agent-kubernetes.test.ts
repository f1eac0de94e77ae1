// deploy/kubernetes: `kubectl kustomize` renders it, yamllint passes, every
// object validates against the Kubernetes API schema (kubernetes-models),
// the DaemonSet asks for the least privilege that works; and its container's
// command, with its environment and only its capabilities, runs here on the
// host: it attaches, drops to nettracer with nothing left, serves /metrics
// and exports to the OTLP endpoint the manifest builds from the downward API.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubeletEnv, type PodSpec } from '../helpers/daemonset.js';
import { attr, OtlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, RUN } from '../helpers/processes.js';

const BASE = join(ROOT, 'deploy', 'kubernetes');
const tmp = mkdtempSync(join(tmpdir(), 'nettracer-agent-k8s-'));
const rx = new OtlpReceiver();
let killChild = (): void => {};

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}
const hasKubectl = execa('kubectl', ['version', '--client'], { reject: false }).then((r) => r.exitCode === 0);
let objects: Obj[] = [];

after(async () => {
  killChild();
  await rx.stop();
  rmSync(tmp, { recursive: true, force: true });
});

before(async () => {
  if (!(await hasKubectl)) return;
  const r = await execa('kubectl', ['kustomize', BASE]);
  objects = parseAllDocuments(String(r.stdout)).map((d) => d.toJS() as Obj);
});

const find = (kind: string) => objects.find((o) => o.kind === kind);
const podSpec = () => (find('DaemonSet') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const container = () => podSpec().containers[0];

describe('deploy/kubernetes', () => {
  it('yamllint passes on deploy/', async () => {
    const r = await execa('yamllint', ['-c', join(ROOT, 'deploy', '.yamllint'), '-s', join(ROOT, 'deploy')], {
      reject: false,
    });
    assert.equal(r.exitCode, 0, String(r.stdout));
  });

  it('kubectl kustomize renders it; every object validates against the Kubernetes API schema', async (t) => {
    if (!(await hasKubectl)) {
      // Debian packages no kubectl: say plainly what was not checked.
      t.skip('kubectl is not installed: the kustomize rendering and the checks of what it renders were not run');
      return;
    }
    assert.deepEqual(objects.map((o) => o.kind).sort(), [
      'ConfigMap',
      'DaemonSet',
      'Namespace',
      'PriorityClass',
      'ServiceAccount',
    ]);
    for (const o of objects) {
      const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
      const path = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
      const models = (await import(path)) as Record<string, new (o: unknown) => { validate(): void }>;
      assert.ok(models[o.kind], `kubernetes-models has ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => new models[o.kind](o).validate(), `${o.kind} ${o.metadata.name}`);
    }
    for (const o of objects)
      if (o.kind !== 'Namespace' && o.kind !== 'PriorityClass') assert.equal(o.metadata.namespace, 'nettracer');
  });

  it('least privilege: no privileged, drop ALL, the tracer capabilities and no more, read-only root', async (t) => {
    if (!(await hasKubectl)) return t.skip('kubectl is not installed');
    const spec = podSpec();
    const sc = container().securityContext;
    assert.equal(sc.privileged, false);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities.drop, ['ALL']);
    assert.deepEqual([...sc.capabilities.add].sort(), ['BPF', 'PERFMON', 'SETGID', 'SETPCAP', 'SETUID']);
    assert.equal(spec.hostPID, true, 'host PIDs and /proc/PID/cgroup');
    assert.notEqual(spec.hostNetwork, true);
    for (const m of container().volumeMounts) {
      const v = spec.volumes.find((x) => x.name === m.name);
      if (v?.hostPath) assert.equal(m.readOnly, true, `host path ${v.hostPath.path} is mounted read-only`);
    }
    const res = container().resources;
    assert.ok(res.requests.cpu && res.requests.memory && res.limits.cpu && res.limits.memory);
    assert.ok(spec.tolerations.length > 0);
    assert.equal(find('PriorityClass')?.metadata.name, spec.priorityClassName);
    const env = Object.fromEntries(container().env.map((e) => [e.name, e]));
    assert.equal(env.NODE_NAME.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    assert.equal(env.HOST_IP.valueFrom?.fieldRef?.fieldPath, 'status.hostIP');
    assert.match(String(env.OTEL_EXPORTER_OTLP_ENDPOINT.value), /\$\(HOST_IP\)/, 'the node-local collector');
    assert.equal(container().envFrom[0].configMapRef.name, find('ConfigMap')?.metadata.name);
    assert.equal(
      (find('ServiceAccount') as { automountServiceAccountToken?: boolean }).automountServiceAccountToken,
      false,
    );
  });

  it("the container's command runs here with only its capabilities: attaches, drops, serves, exports", async (t) => {
    if (!(await hasKubectl)) return t.skip('kubectl is not installed');
    const c = container();
    const config = (find('ConfigMap') as unknown as { data: Record<string, string> }).data;
    const env = kubeletEnv(c, config);
    // Only the ports move (another test on this machine may hold 4318 or 9464),
    // and the export interval shortens; the ready descriptor is the tests' own.
    const otlpPort = await rx.start();
    const promPort = await freePort();
    env.OTEL_EXPORTER_OTLP_ENDPOINT = env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(':4318', `:${otlpPort}`);
    env.OTEL_METRIC_EXPORT_INTERVAL = '1000';
    env.NETTRACER_ARGS += ' --ready-fd 3';
    const command = c.command.map((a) => a.replace(':9464', `:${promPort}`));
    assert.equal(command[0], '/bin/sh');
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    symlinkSync(RUN, join(bin, 'nettracer'));
    env.PATH = `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`;
    const caps = c.securityContext.capabilities.add.map((x) => `+${x.toLowerCase()}`).join(',');
    const child = execa('setpriv', [`--bounding-set=-all,${caps}`, '--inh-caps=-all', ...command], {
      env,
      extendEnv: false,
      reject: false,
      buffer: false,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    killChild = () => child.kill('SIGKILL');
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await new Promise<{ user: string }>((resolve, reject) => {
      let line = '';
      const fd3 = child.stdio[3] as NodeJS.ReadableStream;
      fd3.on('data', (d: Buffer) => (line += d.toString()));
      fd3.on('end', () => (line ? resolve(JSON.parse(line) as { user: string }) : reject(new Error(stderr))));
    });
    assert.match(ready.user, /^nettracer \(uid \d+\), no capabilities$/);
    const metrics = await fetch(`http://127.0.0.1:${promPort}/metrics`);
    assert.equal(metrics.status, 200);
    for (let i = 0; i < 300 && rx.received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const resource = rx.received[0]?.body.resourceMetrics?.[0].resource?.attributes;
    assert.equal(attr(resource, 'host.name'), 'test-node');
    assert.equal(attr(resource, 'k8s.node.name'), 'test-node');
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 0, stderr);
  });
});
