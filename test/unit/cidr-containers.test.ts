import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from '../../src/cli/cidr.js';
import { ContainerResolver, parseCgroupPath, parseProcCgroup } from '../../src/tracer/containers.js';

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
  const cases: [string, object][] = [
    [`/system.slice/docker-${ID}.scope`, { container_id: ID, container_runtime: 'docker' }],
    [`/docker/${ID}`, { container_id: ID, container_runtime: 'docker' }],
    [
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`,
      { container_id: ID, container_runtime: 'containerd', pod_uid: UID, qos_class: 'besteffort' },
    ],
    [
      `/kubepods.slice/kubepods-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`,
      { container_id: ID, container_runtime: 'cri-o', pod_uid: UID, qos_class: 'guaranteed' },
    ],
    [`/kubepods/burstable/pod${UID}/${ID}`, { pod_uid: UID, qos_class: 'burstable', container_id: ID }],
    [`/machine.slice/libpod-${ID}.scope/container`, { container_id: ID, container_runtime: 'podman' }],
    ['/user.slice/user-1000.slice/session-3.scope', {}],
    ['/', {}],
  ];
  for (const [path, want] of cases) it(path.slice(0, 50), () => assert.deepEqual(parseCgroupPath(path), want));

  it('/proc/PID/cgroup, v1 lines and the v2 line', () => {
    const text = `12:memory:/docker/${ID}\n0::/system.slice/docker-${ID}.scope\n`;
    assert.equal(parseProcCgroup(text).container_id, ID);
    assert.deepEqual(parseProcCgroup('0::/init.scope\n'), {});
  });

  it('resolves once per cgroup id, per PID when there is no cgroup v2 id, and fails soft', () => {
    let reads = 0;
    const r = new ContainerResolver((pid) => {
      reads++;
      if (pid === 99) throw new Error('ENOENT');
      return `0::/docker/${ID}\n`;
    });
    assert.equal(r.lookup(5000, 1).container_id, ID);
    assert.equal(r.lookup(5000, 2).container_id, ID);
    assert.equal(reads, 1);
    r.lookup(1, 3);
    r.lookup(1, 4);
    assert.equal(reads, 3);
    assert.deepEqual(r.lookup(6000, 99), {});
  });
});
