// The native encoder (native/ndjson.cc) and the TypeScript path
// (RecordBuilder through NdjsonSink, itself proven equal to JSON.stringify in
// ndjson.test.ts) write the same bytes for the same kernel records: random
// batches of every kind, family, flag, process name and option, with the
// records the encoder leaves to JavaScript filled in by NativeLines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NdjsonSink } from '../../src/output/ndjson.js';
import { ContainerResolver } from '../../src/tracer/containers.js';
import { RecordView } from '../../src/tracer/decode.js';
import { KIND, OFF, RECORD_SIZE } from '../../src/tracer/layout.js';
import { loadNative } from '../../src/tracer/native.js';
import { NativeLines } from '../../src/tracer/native-lines.js';
import { bootClock, RecordBuilder } from '../../src/tracer/records.js';
import { assertValidLine } from '../helpers/schemas.js';

// mulberry32: a seeded generator whose low bits are as random as its high ones.
let seed = 11;
function rand(n: number): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];

const COMMS: (number[] | string)[] = [
  'curl', 'nginx: worker', 'a"b', 'back\\slash', '', 'sixteen-chars-xx', 'x{}y,z:',
  [0xc3, 0xa9, 0x74, 0xe9], // valid UTF-8 "été"
  [0x66, 0xff, 0x6f], // invalid UTF-8
  [0x74, 0x09, 0x62], // a control character
];

const V6: number[][] = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], // ::1
  [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0xab, 0xcd], // two runs of zeros
  [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], // 2001:db8:0:1::1
  [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1], // single zero groups stay
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // ::
  [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // fd00::
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7], // ::ffff:10.0.0.7 (mapped)
];

const CGROUPS: Record<number, string> = {
  0: '0::/user.slice/user-0.slice/session-1.scope\n',
  1: '0::/system.slice/docker-' + 'ab'.repeat(32) + '.scope\n',
  2: '0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11112222_3333.slice/cri-containerd-' + 'cd'.repeat(32) + '.scope\n',
};

function record(b: Buffer, at: number): void {
  const kind = pick([KIND.connect, KIND.accept, KIND.close, KIND.metrics, KIND.close, KIND.metrics, KIND.existing]);
  const preexisting = kind === KIND.existing || rand(8) === 0;
  const big = rand(20) === 0; // past 2^53: left to JavaScript
  b.writeBigUInt64LE(BigInt(rand(1e9) + 1) + (big ? 2n ** 53n : 0n), at + OFF.id);
  const ts = BigInt(1e9 + rand(1e9)) * (rand(10) === 0 ? 10_000_000n : 1n);
  b.writeBigUInt64LE(ts, at + OFF.ts_ns);
  b.writeBigUInt64LE(rand(15) === 0 ? ts + 5n : ts - BigInt(rand(9e8)) - 1n, at + OFF.start_ns);
  b.writeBigUInt64LE(BigInt(rand(2 ** 30)) * BigInt(rand(3) ? 1 : 1 << 20), at + OFF.bytes_sent);
  b.writeBigUInt64LE(BigInt(rand(2 ** 30)), at + OFF.bytes_received);
  const family = rand(2) ? 4 : 6;
  if (family === 4) {
    for (const off of [OFF.saddr, OFF.daddr]) for (let i = 0; i < 4; i++) b[at + off + i] = rand(256);
  } else {
    Buffer.from(pick(V6)).copy(b, at + OFF.saddr);
    Buffer.from(rand(3) ? pick(V6) : V6[6]).copy(b, at + OFF.daddr);
  }
  const comm = pick(COMMS);
  (typeof comm === 'string' ? Buffer.from(comm, 'latin1') : Buffer.from(comm)).copy(b, at + OFF.comm, 0, 16);
  const pid = rand(5) === 0 ? 0 : pick([1, 2, 3, 100, 4_000_000]) + rand(3);
  b.writeUInt32LE(pid, at + OFF.pid);
  b.writeUInt32LE(4026531840 + rand(100), at + OFF.netns);
  b.writeUInt32LE(rand(4) ? rand(1000) : 0xffffffff, at + OFF.segs_out);
  b.writeUInt32LE(rand(1000), at + OFF.segs_in);
  b.writeUInt32LE(rand(5), at + OFF.total_retrans);
  b.writeUInt32LE(rand(1e6), at + OFF.srtt_us);
  b.writeUInt32LE(rand(1e5), at + OFF.rttvar_us);
  b.writeUInt16LE(rand(65536), at + OFF.sport);
  b.writeUInt16LE(rand(65536), at + OFF.dport);
  b[at + OFF.kind] = kind;
  b[at + OFF.family] = family;
  b[at + OFF.direction] = preexisting ? (kind === KIND.existing ? 0 : rand(3)) : 1 + rand(2);
  b[at + OFF.flags] = 1 | (preexisting ? 4 : 0);
  b.writeBigUInt64LE(BigInt(pick([0, 1, 1, 4242, 4243, 4244])), at + OFF.cgroup_id);
}

function batch(n: number): Buffer {
  const b = Buffer.alloc(n * RECORD_SIZE);
  for (let i = 0; i < n; i++) record(b, i * RECORD_SIZE);
  return b;
}

const offset = 1.7e12 + 0.123456;
// PIDs and cgroups spread over the three cgroup files, the same for both paths.
const resolver = (): ContainerResolver => new ContainerResolver((pid) => CGROUPS[pid % 3]);
const builder = (incremental: boolean, headerSize: boolean): RecordBuilder =>
  new RecordBuilder(bootClock(offset), incremental, resolver(), headerSize);

