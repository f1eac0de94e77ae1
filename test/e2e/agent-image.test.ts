// deploy/Dockerfile, built and run here with Podman (no Docker engine runs on
// these machines). The base images cannot be pulled (no registry but npm's is
// reachable), so node:20-bookworm and node:20-bookworm-slim are one stand-in:
// Debian bookworm from debootstrap with this machine's Node 20 in /usr/local,
// where the official images keep it. Everything else is the Dockerfile's own:
// its packages, its npm ci that builds the BPF object and the addon in the
// image, its runtime stage. The image then runs as the DaemonSet runs it:
// its capabilities only, read-only root, host PIDs, no new privileges, and a
// seccomp profile like containerd's RuntimeDefault; and under a profile like
// CRI-O's default, which gives bpf() only to CAP_SYS_ADMIN, it must say what
// blocks it. Podman keeps its images in a store of the test's.
import assert from 'node:assert/strict';
import { execa, type Options } from 'execa';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { kubeletEnv, type PodSpec } from '../helpers/daemonset.js';
import { attr, OtlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/processes.js';

const work = mkdtempSync('/var/tmp/nettracer-image-');
const IMAGE = 'localhost/nettracer:test';
const rx = new OtlpReceiver();
const running = new Set<string>();
/** This sandbox's root lacks CAP_SYS_RESOURCE: the runtime may set limits no higher than the host's. */
const LIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=4096:4096'];

/** Podman with a store of this test's (nothing of it stays on the host), and runc: crun refuses this machine's hybrid cgroups. */
const podman = (args: string[], opts: Options = {}) =>
  execa('podman', ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--runtime', 'runc', ...args], {
    reject: false,
    ...opts,
  });

interface DaemonSet {
  spec: { template: { spec: PodSpec } };
}

const pod = (parse(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'daemonset.yaml'), 'utf8')) as DaemonSet).spec
  .template.spec;
const config = (
  parse(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'configmap.yaml'), 'utf8')) as { data: Record<string, string> }
).data;

let built: { exitCode?: number; all?: unknown } = {};

after(async () => {
  for (const name of running) await podman(['rm', '-f', '-t', '0', name]);
  await rx.stop();
  // Podman unmounts and removes its layers; then the store's folder goes.
  await podman(['rm', '--all', '--force']);
  await podman(['rmi', '--all', '--force']);
  rmSync(work, { recursive: true, force: true });
});

