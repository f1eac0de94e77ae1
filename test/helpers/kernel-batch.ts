// Random batches of the kernel's nt_record for the encoder tests. Every
// number member of the wire layout gets a random value of its width (so a
// member added to bpf/nettracer.h is exercised without a change here); the
// members with a meaning (kind, family, direction, flags, stamps, addresses,
// process names, cgroups) get values a kernel could send, awkward ones
// included.
import {
  COMM_LEN,
  DIRECTION,
  FLAG,
  KIND,
  OFF,
  READ,
  RECORD_SIZE,
  SIZE,
  type WireMember,
  type WireNumbers,
} from '../../src/generated/wire.js';
import type { KernelRecord } from '../../src/tracer/decode.js';
import type { HostView } from '../../src/tracer/containers.js';

/** mulberry32: a seeded generator whose low bits are as random as its high ones. */
export function seeded(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

export const COMMS: readonly (number[] | string)[] = [
  'curl',
  'nginx: worker',
  'a"b',
  'back\\slash',
  '',
  'sixteen-chars-xx',
  'x{}y,z:',
  [0xc3, 0xa9, 0x74, 0xe9], // valid UTF-8 "été"
  [0x66, 0xff, 0x6f], // invalid UTF-8
  [0x74, 0x09, 0x62], // a control character
  [0xf0, 0x9f, 0x98, 0x80], // an emoji
  [0x78, 0x7f], // DEL
  'x\\x7f', // looks like the one above, once escaped
  [0x61, 0xe2, 0x80, 0xae, 0x62], // a bidi override (U+202E)
  [0x61, 0xe2, 0x80, 0x8b, 0x62], // a zero-width space
];

export const V6: readonly number[][] = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], // ::1
  [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0xab, 0xcd], // two runs of zeros
  [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], // 2001:db8:0:1::1
  [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1], // single zero groups stay
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // ::
  [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // fd00::
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7], // ::ffff:10.0.0.7 (mapped)
];

/** /proc/PID/cgroup text by pid % 3: the host, a docker container, a pod's container. */
export const CGROUPS: Readonly<Record<number, string>> = {
  0: '0::/user.slice/user-0.slice/session-1.scope\n',
  1: '0::/system.slice/docker-' + 'ab'.repeat(32) + '.scope\n',
  2:
    '0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11112222_3333_4444_5555_666677778888.slice/cri-containerd-' +
    'cd'.repeat(32) +
    '.scope\n',
};

/** When the fake host's process PID started (clock ticks): what its records' owner_start says. */
export const startOf = (pid: number): number => (pid * 7919) % 2 ** 32;

/**
 * A host for ContainerResolver: CGROUPS by pid, startOf(pid) as the start,
 * and the cgroup ids 4242, 4243, 4244 for the three paths (records carry
 * those, or 0 and 1, so both of the resolver's caches are exercised).
 */
export const FAKE_HOST: HostView = {
  cgroup: (pid) => CGROUPS[pid % 3],
  start: startOf,
  cgroupId: (path) => 4242 + Object.values(CGROUPS).findIndex((text) => text === `0::${path}\n`),
};

const WIDTH: Record<number, (b: Buffer, at: number, rand: (n: number) => number) => void> = {
  1: (b, at, rand) => b.writeUInt8(rand(256), at),
  2: (b, at, rand) => b.writeUInt16LE(rand(65536), at),
  4: (b, at, rand) => b.writeUInt32LE(rand(4) ? rand(100_000) : rand(2 ** 32), at),
  8: (b, at, rand) => b.writeBigUInt64LE(BigInt(rand(2 ** 30)) * BigInt(rand(3) ? 1 : 1 << 20), at),
};

const MEANINGFUL = new Set<string>([
  'kind',
  'family',
  'direction',
  'flags',
  'id',
  'ts_ns',
  'start_ns',
  'pid',
  'cgroup_id',
  'owner_start',
]);

export interface BatchOptions {
  /** Kinds to draw from (default: every kind but listen, close and metrics twice as often). */
  kinds?: readonly number[];
}

