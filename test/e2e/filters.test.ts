// Filters applied in the kernel (--comm, --family, --addr, --netns) and in user
// space (--container), and container/pod facts from a real cgroup.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createNetns, deleteNetns, netnsInode } from '../helpers/netns.js';
import { killAll, startGenerator, startTracer, type TracerProcess } from '../helpers/processes.js';
import { type AnyRecord, assertValidLine } from '../helpers/schemas.js';

type Rec = AnyRecord;
const NS = 'nt-test-filter';
const POD_UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const CONTAINER = 'c0ffee'.padEnd(64, '0123456789abcdef');

function cgroup2Root(): string {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount');
  return line.split(' ')[1];
}

/**
 * A cgroup laid out as the kubelet's systemd driver with containerd makes
 * it, where it makes it (at the root: nettracer believes names only there).
 */
const root = cgroup2Root();
const POD_SLICE = `kubepods-burstable-pod${POD_UID.replace(/-/g, '_')}.slice`;
const podDirs = [
  'kubepods.slice',
  'kubepods.slice/kubepods-burstable.slice',
  `kubepods.slice/kubepods-burstable.slice/${POD_SLICE}`,
  `kubepods.slice/kubepods-burstable.slice/${POD_SLICE}/cri-containerd-${CONTAINER}.scope`,
].map((d) => join(root, d));

/**
 * Names anyone could give a cgroup (on cgroup v2, any user can under
 * user@UID.service), each with a process in it: none is a container.
 */
const HOSTILE = 'bad0'.padEnd(64, 'fedcba9876543210');
const hostileDirs = [
  `nt-test/docker-${HOSTILE}.scope`,
  `nt-test/user@65534.service/app.slice/docker-${HOSTILE}.scope`,
  `nt-test/kubepods.slice/kubepods-pod${'_'.repeat(36)}.slice/cri-containerd-${HOSTILE}.scope`,
  `nt-test/kubepods/burstable/pod${'_'.repeat(36)}/${HOSTILE}`,
].map((d) => join(root, d));

/** Directories this test made, to remove only those (a host may have kubepods.slice of its own). */
const made: string[] = [];
function mkdirs(dir: string): void {
  if (existsSync(dir)) return;
  mkdirs(dirname(dir));
  mkdirSync(dir);
  made.push(dir);
}

let gen: Awaited<ReturnType<typeof startGenerator>>;
let podGen: Awaited<ReturnType<typeof startGenerator>>;
let nsGen: Awaited<ReturnType<typeof startGenerator>>;
let hostileGens: Awaited<ReturnType<typeof startGenerator>>[];
let tracers: Record<string, TracerProcess>;
let recs: Record<string, Rec[]>;
let otherPort = 0;

function cleanup(): void {
  killAll();
  for (const d of made.splice(0).reverse()) {
    try {
      rmdirSync(d);
    } catch {
      // not there, or a process is still leaving it
    }
  }
  deleteNetns(NS);
}

before(async () => {
  cleanup();
  createNetns(NS);
  for (const d of [...podDirs, ...hostileDirs]) mkdirs(d);
  gen = await startGenerator({
    connections: [
      { family: 4, client_bytes: 10, server_bytes: 20 },
      { family: 6, client_bytes: 30, server_bytes: 40 },
    ],
    hold: 0.5,
  });
  podGen = await startGenerator({ connections: [{ family: 4, client_bytes: 50, server_bytes: 60 }], hold: 0.5 });
  writeFileSync(join(podDirs[3], 'cgroup.procs'), String(podGen.pid));
  hostileGens = [];
  for (const dir of hostileDirs) {
    const g = await startGenerator({ connections: [{ family: 4, client_bytes: 1, server_bytes: 2 }], hold: 0.5 });
    writeFileSync(join(dir, 'cgroup.procs'), String(g.pid));
    hostileGens.push(g);
  }
  nsGen = await startGenerator({
    connections: [{ family: 4, client_bytes: 70, server_bytes: 80 }],
    hold: 0.5,
    server_netns: NS,
    client_netns: NS,
  } as never);
  const args: Record<string, string[]> = {
    comm: ['--comm', 'python3'],
    // Without the send and receive hooks, an accepted connection's owner (and so the
    // owner filters) is known at a walk or at its close: the same records are expected.
    commCounters: ['--comm', 'python3', '-b', 'counters'],
    family6: ['--family', '6'],
    addr4: ['--addr', '127.0.0.0/8'],
    addr6: ['--addr', '::1'],
    netns: ['--netns', String(netnsInode(NS))],
    all: [],
    container: ['--container', CONTAINER.slice(0, 12)],
  };
  const entries = await Promise.all(
    Object.entries(args).map(async ([k, a]) => [k, await startTracer(['-f', ...a])] as const),
  );
  tracers = Object.fromEntries(entries);
  // A connection from this (node) process too.
  const server = net.createServer((s) => s.end('x'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  otherPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) =>
    net
      .connect(otherPort, '127.0.0.1')
      .on('data', () => {})
      .on('close', () => r()),
  );
  server.close();
  await Promise.all([gen.run(), podGen.run(), nsGen.run(), ...hostileGens.map((g) => g.run())]);
  await new Promise((r) => setTimeout(r, 300));
  recs = {};
  for (const [k, t] of Object.entries(tracers)) {
    await t.stop();
    recs[k] = t.lines.map(assertValidLine).filter((r) => 'saddr' in r);
  }
});