/** node:20-bookworm, as far as the Dockerfile uses it: Debian bookworm, Node 20 and npm in /usr/local, CA certificates. */
async function standInBase(): Promise<void> {
  const root = join(work, 'rootfs');
  const boot = await execa(
    'debootstrap',
    ['--variant=minbase', '--include=ca-certificates', 'bookworm', root, 'http://deb.debian.org/debian'],
    { reject: false, all: true },
  );
  assert.equal(boot.exitCode, 0, `debootstrap: ${String(boot.all).slice(-2000)}`);
  const node = process.execPath;
  const prefix = dirname(dirname(node)); // /usr or /usr/local
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  copyFileSync(node, join(root, 'usr/local/bin/node'));
  cpSync(join(prefix, 'lib/node_modules/npm'), join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  cpSync(join(prefix, 'include/node'), join(root, 'usr/local/include/node'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  // This machine reaches the npm registry through a proxy with a CA of its own: the build must trust it as the host does.
  const local = '/usr/local/share/ca-certificates';
  if (existsSync(local)) {
    for (const f of readdirSync(local)) copyFileSync(join(local, f), join(root, local, f));
    const up = await execa('chroot', [root, 'update-ca-certificates'], { reject: false, all: true });
    assert.equal(up.exitCode, 0, String(up.all));
  }
  const tar = execa('tar', ['-C', root, '-c', '.'], { buffer: false, reject: false });
  const imported = podman(
    [
      'import',
      // The official image's node-gyp fetches headers from nodejs.org, which is out of reach here: they are in the image.
      '--change',
      'ENV npm_config_nodedir=/usr/local',
      '--change',
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      '--change',
      'CMD ["node"]',
      '-',
      'docker.io/library/node:20-bookworm',
    ],
    { stdin: 'pipe', all: true },
  );
  tar.stdout?.pipe(imported.stdin!);
  const [t, i] = await Promise.all([tar, imported]);
  assert.equal(t.exitCode, 0);
  assert.equal(i.exitCode, 0, String(i.all));
  const tag = await podman(['tag', 'docker.io/library/node:20-bookworm', 'docker.io/library/node:20-bookworm-slim']);
  assert.equal(tag.exitCode, 0, String(tag.stderr));
  rmSync(root, { recursive: true, force: true });
}

before(
  async () => {
    await standInBase();
    built = await podman(
      [
        'build',
        '--isolation',
        'chroot',
        '--pull=never',
        '--network',
        'host',
        '-f',
        'deploy/Dockerfile',
        '--ignorefile',
        'deploy/Dockerfile.dockerignore',
        '-t',
        IMAGE,
        '.',
      ],
      { cwd: ROOT, all: true, timeout: 40 * 60_000 },
    );
  },
  { timeout: 45 * 60_000 },
);

interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  includes?: { caps?: string[] };
  excludes?: { caps?: string[] };
}

/**
 * Podman's default seccomp profile with the rules for bpf and
 * perf_event_open made one of two ways (one base, so the two differ only
 * there): "containerd", as containerd's RuntimeDefault gives them (to
 * CAP_SYS_ADMIN, bpf also to CAP_BPF, perf_event_open to CAP_PERFMON:
 * contrib/seccomp/seccomp_default.go); "sys-admin", as the default of CRI-O
 * and of Debian 12's Podman gives them (to CAP_SYS_ADMIN only, EPERM for others).
 */
function seccompProfile(kind: 'containerd' | 'sys-admin'): string {
  const p = JSON.parse(readFileSync('/usr/share/containers/seccomp.json', 'utf8')) as { syscalls: SeccompRule[] };
  const calls = ['bpf', 'perf_event_open'];
  for (const s of p.syscalls) s.names = s.names.filter((n) => !calls.includes(n));
  p.syscalls = p.syscalls.filter((s) => s.names.length > 0);
  p.syscalls.push({ names: calls, action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } });
  if (kind === 'containerd')
    p.syscalls.push(
      { names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_BPF'] } },
      { names: ['perf_event_open'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_PERFMON'] } },
    );
  else p.syscalls.push({ names: calls, action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_ADMIN'] } });
  const file = join(work, `seccomp-${kind}.json`);
  writeFileSync(file, JSON.stringify(p));
  return file;
}

/** `podman run` options for the DaemonSet's pod: its security context, mounts, PIDs; the host's network (the test's receiver is on loopback). */
function asDaemonSet(seccomp: string, env: Record<string, string>): string[] {
  const c = pod.containers[0];
  const sc = c.securityContext;
  const opts = ['--network', 'host', '--pid', pod.hostPID ? 'host' : 'private'];
  opts.push(...LIMITS);
  opts.push('--cap-drop', sc.capabilities.drop.join(','));
  opts.push('--cap-add', sc.capabilities.add.map((x) => `CAP_${x}`).join(','));
  if (sc.readOnlyRootFilesystem) opts.push('--read-only');
  if (sc.allowPrivilegeEscalation === false) opts.push('--security-opt', 'no-new-privileges');
  opts.push('--user', String(sc.runAsUser ?? 0), '--security-opt', `seccomp=${seccomp}`);
  for (const m of c.volumeMounts) {
    const v = pod.volumes.find((x) => x.name === m.name);
    if (v?.hostPath) opts.push('-v', `${v.hostPath.path}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
    else if (v?.emptyDir) opts.push('--tmpfs', `${m.mountPath}:size=16m`);
  }
  for (const [k, v] of Object.entries(env)) opts.push('-e', `${k}=${v}`);
  return opts;
}

/** The container's environment on node "test-node", the OTLP port moved to a free one, exports every second. */
function podEnv(otlpPort: number): Record<string, string> {
  const env = kubeletEnv(pod.containers[0], config);
  env.OTEL_EXPORTER_OTLP_ENDPOINT = env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(':4318', `:${otlpPort}`);
  env.OTEL_METRIC_EXPORT_INTERVAL = '1000';
  return env;
}

const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 250)))
    if (await ok()) return;
  assert.fail(`${what} within ${ms / 1000} s`);
};

describe('deploy/Dockerfile, built and run with Podman', { timeout: 50 * 60_000 }, () => {
  it('builds: the BPF object and the addon are built in the image, which runs `nettracer --version`', async () => {
    assert.equal(built.exitCode, 0, `podman build failed:\n${String(built.all).slice(-4000)}`);
    assert.match(String(built.all), /native-build: make -C bpf/, 'the BPF object was built in the image');
    const v = await podman([
      'run',
      '--rm',
      ...LIMITS,
      // No network: Podman's default one is a bridge whose firewall rules would stay on the host.
      '--network',
      'none',
      IMAGE,
      '--version',
    ]);
    assert.equal(v.exitCode, 0, String(v.stderr));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.match(String(v.stdout), new RegExp(`^nettracer/${pkg.version.replace(/\./g, '\\.')} `));
  });

  it("runs as the DaemonSet does: attaches, drops to the image's nettracer user, serves /metrics, exports", async () => {
    assert.equal(built.exitCode, 0, 'the image was not built');
    const otlpPort = await rx.start();
    const promPort = await freePort();
    const name = `nettracer-test-${process.pid}`;
    const command = pod.containers[0].command.map((a) => a.replace(':9464', `:${promPort}`));
    running.add(name);
    const r = await podman([
      'run',
      '-d',
      '--name',
      name,
      ...asDaemonSet(seccompProfile('containerd'), podEnv(otlpPort)),
      '--entrypoint',
      command[0],
      IMAGE,
      ...command.slice(1),
    ]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const logs = async () => String((await podman(['logs', name])).all ?? '');
    await waitFor('/metrics answers', async () => {
      const res = await fetch(`http://127.0.0.1:${promPort}/metrics`).catch(() => undefined);
      return res?.status === 200;
    }).catch(async (e: Error) => assert.fail(`${e.message}; the container said: ${await logs()}`));
    await waitFor('an OTLP export', () => rx.received.length > 0);
    const resource = rx.received[0].body.resourceMetrics?.[0].resource?.attributes;
    assert.equal(attr(resource, 'host.name'), 'test-node');
    // hostPID: the agent is a process of this host; it dropped root and every capability.
    const pid = Number((await podman(['inspect', '--format', '{{.State.Pid}}', name])).stdout);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    assert.notEqual(uid, 0, 'the agent runs as a user of its own');
    assert.match(status, /^CapEff:\s+0+$/m);
    assert.match(status, /^CapBnd:\s+0+$/m);
    assert.match(String(readFileSync(`/proc/${pid}/cmdline`, 'utf8')), /agent/);
    const stop = await podman(['stop', '-t', '15', name]);
    assert.equal(stop.exitCode, 0, String(stop.stderr));
    const exited = await podman(['inspect', '--format', '{{.State.ExitCode}}', name]);
    assert.equal(String(exited.stdout).trim(), '0', await logs());
  });

  it('under a seccomp profile that gives bpf() only to CAP_SYS_ADMIN, it says a seccomp filter blocks it', async () => {
    assert.equal(built.exitCode, 0, 'the image was not built');
    const r = await podman([
      'run',
      '--rm',
      ...asDaemonSet(seccompProfile('sys-admin'), podEnv(4318)),
      IMAGE,
      'agent',
      '--prometheus',
      `:${await freePort()}`,
    ]);
    assert.equal(r.exitCode, 3, String(r.stderr)); // privileges (src/cli/exit-codes.ts)
    assert.match(String(r.stderr), /although this process has CAP_BPF and CAP_PERFMON: a seccomp filter blocks it/);
  });
});
