// MetricsRates: the in-memory table a live view refreshes from, fed with
// walk output as the kernel writes it (records at the offsets of the wire
// layout): deltas between walks, 32-bit packet counters across their wrap,
// connections that closed dropped, other records handed back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import { MetricsRates } from '../../src/tracer/rates.js';

interface Reading {
  id: number;
  kind?: number;
  ts: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  retrans?: number;
}

function batch(readings: Reading[]): Buffer {
  const b = Buffer.alloc(readings.length * RECORD_SIZE);
  readings.forEach((r, i) => {
    const at = i * RECORD_SIZE;
    b.writeBigUInt64LE(BigInt(r.id), at + OFF.id);
    b.writeBigUInt64LE(BigInt(r.ts), at + OFF.ts_ns);
    b.writeBigUInt64LE(BigInt(r.bytesSent), at + OFF.bytes_sent);
    b.writeBigUInt64LE(BigInt(r.bytesReceived), at + OFF.bytes_received);
    b.writeUInt32LE(r.packetsSent, at + OFF.packets_sent);
    b.writeUInt32LE(r.retrans ?? 0, at + OFF.packets_retransmitted);
    b.writeUInt32LE(1000 + r.id, at + OFF.pid);
    b.writeUInt16LE(40000 + r.id, at + OFF.sport);
    b.writeUInt16LE(80, at + OFF.dport);
    Buffer.from([10, 0, 0, r.id]).copy(b, at + OFF.saddr);
    Buffer.from([10, 0, 0, 200]).copy(b, at + OFF.daddr);
    Buffer.from('curl').copy(b, at + OFF.comm);
    b[at + OFF.family] = 4;
    b[at + OFF.kind] = r.kind ?? KIND.metrics;
  });
  return b;
}

function sample(rates: MetricsRates, ...chunks: Reading[][]): number[][] {
  rates.begin();
  const others = chunks.map((c) => rates.add(batch(c)));
  rates.end();
  return others;
}

describe('MetricsRates', () => {
  it('the change of each counter between two walks, over the time between them', () => {
    const rates = new MetricsRates();
    sample(rates, [
      { id: 1, ts: 1e9, bytesSent: 100, bytesReceived: 5, packetsSent: 10 },
      { id: 2, ts: 1e9, bytesSent: 0, bytesReceived: 0, packetsSent: 1 },
    ]);
    const first = rates.connections.get(1);
    assert.ok(first);
    assert.equal(first.dBytesSent, 0, 'nothing to compare with on its first walk');
    assert.equal(first.dtNs, 0);
    assert.equal(first.saddr, '10.0.0.1');
    assert.equal(first.comm, 'curl');
    assert.equal(first.sport, 40001);
    // In two chunks, as a walk hands them over.
    sample(
      rates,
      [{ id: 1, ts: 2.5e9, bytesSent: 1100, bytesReceived: 7, packetsSent: 2 ** 32 - 1, retrans: 3 }],
      [{ id: 2, ts: 2.5e9, bytesSent: 0, bytesReceived: 0, packetsSent: 1 }],
    );
    const one = rates.connections.get(1);
    assert.equal(one, first, 'the same entry, updated in place');
    assert.equal(one.dBytesSent, 1000);
    assert.equal(one.dBytesReceived, 2);
    assert.equal(one.dPacketsSent, 2 ** 32 - 11);
    assert.equal(one.dPacketsRetransmitted, 3);
    assert.equal(one.dtNs, 1.5e9);
    assert.equal(rates.connections.get(2)?.dBytesSent, 0);
    // The 32-bit packet counter wraps: 2^32 - 1 -> 4 is 5 packets.
    sample(rates, [{ id: 1, ts: 3.5e9, bytesSent: 1100, bytesReceived: 7, packetsSent: 4, retrans: 3 }]);
    assert.equal(rates.connections.get(1)?.dPacketsSent, 5);
    assert.equal(rates.connections.get(1)?.dPacketsRetransmitted, 0);
  });

  it('a connection the walk no longer reports is gone; other records are handed back', () => {
    const rates = new MetricsRates();
    sample(rates, [
      { id: 1, ts: 1, bytesSent: 0, bytesReceived: 0, packetsSent: 0 },
      { id: 2, ts: 1, bytesSent: 0, bytesReceived: 0, packetsSent: 0 },
    ]);
    const [others] = sample(rates, [
      { id: 3, kind: KIND.accept, ts: 2, bytesSent: 0, bytesReceived: 0, packetsSent: 0 },
      { id: 2, ts: 2, bytesSent: 9, bytesReceived: 0, packetsSent: 1 },
      { id: 3, ts: 2, bytesSent: 0, bytesReceived: 0, packetsSent: 1 },
    ]);
    assert.deepEqual(others, [0], 'the accept record, by its index in the chunk');
    assert.deepEqual([...rates.connections.keys()].sort(), [2, 3]);
    assert.equal(rates.connections.get(2)?.dBytesSent, 9);
    assert.equal(rates.walks, 2);
  });
});