after(cleanup);

const ports = () =>
  new Set([
    gen.ports['4'],
    gen.ports['6'],
    podGen.ports['4'],
    nsGen.ports['4'],
    otherPort,
    ...hostileGens.map((g) => g.ports['4']),
  ]);
const ours = (rs: Rec[]) => rs.filter((r) => ports().has(r.sport!) || ports().has(r.dport!));
const byPid = (rs: Rec[], pid: number) => ours(rs).filter((r) => r.pid === pid);

describe('filters', () => {
  it('--comm keeps only processes with that name, on either path', () => {
    for (const k of ['comm', 'commCounters']) {
      assert.ok(
        recs[k].every((r) => r.comm === 'python3'),
        k,
      );
      assert.equal(byPid(recs[k], process.pid).length, 0, `${k}: the node process is filtered out`);
      assert.equal(byPid(recs[k], gen.pid).filter((r) => r.type === 'close').length, 4, k);
    }
  });

  it('--family 6 keeps only IPv6', () => {
    assert.ok(recs.family6.length > 0);
    assert.ok(recs.family6.every((r) => r.family === 'ipv6'));
    assert.equal(byPid(recs.family6, gen.pid).filter((r) => r.type === 'close').length, 2);
  });

  it('--addr with an IPv4 CIDR and with one IPv6 address', () => {
    assert.ok(recs.addr4.every((r) => r.saddr!.startsWith('127.') || r.daddr!.startsWith('127.')));
    assert.ok(byPid(recs.addr4, process.pid).length > 0);
    assert.ok(recs.addr6.length > 0 && recs.addr6.every((r) => r.saddr === '::1' || r.daddr === '::1'));
  });

  it('--netns keeps only that namespace', () => {
    const inode = netnsInode(NS);
    assert.ok(recs.netns.every((r) => r.netns === inode));
    assert.deepEqual(recs.netns.map((r) => r.type).sort(), ['accept', 'close', 'close', 'connect']);
    assert.ok(recs.netns.every((r) => r.pid === nsGen.pid));
  });
});

describe('containers', () => {
  it('a process in a containerd-managed Kubernetes pod cgroup carries container id, runtime, pod uid and QoS', () => {
    const mine = byPid(recs.all, podGen.pid);
    assert.equal(mine.length, 4);
    for (const r of mine) {
      assert.equal(r.container_id, CONTAINER);
      assert.equal(r.container_runtime, 'containerd');
      assert.equal(r.pod_uid, POD_UID);
      assert.equal(r.qos_class, 'burstable');
    }
    assert.ok(
      byPid(recs.all, gen.pid).every((r) => r.container_id === undefined),
      'others have none',
    );
  });

  it('a cgroup named like a container anywhere but where the runtime puts one is no container', () => {
    for (const [i, g] of hostileGens.entries()) {
      const mine = byPid(recs.all, g.pid);
      assert.equal(mine.length, 4, hostileDirs[i]);
      for (const r of mine) {
        assert.equal(r.container_id, undefined, hostileDirs[i]);
        assert.equal(r.pod_uid, undefined, hostileDirs[i]);
      }
    }
    // Every record of the run met its schema (assertValidLine in before()).
  });

  it('--container keeps only that container', () => {
    assert.ok(recs.container.length === 4 && recs.container.every((r) => r.pid === podGen.pid));
  });
});
