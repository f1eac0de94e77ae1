import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from '../../src/cli/cidr.js';
import { ContainerResolver, type HostView, parseCgroupPath, parseProcCgroup } from '../../src/tracer/containers.js';

describe('--addr CIDR parsing', () => {
  it('IPv4, IPv6, embedded IPv4 and single addresses', () => {
    assert.deepEqual(parseCidr('10.1.0.0/16'), {
      family: 4,
      prefix: 16,
      bytes: [10, 1, 0, 0, ...Array<number>(12).fill(0)],
    });
    assert.deepEqual(parseCidr('127.0.0.1').prefix, 32);
    assert.deepEqual(parseCidr('fd00::/8'), { family: 6, prefix: 8, bytes: [0xfd, 0, ...Array<number>(14).fill(0)] });
    assert.deepEqual(parseCidr('::1').bytes, [...Array<number>(15).fill(0), 1]);
    assert.deepEqual(
      parseCidr('2001:db8::a:b/64').bytes,
      [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0x0b],
    );
    assert.deepEqual(parseCidr('::ffff:10.0.0.1').bytes, [...Array<number>(10).fill(0), 0xff, 0xff, 10, 0, 0, 1]);
  });

  it('refuses what is not a CIDR', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'host', '1.2.3.4/8/9', '1.2.3.4/x']) {
      assert.throws(() => parseCidr(bad), /--addr/, bad);
    }
  });
});

const ID = '0123456789abcdef'.repeat(4);
const UID = '11112222-3333-4444-5555-666677778888';

describe('container facts from cgroup paths', () => {
  const U = UID.replace(/-/g, '_');
  const cases: [string, object][] = [
    [`/system.slice/docker-${ID}.scope`, { container_id: ID, container_runtime: 'docker' }],
    [`/docker/${ID}`, { container_id: ID, container_runtime: 'docker' }],
    [
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${U}.slice/cri-containerd-${ID}.scope`,
      { container_id: ID, container_runtime: 'containerd', pod_uid: UID, qos_class: 'besteffort' },
    ],
    [
      `/kubepods.slice/kubepods-pod${U}.slice/crio-${ID}.scope`,
      { container_id: ID, container_runtime: 'cri-o', pod_uid: UID, qos_class: 'guaranteed' },
    ],
    [`/kubepods/burstable/pod${UID}/${ID}`, { pod_uid: UID, qos_class: 'burstable', container_id: ID }],
    [
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U}.slice`,
      { pod_uid: UID, qos_class: 'burstable' },
    ],
    [`/machine.slice/libpod-${ID}.scope/container`, { container_id: ID, container_runtime: 'podman' }],
    // Seen from inside a cgroup namespace: the part above it is "..".
    [`/../../system.slice/docker-${ID}.scope`, { container_id: ID, container_runtime: 'docker' }],
    ['/user.slice/user-1000.slice/session-3.scope', {}],
    ['/', {}],
  ];
  for (const [path, want] of cases) it(path.slice(0, 60), () => assert.deepEqual(parseCgroupPath(path), want));

  // Names anyone can give a cgroup of their own, or that are not what they look like.
  const hostile: string[] = [
    `/sec-test/docker-${ID}.scope`,
    `/user.slice/user-1000.slice/user@1000.service/app.slice/docker-${ID}.scope`,
    `/user.slice/user-1000.slice/user@1000.service/kubepods.slice/kubepods-pod${U}.slice/cri-containerd-${ID}.scope`,
    `/user.slice/user-1000.slice/user@1000.service/docker/${ID}`,
    `/../user.slice/user-1000.slice/user@1000.service/app.slice/docker-${ID}.scope`,
    `/system.slice/docker-${ID}.scope/../../user.slice`,
    `/system.slice/docker-${ID}.scope/child`,
    `/docker/${ID}/docker/${ID}x`,
    `/kubepods/burstable/pod${'_'.repeat(36)}/${ID}`,
    `/kubepods/burstable/pod${'-'.repeat(36)}/${ID}`,
    `/kubepods.slice/kubepods-pod${'_'.repeat(36)}.slice/cri-containerd-${ID}.scope`,
    `/kubepods.slice/kubepods-pod${'_'.repeat(36)}.slice`,
    `/kubepods/podABCDEF12-3333-4444-5555-666677778888/${ID}`,
    `/system.slice/docker-${ID.toUpperCase()}.scope`,
    `/system.slice/docker-${ID}0.scope`,
    `/system.slice/docker-${ID}.scope\n0::/docker/${ID}`,
  ];
  for (const path of hostile) {
    it(`nothing from ${JSON.stringify(path).slice(0, 70)}`, () => assert.deepEqual(parseCgroupPath(path), {}));
  }

  it('/proc/PID/cgroup, v1 lines and the v2 line; lines that are not cgroup lines count for nothing', () => {
    const text = `12:memory:/docker/${ID}\n0::/system.slice/docker-${ID}.scope\n`;
    assert.equal(parseProcCgroup(text).container_id, ID);
    assert.deepEqual(parseProcCgroup('0::/init.scope\n'), {});
    assert.deepEqual(parseProcCgroup(`garbage /docker/${ID}\n0::/init.scope\n`), {});
  });
});

