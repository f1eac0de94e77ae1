// The native encoder (native/ndjson.cc) and the TypeScript encoder
// (RecordBuilder through NdjsonSink, itself proven equal to JSON.stringify in
// test/unit/ndjson.test.ts) write the same bytes for the same kernel
// records: random batches of every kind, family, flag, process name and
// option, through NdjsonWriter with and without its native fast path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NdjsonWriter } from '../../src/encode/ndjson-writer.js';
import { KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import { ContainerResolver } from '../../src/tracer/containers.js';
import { loadNative } from '../../src/tracer/native.js';
import { FAKE_HOST, randomBatch, seeded } from '../helpers/kernel-batch.js';
import { assertValidLine } from '../helpers/schemas.js';

const rand = seeded(11);
const offset = 1.7e12 + 0.123456;
// PIDs and cgroups spread over the three cgroup files, the same for both paths.
const containers = (): ContainerResolver => new ContainerResolver(FAKE_HOST);

describe('native NDJSON encoder', () => {
  const native = loadNative();

  for (const incremental of [false, true]) {
    for (const headerSize of [false, true]) {
      it(`writes what the TypeScript encoder writes (incremental ${incremental}, -s ${headerSize})`, () => {
        const options = { incremental, headerSize };
        const js = new NdjsonWriter(options, { native: false, bootToRealtimeMs: offset, containers: containers() });
        const fast = new NdjsonWriter(options, { bootToRealtimeMs: offset, containers: containers() });
        let records = 0;
        let jsLines = '';
        let fastLines = '';
        for (let round = 0; round < 40; round++) {
          const b = randomBatch(1 + rand(300), rand);
          records += b.length / RECORD_SIZE;
          js.kernel(b);
          fast.kernel(b);
          // Batches: the sinks' buffers are reused between takes.
          jsLines += js.take().toString('utf8');
          fastLines += fast.take().toString('utf8');
        }
        const w = jsLines.split('\n');
        const g = fastLines.split('\n');
        for (let i = 0; i < Math.max(w.length, g.length); i++) assert.equal(g[i], w[i], `line ${i + 1}`);
        for (const l of g.slice(0, -1).filter((_, i) => i % 50 === 0)) assertValidLine(l);
        assert.equal(g.length - 1, records, 'a line per record');
      });
    }
  }

  it("the kernel's 32-bit counters around their wrap: the same bytes, and deltas that count on across it", () => {
    // One connection's metrics records, then its close: packets_sent goes
    // through 2^32 between the second and the third.
    const W = 2 ** 32;
    const readings = [W - 100, W - 1, 30, 500];
    const b = Buffer.alloc(readings.length * RECORD_SIZE);
    readings.forEach((packets, i) => {
      const at = i * RECORD_SIZE;
      b[at + OFF.kind] = i === readings.length - 1 ? KIND.close : KIND.metrics;
      b[at + OFF.family] = 4;
      b[at + OFF.direction] = 1;
      b[at + OFF.flags] = 1;
      b.writeBigUInt64LE(42n, at + OFF.id);
      b.writeBigUInt64LE(BigInt(2e9 + i * 1e9), at + OFF.ts_ns);
      b.writeBigUInt64LE(1_000_000_000n, at + OFF.start_ns);
      b.write('svc', at + OFF.comm, 'latin1');
      b.writeBigUInt64LE(BigInt(1e12 + i * 1448), at + OFF.bytes_sent);
      b.writeUInt32LE(packets, at + OFF.packets_sent);
      b.writeUInt32LE((W - 2 + i) % W, at + OFF.packets_received);
      b.writeUInt32LE((W - 1 + 2 * i) % W, at + OFF.packets_retransmitted);
    });
    for (const incremental of [false, true]) {
      for (const headerSize of [false, true]) {
        const options = { incremental, headerSize };
        const js = new NdjsonWriter(options, { native: false, bootToRealtimeMs: offset, containers: containers() });
        const fast = new NdjsonWriter(options, { bootToRealtimeMs: offset, containers: containers() });
        js.kernel(b);
        fast.kernel(b);
        const jsLines = js.take().toString('utf8');
        assert.equal(fast.take().toString('utf8'), jsLines, `incremental ${incremental}, -s ${headerSize}`);
        const recs = jsLines
          .trimEnd()
          .split('\n')
          .map((l) => assertValidLine(l));
        const hdr = headerSize ? 66 : 0;
        const sent = recs.map((r) => [r.packets_sent, r.packets_received, r.packets_retransmitted, r.bytes_sent]);
        if (incremental) {
          assert.deepEqual(sent.slice(0, 3), [
            [W - 100, W - 2, W - 1, 1e12 + hdr * (W - 100)],
            [99, 1, 2, 1448 + hdr * 99],
            [31, 1, 2, 1448 + hdr * 31],
          ]);
        } else {
          assert.deepEqual(
            sent.slice(0, 3).map((x) => x[0]),
            [W - 100, W - 1, 30],
            "totals are the kernel's own counts",
          );
        }
        assert.deepEqual(sent[3].slice(0, 3), [500, 1, 5], 'close: totals');
      }
    }
  });

  it('writes timestamps as Date#toISOString does, across leap days and centuries', () => {
    const b = randomBatch(1, rand, { kinds: [KIND.connect] });
    b[OFF.flags] = 1;
    b[OFF.direction] = 1;
    b.writeBigUInt64LE(1n, OFF.id);
    b.writeBigUInt64LE(7n, OFF.cgroup_id);
    b.fill(0, OFF.comm, OFF.comm + 16);
    b.writeBigUInt64LE(1_000_000n, OFF.ts_ns); // 1 ms after boot
    const target = new Uint8Array(4096);
    const dates = [
      '1970-01-01T00:00:00.000Z',
      '1999-12-31T23:59:59.999Z',
      '2000-02-29T12:00:00.000Z',
      '2024-02-29T23:59:59.998Z',
      '2100-03-01T00:00:00.000Z',
      '2399-12-31T23:59:59.999Z',
    ];
    const instants = [
      ...dates.map((d) => Date.parse(d)),
      ...Array.from({ length: 2000 }, () => rand(2 ** 31) * 2000 + rand(1000)),
    ];
    for (const ms of instants) {
      const encoder = new native.NdjsonEncoder({
        bootToRealtimeMs: ms - 1,
        headerBytesIpv4: 0,
        headerBytesIpv6: 0,
        incremental: false,
        containerCacheMax: 10,
      });
      encoder.container(7, 0, 0, '');
      const [, bytes] = encoder.encodeInto(b, 0, target, 0);
      const line = JSON.parse(Buffer.from(target.subarray(0, bytes)).toString()) as { timestamp: string };
      assert.equal(line.timestamp, new Date(ms).toISOString());
    }
  });

  it('ordinary records need no JavaScript once the owner is known; a full target stops between lines', () => {
    const b = randomBatch(2000, rand, { kinds: [KIND.connect, KIND.accept, KIND.metrics, KIND.close] });
    for (let at = 0; at < b.length; at += RECORD_SIZE) {
      b[at + OFF.flags] = 1;
      b[at + OFF.direction] = 1 + rand(2);
      b.writeBigUInt64LE(BigInt(rand(1e9) + 1), at + OFF.id);
      b.writeBigUInt64LE(7n, at + OFF.cgroup_id);
      b.fill(0, at + OFF.comm, at + OFF.comm + 16);
      b.write('curl', at + OFF.comm, 'latin1');
      b.writeBigUInt64LE(b.readBigUInt64LE(at + OFF.ts_ns) - 1000n, at + OFF.start_ns);
      b.writeUInt16LE(0, at + OFF.sk_err); // a socket error's name is JavaScript's
    }
    const stops = native.encodeStops;
    const encoder = new native.NdjsonEncoder({
      bootToRealtimeMs: offset,
      headerBytesIpv4: 0,
      headerBytesIpv6: 0,
      incremental: false,
      containerCacheMax: 10,
    });
    const target = new Uint8Array(2000 * 1024);
    assert.deepEqual(
      encoder.encodeInto(b, 0, target, 0),
      [0, 0, stops.owner],
      'an unknown owner: left to JavaScript, which is to say who it is',
    );
    encoder.container(7, 0, 0, '');
    const [next, bytes, stop] = encoder.encodeInto(b, 0, target, 0);
    assert.deepEqual([next, stop], [2000, stops.end]);
    assert.equal(Buffer.from(target.subarray(0, bytes)).toString().split('\n').length, 2001);
    const small = new Uint8Array(64 * 1024);
    const [n2, b2, s2] = encoder.encodeInto(b, 0, small, 1000);
    assert.equal(s2, stops.room);
    assert.ok(n2 > 0 && n2 < 2000);
    assert.equal(
      Buffer.from(small.subarray(1000, 1000 + b2))
        .toString()
        .split('\n').length,
      n2 + 1,
    );
  });

  it('keeps at most containerCacheMax owners, then starts again', () => {
    const b = randomBatch(1, rand, { kinds: [KIND.connect] });
    b[OFF.flags] = 1;
    b[OFF.direction] = 1;
    b.writeBigUInt64LE(1n, OFF.id);
    b.fill(0, OFF.comm, OFF.comm + 16);
    b.writeBigUInt64LE(5n, OFF.cgroup_id);
    const encoder = new native.NdjsonEncoder({
      bootToRealtimeMs: offset,
      headerBytesIpv4: 0,
      headerBytesIpv6: 0,
      incremental: false,
      containerCacheMax: 3,
    });
    const target = new Uint8Array(4096);
    encoder.container(5, 0, 0, '');
    assert.equal(encoder.encodeInto(b, 0, target, 0)[2], native.encodeStops.end);
    for (const c of [6, 7, 8]) encoder.container(c, 0, 0, ''); // the fourth owner clears the cache
    assert.equal(encoder.encodeInto(b, 0, target, 0)[2], native.encodeStops.owner);
  });
});
