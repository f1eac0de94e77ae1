// LiveRates as the session's MetricsSampler: a live view's rates read in
// place from walk output as the kernel writes it (records at the offsets of
// the wire layout), one lookup per connection: growth between walks, 32-bit
// packet counters across their wrap, a connection first met in a walk decoded
// once (its text by the addon), one the walk no longer sees left out, other
// records handed back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIRECTION, KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import { LiveRates } from '../../src/summary/rates.js';

interface Reading {
  id: number;
  kind?: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  retrans?: number;
  rtt?: number;
}

function batch(readings: Reading[]): Buffer {
  const b = Buffer.alloc(readings.length * RECORD_SIZE);
  readings.forEach((r, i) => {
    const at = i * RECORD_SIZE;
    b.writeBigUInt64LE(BigInt(r.id), at + OFF.id);
    b.writeBigUInt64LE(BigInt(r.bytesSent), at + OFF.bytes_sent);
    b.writeBigUInt64LE(BigInt(r.bytesReceived), at + OFF.bytes_received);
    b.writeUInt32LE(r.packetsSent, at + OFF.packets_sent);
    b.writeUInt32LE(r.retrans ?? 0, at + OFF.packets_retransmitted);
    b.writeUInt32LE(r.rtt ?? 0, at + OFF.rtt_us);
    b.writeUInt32LE(1000 + r.id, at + OFF.pid);
    b.writeUInt16LE(40000 + r.id, at + OFF.sport);
    b.writeUInt16LE(80, at + OFF.dport);
    Buffer.from([10, 0, 0, r.id]).copy(b, at + OFF.saddr);
    Buffer.from([10, 0, 0, 200]).copy(b, at + OFF.daddr);
    Buffer.from('curl').copy(b, at + OFF.comm);
    b[at + OFF.family] = 4;
    b[at + OFF.direction] = DIRECTION.outgoing;
    b[at + OFF.kind] = r.kind ?? KIND.metrics;
  });
  return b;
}

/** A walk in these chunks; the indexes each chunk handed back. */
function walk(rates: LiveRates, ...chunks: Reading[][]): number[][] {
  rates.begin();
  const others = chunks.map((c) => rates.add(batch(c)));
  rates.end();
  return others;
}

describe('LiveRates fed walk chunks', () => {
  it('the growth of each counter between walks, over the time between samples', () => {
    const rates = new LiveRates();
    rates.start(0);
    walk(rates, [
      { id: 1, bytesSent: 100, bytesReceived: 5, packetsSent: 10, rtt: 250 },
      { id: 2, bytesSent: 0, bytesReceived: 0, packetsSent: 1 },
    ]);
    const s1 = rates.sample(1000);
    const first = s1.connections.find((c) => c.id === 1);
    assert.ok(first);
    assert.deepEqual(
      [first.txRate, first.bytes, first.saddr, first.daddr, first.sport, first.comm, first.pid, first.rttUs],
      [0, 0, '10.0.0.1', '10.0.0.200', 40001, 'curl', 1001, 250],
      'decoded once; nothing to compare with on its first walk',
    );
    // In two chunks, as a walk hands them over.
    walk(
      rates,
      [{ id: 1, bytesSent: 1100, bytesReceived: 7, packetsSent: 2 ** 32 - 1, retrans: 3 }],
      [{ id: 2, bytesSent: 0, bytesReceived: 0, packetsSent: 1 }],
    );
    const s2 = rates.sample(3000);
    const one = s2.connections.find((c) => c.id === 1);
    assert.equal(one, first, 'the same object, updated in place');
    assert.deepEqual(
      [one.txRate, one.rxRate, one.bytes, one.periodPktsTx, one.periodRetr, one.rttUs],
      [500, 1, 1002, 2 ** 32 - 11, 3, 250],
    );
    assert.deepEqual([s2.totals.open, s2.totals.txRate, s2.totals.retr], [2, 500, 3]);
    // The 32-bit packet counter wraps: 2^32 - 1 -> 4 is 5 packets.
    walk(rates, [{ id: 1, bytesSent: 1100, bytesReceived: 7, packetsSent: 4, retrans: 3 }]);
    const [again] = rates.sample(4000).connections;
    assert.deepEqual([again.periodPktsTx, again.periodRetr, again.txRate], [5, 0, 0]);
  });

  it('a connection the walk no longer reports is left out, then forgotten; other records are handed back', () => {
    const rates = new LiveRates();
    rates.start(0);
    walk(rates, [
      { id: 1, bytesSent: 0, bytesReceived: 0, packetsSent: 0 },
      { id: 2, bytesSent: 0, bytesReceived: 0, packetsSent: 0 },
    ]);
    rates.sample(1000);
    const [others] = walk(rates, [
      { id: 3, kind: KIND.accept, bytesSent: 0, bytesReceived: 0, packetsSent: 0 },
      { id: 2, bytesSent: 9, bytesReceived: 0, packetsSent: 1 },
      { id: 3, bytesSent: 0, bytesReceived: 0, packetsSent: 1 },
    ]);
    assert.deepEqual(others, [0], 'the accept record, by its index in the chunk');
    const s = rates.sample(2000);
    assert.deepEqual(s.connections.map((c) => [c.id, c.txRate]).sort(), [
      [2, 9],
      [3, 0],
    ]);
    assert.equal(rates.size, 3, 'one walk missed: its close may still come');
    walk(rates, [{ id: 2, bytesSent: 9, bytesReceived: 0, packetsSent: 1 }]);
    walk(rates, [{ id: 2, bytesSent: 9, bytesReceived: 0, packetsSent: 1 }]);
    rates.sample(3000);
    assert.equal(rates.size, 1);
  });
});