describe('native NDJSON encoder', () => {
  const native = loadNative();

  for (const incremental of [false, true]) {
    for (const headerSize of [false, true]) {
      it(`writes what the TypeScript path writes (incremental ${incremental}, -s ${headerSize})`, () => {
        const js = builder(incremental, headerSize);
        const nb = builder(incremental, headerSize);
        const encoder = new native.NdjsonEncoder({ bootToRealtimeMs: offset, headerSize, incremental });
        let holes = 0;
        const lines = new NativeLines(
          {
            encodeInto: (b, first, target, at) => {
              const r = encoder.encodeInto(b, first, target, at);
              if (r[2] === 1 || r[2] === 3) holes++;
              return r;
            },
            configure: (o) => encoder.configure(o),
            container: (c, p, f) => encoder.container(c, p, f),
          },
          nb,
        );
        const expected = new NdjsonSink();
        const actual = new NdjsonSink();
        const view = new RecordView();
        let records = 0;
        for (let round = 0; round < 40; round++) {
          const b = batch(1 + rand(300));
          const n = view.batch(b);
          records += n;
          for (let i = 0; i < n; i++) js.write(view.at(i), expected);
          lines.deliver(b, new RecordView(), actual);
        }
        const want = expected.take().toString('utf8');
        const got = actual.take().toString('utf8');
        const w = want.split('\n');
        const g = got.split('\n');
        for (let i = 0; i < Math.max(w.length, g.length); i++) assert.equal(g[i], w[i], `line ${i + 1}`);
        for (const l of g.slice(0, -1).filter((_, i) => i % 50 === 0)) assertValidLine(l);
        // Not a test that passes by leaving everything to JavaScript.
        assert.ok(holes < records * (incremental ? 0.9 : 0.7), `${holes} of ${records} records left to JavaScript`);
      });
    }
  }

  it('writes timestamps as Date#toISOString does, across leap days and centuries', () => {
    const b = batch(1);
    b[OFF.kind] = KIND.connect;
    b[OFF.flags] = 1;
    b[OFF.direction] = 1;
    b.writeBigUInt64LE(1n, OFF.id);
    b.writeBigUInt64LE(7n, OFF.cgroup_id);
    b.fill(0, OFF.comm, OFF.comm + 16);
    b.writeBigUInt64LE(1_000_000n, OFF.ts_ns); // 1 ms after boot
    const target = new Uint8Array(4096);
    const dates = ['1970-01-01T00:00:00.000Z', '1999-12-31T23:59:59.999Z', '2000-02-29T12:00:00.000Z', '2024-02-29T23:59:59.998Z', '2100-03-01T00:00:00.000Z', '2399-12-31T23:59:59.999Z'];
    const instants = [...dates.map((d) => Date.parse(d)), ...Array.from({ length: 2000 }, () => rand(2 ** 31) * 2000 + rand(1000))];
    for (const ms of instants) {
      const encoder = new native.NdjsonEncoder({ bootToRealtimeMs: ms - 1, headerSize: false, incremental: false });
      encoder.container(7, 0, '');
      const [, bytes] = encoder.encodeInto(b, 0, target, 0);
      const line = JSON.parse(Buffer.from(target.subarray(0, bytes)).toString()) as { timestamp: string };
      assert.equal(line.timestamp, new Date(ms).toISOString());
    }
  });

  it('ordinary records need no JavaScript once the owner is known', () => {
    const b = batch(2000);
    for (let at = 0; at < b.length; at += RECORD_SIZE) {
      b[at + OFF.kind] = [KIND.connect, KIND.accept, KIND.metrics, KIND.close][rand(4)];
      b[at + OFF.flags] = 1;
      b[at + OFF.direction] = 1 + rand(2);
      b.writeBigUInt64LE(BigInt(rand(1e9) + 1), at + OFF.id);
      b.writeBigUInt64LE(7n, at + OFF.cgroup_id);
      b.fill(0, at + OFF.comm, at + OFF.comm + 16);
      b.write('curl', at + OFF.comm, 'latin1');
      b.writeBigUInt64LE(b.readBigUInt64LE(at + OFF.ts_ns) - 1000n, at + OFF.start_ns);
    }
    const encoder = new native.NdjsonEncoder({ bootToRealtimeMs: offset, headerSize: false, incremental: false });
    const target = new Uint8Array(2000 * 1024);
    assert.deepEqual(encoder.encodeInto(b, 0, target, 0), [0, 0, 3], 'an unknown owner: left to JavaScript, which is to say who it is');
    encoder.container(7, 0, '');
    const [next, bytes, stop] = encoder.encodeInto(b, 0, target, 0);
    assert.deepEqual([next, stop], [2000, 0]);
    assert.equal(Buffer.from(target.subarray(0, bytes)).toString().split('\n').length, 2001);
    // A full target stops the encoder between two whole lines.
    const small = new Uint8Array(64 * 1024);
    const [n2, b2, s2] = encoder.encodeInto(b, 0, small, 1000);
    assert.equal(s2, 2);
    assert.ok(n2 > 0 && n2 < 2000);
    assert.equal(Buffer.from(small.subarray(1000, 1000 + b2)).toString().split('\n').length, n2 + 1);
  });
});