describe('the container resolver', () => {
  /** A host where pid 7 is a process of the docker container, the others host processes. */
  function host(over: Partial<HostView> = {}) {
    const reads = { cgroup: 0 };
    const view: HostView = {
      cgroup: (pid) => {
        reads.cgroup++;
        if (pid === 99) throw new Error('ENOENT');
        return pid === 7 ? `0::/system.slice/docker-${ID}.scope\n` : '0::/user.slice/user-0.slice/session-1.scope\n';
      },
      start: (pid) => pid * 100,
      cgroupId: (path) => (path.startsWith('/system.slice/docker-') ? 5000 : 6000),
      ...over,
    };
    return { view, reads };
  }

  it('on a cgroup v2 host: once per cgroup id, checked against the cgroup directory', () => {
    const { view, reads } = host();
    const r = new ContainerResolver(view);
    assert.equal(r.lookup({ cgroup_id: 5000, pid: 7, owner_start: 700 }).container_id, ID);
    assert.equal(r.lookup({ cgroup_id: 5000, pid: 8, owner_start: 800 }).container_id, ID, 'same cgroup');
    assert.equal(reads.cgroup, 1);
    assert.equal(r.cached({ cgroup_id: 5000, pid: 8, owner_start: 800 })?.byCgroup, true);
  });

  it('a reused pid: the record names another process, so nothing is read, kept or told', () => {
    const { view, reads } = host();
    const r = new ContainerResolver(view);
    // The owner of the record (start 123) is gone; pid 7 now belongs to the container's process.
    assert.deepEqual(r.lookup({ cgroup_id: 6000, pid: 7, owner_start: 123 }), {});
    assert.equal(reads.cgroup, 0);
    assert.equal(r.lookup({ cgroup_id: 5000, pid: 7, owner_start: 700 }).container_id, ID, 'the new process');
  });

  it('a pid reused between reading its start and its cgroups is not believed', () => {
    let starts = 0;
    const { view } = host({ start: () => (starts++ === 0 ? 700 : 701) });
    assert.deepEqual(new ContainerResolver(view).lookup({ cgroup_id: 5000, pid: 7, owner_start: 700 }), {});
  });

  it('a path that is not the cgroup the kernel named: kept for the process only', () => {
    // The process moved to another cgroup since the connection began.
    const { view } = host({ cgroupId: () => 1234 });
    const r = new ContainerResolver(view);
    assert.equal(r.lookup({ cgroup_id: 5000, pid: 7, owner_start: 700 }).container_id, ID);
    assert.equal(r.cached({ cgroup_id: 5000, pid: 7, owner_start: 700 })?.byCgroup, false);
    assert.equal(r.cached({ cgroup_id: 5000, pid: 8, owner_start: 800 }), undefined, 'not for its cgroup');
  });

  it('on cgroup v1 and hybrid hosts: by pid and start, so a reused pid is resolved again', () => {
    let text = `4:memory:/docker/${ID}\n0::/system.slice/containerd.service\n`;
    const { view, reads } = host({ cgroup: () => (reads.cgroup++, text), cgroupId: () => 5000 });
    const r = new ContainerResolver(view);
    assert.equal(r.lookup({ cgroup_id: 5000, pid: 7, owner_start: 700 }).container_id, ID);
    assert.equal(r.cached({ cgroup_id: 5000, pid: 7, owner_start: 700 })?.byCgroup, false, 'v1 lines: per process');
    text = '4:memory:/user.slice\n0::/system.slice/containerd.service\n';
    // The same pid, a new process (started later): the cache does not answer for it.
    assert.deepEqual(r.lookup({ cgroup_id: 1, pid: 7, owner_start: 700 }).container_id, ID, 'cached');
    const { view: later } = host({ cgroup: () => text, start: () => 900 });
    const r2 = new ContainerResolver(later);
    assert.deepEqual(r2.lookup({ cgroup_id: 1, pid: 7, owner_start: 900 }), {});
    assert.equal(reads.cgroup, 1);
  });

  it('an owner that is gone: nothing, and no exception', () => {
    const { view } = host();
    assert.deepEqual(new ContainerResolver(view).lookup({ cgroup_id: 6000, pid: 99, owner_start: 9900 }), {});
    assert.deepEqual(new ContainerResolver(view).lookup({ cgroup_id: 6000, pid: 0, owner_start: 0 }), {});
  });

  it('the process key: pid and start in 53 bits, distinct across the range of both', () => {
    const keys = new Set<number>();
    for (const pid of [1, 2, 4_194_303])
      for (const start of [0, 1, 2 ** 31 - 1]) keys.add(ContainerResolver.processKey(pid, start));
    assert.equal(keys.size, 9);
    assert.ok([...keys].every((k) => Number.isSafeInteger(k)));
  });
});
