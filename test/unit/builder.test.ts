// Record building: deltas, durations, timestamps, header sizes, connections
// found at start, and that what the builder makes is valid against the
// published schemas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootClock, RecordBuilder } from '../../src/encode/builder.js';
import type { ConnectionRecord } from '../../src/generated/records.js';
import { DIRECTION, FLAG, KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import type { KernelRecord } from '../../src/tracer/decode.js';
import { SAMPLE_RECORD } from '../helpers/kernel-batch.js';
import { assertValidLine } from '../helpers/schemas.js';

const base = SAMPLE_RECORD;

const clock = bootClock(1_700_000_000_000 - 1000); // boot 1 s before 2023-11-14T22:13:20Z
const options = (over: Partial<{ incremental: boolean; headerSize: boolean }> = {}) => ({
  incremental: false,
  headerSize: false,
  ...over,
});

function build(b: RecordBuilder, k: KernelRecord): ConnectionRecord & Record<string, unknown> {
  const r = b.build(k);
  assert.ok(r, 'a record');
  return r as ConnectionRecord & Record<string, unknown>;
}

describe('record building', () => {
  it('timestamps: CLOCK_BOOTTIME ns plus the boot offset, RFC 3339 UTC', () => {
    assert.equal(clock(1_000_000_000), '2023-11-14T22:13:20.000Z');
    assert.equal(clock(1_500_000_000), '2023-11-14T22:13:20.500Z');
  });

  it('totals by default; deltas per connection with --incremental, forgotten at close', () => {
    const totals = new RecordBuilder(clock, options());
    const inc = new RecordBuilder(clock, options({ incremental: true }));
    const second = {
      ...base,
      bytes_sent: 160,
      bytes_received: 50,
      packets_sent: 9,
      packets_received: 6,
      packets_retransmitted: 1,
    };
    assert.equal(build(totals, second).bytes_sent, 160);
    const a = build(inc, base);
    const b = build(inc, second);
    assert.deepEqual([a.bytes_sent, a.packets_sent, a.incremental], [100, 5, true]);
    assert.deepEqual(
      [b.bytes_sent, b.bytes_received, b.packets_sent, b.packets_received, b.packets_retransmitted],
      [60, 0, 4, 2, 0],
    );
    assert.equal(b.rtt_us, 40, 'RTT is a level, never a delta');
    const close = build(inc, { ...second, kind: KIND.close, ts_ns: 3_500_250_000 });
    assert.equal(close.bytes_sent, 160, 'close carries totals');
    assert.equal(close.duration_ms, 2500.25);
    // After close the id is forgotten: a reused id starts from zero again.
    assert.equal(build(inc, base).bytes_sent, 100);
  });

  it('a delta never goes negative', () => {
    const inc = new RecordBuilder(clock, options({ incremental: true }));
    build(inc, base);
    assert.equal(build(inc, { ...base, bytes_sent: 1 }).bytes_sent, 0);
  });

  it("deltas of the kernel's 32-bit counters count on across their wrap, also in --header-size bytes", () => {
    const W = 2 ** 32;
    for (const headerSize of [false, true]) {
      const inc = new RecordBuilder(clock, options({ incremental: true, headerSize }));
      const hdr = headerSize ? 77 : 0;
      const before = {
        ...base,
        bytes_sent: 5e12,
        bytes_received: 6e12,
        packets_sent: W - 10,
        packets_received: W - 1,
        packets_retransmitted: W - 3,
      };
      build(inc, before);
      // 25 segments sent, 1 received, 7 retransmitted later: the counters went through 2^32.
      const after = build(inc, {
        ...before,
        bytes_sent: 5e12 + 1000,
        bytes_received: 6e12 + 10,
        packets_sent: 15,
        packets_received: 0,
        packets_retransmitted: 4,
      });
      assert.deepEqual(
        [after.packets_sent, after.packets_received, after.packets_retransmitted],
        [25, 1, 7],
        `-s ${headerSize}`,
      );
      assert.deepEqual([after.bytes_sent, after.bytes_received], [1000 + hdr * 25, 10 + hdr * 1], `-s ${headerSize}`);
      // Just short of a wrap is growth too, not a counter gone backwards.
      const next = build(inc, { ...before, packets_sent: W - 1, bytes_sent: 5e12 + 1000, bytes_received: 6e12 + 10 });
      assert.equal(next.packets_sent, W - 1 - 15);
    }
  });

  it('--header-size adds 66 bytes per IPv4 packet and 77 per IPv6 packet', () => {
    const b = new RecordBuilder(clock, options({ headerSize: true }));
    const v6 = build(b, base);
    assert.deepEqual([v6.bytes_sent, v6.bytes_received], [100 + 77 * 5, 50 + 77 * 4]);
    const v4 = build(b, { ...base, id: 8, family: 4, ipFamily: 'ipv4', saddr: '10.0.0.1', daddr: '10.0.0.2' });
    assert.deepEqual([v4.bytes_sent, v4.bytes_received], [100 + 66 * 5, 50 + 66 * 4]);
  });

  it('every kind the builder makes validates against its schema', () => {
    const b = new RecordBuilder(clock, options());
    for (const kind of [KIND.connect, KIND.accept, KIND.metrics, KIND.close]) {
      assertValidLine(JSON.stringify(b.build({ ...base, kind })));
    }
  });
});

describe('connections found open at start', () => {
  it('incoming when a listener has the local port in the same namespace; the SYN leaves outgoing byte counts', () => {
    const b = new RecordBuilder(clock, options());
    const found = (over: Partial<KernelRecord>): KernelRecord => ({
      ...base,
      kind: KIND.existing,
      flags: FLAG.announced | FLAG.preexisting,
      direction: DIRECTION.unknown,
      ...over,
    });
    const listener = Buffer.alloc(RECORD_SIZE);
    listener[OFF.kind] = KIND.listen;
    listener[OFF.family] = 4;
    listener.writeUInt16LE(8080, OFF.sport);
    listener.writeUInt32LE(1, OFF.netns);
    b.noteListeners(listener);
    const recs = [
      found({ id: 1, sport: 8080, netns: 1, bytes_sent: 10 }), // accepted from the listener
      found({ id: 2, sport: 8080, netns: 2, bytes_sent: 10 }), // same port, other namespace: outgoing
      found({ id: 3, sport: 40000, netns: 1, bytes_sent: 10 }), // outgoing
    ].map((k) => build(b, k));
    assert.deepEqual(
      recs.map((r) => [r.type, r.id, r.direction, r.bytes_sent]),
      [
        ['existing', 1, 'incoming', 10],
        ['existing', 2, 'outgoing', 9],
        ['existing', 3, 'outgoing', 9],
      ],
    );
    const close = build(b, {
      ...base,
      kind: KIND.close,
      id: 3,
      flags: FLAG.announced | FLAG.preexisting,
      direction: DIRECTION.unknown,
      bytes_sent: 110,
    });
    assert.equal(close.direction, 'outgoing', 'later records keep the direction');
    assert.equal(close.bytes_sent, 109);
  });

  it('listeners themselves are not records', () => {
    assert.equal(new RecordBuilder(clock, options()).build({ ...base, kind: KIND.listen }), undefined);
  });
});

describe('the boot clock', () => {
  it('writes what Date.toISOString() writes, for instants in any order', () => {
    const c = bootClock(0);
    const ms = [
      0, 1, 999, 1000, 59_999, 60_000, 60_001, 1_700_000_000_123, 1_700_000_059_999, 1_700_000_000_000, -1, -60_001,
      -62_167_219_200_000, 253_402_300_799_999, 253_402_300_800_000, 8.64e15,
    ];
    // Alternating, as a close record's two instants are, then each once more.
    for (const m of [...ms, ...ms.reverse()]) {
      const ns = m * 1e6; // inexact past 2^53: the clock reads the ms it is given
      assert.equal(c(ns), new Date(Math.floor(ns / 1e6)).toISOString(), `at ${m} ms`);
    }
    const near = bootClock(1_700_000_000_000);
    for (let ns = 0; ns < 3e9; ns += 7_777_777)
      assert.equal(near(ns), new Date(Math.floor(ns / 1e6 + 1_700_000_000_000)).toISOString());
  });
});