/** One random record at `at`. */
export function randomRecord(b: Buffer, at: number, rand: (n: number) => number, opts: BatchOptions = {}): void {
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];
  for (const m of Object.keys(READ) as WireMember[]) if (!MEANINGFUL.has(m)) WIDTH[SIZE[m]](b, at + OFF[m], rand);
  const kind = pick(
    opts.kinds ?? [KIND.connect, KIND.accept, KIND.close, KIND.metrics, KIND.close, KIND.metrics, KIND.existing],
  );
  const preexisting = kind === KIND.existing || rand(8) === 0;
  const big = rand(20) === 0; // past 2^53: left to JavaScript
  b.writeBigUInt64LE(BigInt(rand(1e9) + 1) + (big ? 2n ** 53n : 0n), at + OFF.id);
  const ts = BigInt(1e9 + rand(1e9)) * (rand(10) === 0 ? 10_000_000n : 1n);
  b.writeBigUInt64LE(ts, at + OFF.ts_ns);
  b.writeBigUInt64LE(rand(15) === 0 ? ts + 5n : ts - BigInt(rand(9e8)) - 1n, at + OFF.start_ns);
  const family = rand(2) ? 4 : 6;
  b.fill(0, at + OFF.saddr, at + OFF.daddr + 16);
  if (family === 4) {
    for (const off of [OFF.saddr, OFF.daddr]) for (let i = 0; i < 4; i++) b[at + off + i] = rand(256);
  } else {
    Buffer.from(pick(V6)).copy(b, at + OFF.saddr);
    Buffer.from(rand(3) ? pick(V6) : V6[6]).copy(b, at + OFF.daddr);
  }
  const comm = pick(COMMS);
  b.fill(0, at + OFF.comm, at + OFF.comm + COMM_LEN);
  (typeof comm === 'string' ? Buffer.from(comm, 'latin1') : Buffer.from(comm)).copy(b, at + OFF.comm, 0, COMM_LEN);
  const pid = rand(5) === 0 ? 0 : pick([1, 2, 3, 100, 4_000_000]) + rand(3);
  b.writeUInt32LE(pid, at + OFF.pid);
  // Mostly the live process's start; sometimes another's (the pid was reused since).
  b.writeUInt32LE(rand(10) === 0 ? startOf(pid) + 1 : startOf(pid), at + OFF.owner_start);
  b[at + OFF.kind] = kind;
  b[at + OFF.family] = family;
  b[at + OFF.direction] = preexisting ? (kind === KIND.existing ? DIRECTION.unknown : rand(3)) : 1 + rand(2);
  b[at + OFF.flags] = FLAG.announced | (preexisting ? FLAG.preexisting : 0);
  b.writeBigUInt64LE(BigInt(pick([0, 1, 1, 4242, 4243, 4244])), at + OFF.cgroup_id);
}

export function randomBatch(n: number, rand: (n: number) => number, opts: BatchOptions = {}): Buffer {
  const b = Buffer.alloc(n * RECORD_SIZE);
  for (let i = 0; i < n; i++) randomRecord(b, i * RECORD_SIZE, rand, opts);
  return b;
}

/**
 * A kernel record as a plain object: every number member of the wire layout
 * from `fill` (default 0), so a member added to bpf/nettracer.h needs no
 * change here or in the tests; then the given fields.
 */
export function kernelRecord(
  fields: Partial<KernelRecord>,
  fill: (member: WireMember) => number = () => 0,
): KernelRecord {
  const numbers = Object.fromEntries((Object.keys(READ) as WireMember[]).map((m) => [m, fill(m)])) as WireNumbers;
  return { ...numbers, comm: '', ipFamily: 'ipv4', saddr: '0.0.0.0', daddr: '0.0.0.0', ...fields };
}

/** One kernel record of each number that means something, for tests to vary: a metrics record of an incoming IPv6 connection. */
export const SAMPLE_RECORD: KernelRecord = kernelRecord({
  kind: KIND.metrics,
  id: 7,
  ts_ns: 2_000_000_000,
  start_ns: 1_000_000_000,
  pid: 10,
  flags: FLAG.announced,
  comm: 'svc',
  family: 6,
  ipFamily: 'ipv6',
  saddr: '::1',
  sport: 1000,
  daddr: '::1',
  dport: 2000,
  netns: 4026531840,
  direction: DIRECTION.incoming,
  bytes_sent: 100,
  bytes_received: 50,
  packets_sent: 5,
  packets_received: 4,
  packets_retransmitted: 1,
  rtt_us: 40,
  rtt_var_us: 20,
  cgroup_id: 1,
});

/** A random value that fits a member of this many bytes. */
export function randomOfSize(size: number, rand: (n: number) => number): number {
  return size >= 4 ? rand(2 ** 30) : rand(2 ** (8 * size));
}
