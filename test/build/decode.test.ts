// Decoding kernel records: a record written at the offsets of the wire
// layout (src/generated/wire.ts, generated from bpf/nettracer.h and checked
// by test/build/generated.test.ts) decodes to what was written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIRECTION, KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import { decodeRecords, RecordView } from '../../src/tracer/decode.js';

describe('kernel records', () => {
  it('a record written at the layout offsets decodes to what was written', () => {
    const b = Buffer.alloc(RECORD_SIZE * 2);
    const at = RECORD_SIZE; // second record of a batch
    b.writeBigUInt64LE(123456789012n, at + OFF.id);
    b.writeBigUInt64LE(5_000_000_000n, at + OFF.ts_ns);
    b.writeBigUInt64LE(4_000_000_000n, at + OFF.start_ns);
    b.writeBigUInt64LE(2n ** 40n + 7n, at + OFF.bytes_sent);
    b.writeBigUInt64LE(99n, at + OFF.bytes_received);
    Buffer.from([10, 0, 0, 1]).copy(b, at + OFF.saddr);
    Buffer.from([192, 168, 7, 200]).copy(b, at + OFF.daddr);
    b.write('curl', at + OFF.comm, 'latin1');
    b.writeUInt32LE(4242, at + OFF.pid);
    b.writeUInt32LE(4026531840, at + OFF.netns);
    b.writeUInt32LE(11, at + OFF.packets_sent);
    b.writeUInt32LE(12, at + OFF.packets_received);
    b.writeUInt32LE(3, at + OFF.packets_retransmitted);
    b.writeUInt32LE(250, at + OFF.rtt_us);
    b.writeUInt32LE(125, at + OFF.rtt_var_us);
    b.writeBigUInt64LE(77n, at + OFF.cgroup_id);
    b.writeUInt16LE(51234, at + OFF.sport);
    b.writeUInt16LE(443, at + OFF.dport);
    b.writeUInt8(KIND.close, at + OFF.kind);
    b.writeUInt8(4, at + OFF.family);
    b.writeUInt8(DIRECTION.outgoing, at + OFF.direction);
    b.writeUInt8(KIND.connect, OFF.kind); // first record: a connect, otherwise zero
    b.writeUInt8(4, OFF.family);
    const [first, r] = decodeRecords(b);
    assert.equal(first.kind, KIND.connect);
    assert.deepEqual(r, {
      comm: 'curl',
      ipFamily: 'ipv4',
      saddr: '10.0.0.1',
      daddr: '192.168.7.200',
      id: 123456789012,
      ts_ns: 5_000_000_000,
      start_ns: 4_000_000_000,
      bytes_sent: 2 ** 40 + 7,
      bytes_received: 99,
      pid: 4242,
      netns: 4026531840,
      packets_sent: 11,
      packets_received: 12,
      packets_retransmitted: 3,
      rtt_us: 250,
      rtt_var_us: 125,
      sport: 51234,
      dport: 443,
      kind: KIND.close,
      family: 4,
      direction: DIRECTION.outgoing,
      flags: 0,
      cgroup_id: 77,
    });
  });

  it('IPv6 between IPv4-mapped addresses is shown as IPv4', () => {
    const b = Buffer.alloc(RECORD_SIZE);
    b[OFF.kind] = KIND.connect;
    b[OFF.family] = 6;
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7]).copy(b, OFF.saddr);
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 8]).copy(b, OFF.daddr);
    const v = new RecordView();
    v.batch(b);
    v.at(0);
    assert.deepEqual([v.ipFamily, v.saddr, v.daddr, v.family], ['ipv4', '10.0.0.7', '10.0.0.8', 6]);
  });

  it('a batch that is not whole records, or an unknown kind, is refused', () => {
    assert.throws(() => decodeRecords(Buffer.alloc(RECORD_SIZE + 1)), /not a multiple/);
    assert.throws(() => decodeRecords(Buffer.alloc(RECORD_SIZE)), /unknown record kind 0/);
  });
});
