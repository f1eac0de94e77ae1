// Decoding kernel records: a record written at the offsets of the wire
// layout (src/generated/wire.ts, generated from bpf/nettracer.h and checked
// by test/build/generated.test.ts) decodes to what was written, for every
// member the header has.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIRECTION, KIND, OFF, READ, RECORD_SIZE, SIZE, type WireMember } from '../../src/generated/wire.js';
import { decodeRecords, RecordView } from '../../src/tracer/decode.js';

describe('kernel records', () => {
  it('every number member reads back what was written at its offset, of its size', () => {
    const b = Buffer.alloc(RECORD_SIZE * 2);
    const at = RECORD_SIZE; // the second record of a batch
    const want: Record<string, number> = {};
    let v = 1;
    for (const m of Object.keys(READ) as WireMember[]) {
      // A distinct value per member that needs every byte of its size (below 2^53 for u64).
      const size: number = SIZE[m];
      const value =
        size === 8 ? 2 ** 52 + v * 1_000_003 : size === 4 ? 0x80000000 + v : size === 2 ? 0x8000 + v : 0x80 + v;
      if (size === 8) b.writeBigUInt64LE(BigInt(value), at + OFF[m]);
      else b.writeUIntLE(value, at + OFF[m], size);
      want[m] = value;
      v++;
    }
    b[at + OFF.kind] = want.kind = KIND.close;
    b[at + OFF.family] = want.family = 4;
    b[OFF.kind] = KIND.connect; // the first record: a connect, otherwise zero
    const [first, r] = decodeRecords(b);
    assert.equal(first.kind, KIND.connect);
    for (const m of Object.keys(READ)) assert.equal(r[m as WireMember], want[m], m);
  });

  it('text members: the process name, and the addresses by family', () => {
    const b = Buffer.alloc(RECORD_SIZE);
    b[OFF.kind] = KIND.close;
    b[OFF.family] = 4;
    b[OFF.direction] = DIRECTION.outgoing;
    Buffer.from([10, 0, 0, 1]).copy(b, OFF.saddr);
    Buffer.from([192, 168, 7, 200]).copy(b, OFF.daddr);
    b.write('curl', OFF.comm, 'latin1');
    const [r] = decodeRecords(b);
    assert.deepEqual([r.comm, r.ipFamily, r.saddr, r.daddr], ['curl', 'ipv4', '10.0.0.1', '192.168.7.200']);
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
