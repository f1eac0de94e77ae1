// The template serialiser writes exactly what JSON.stringify writes, for
// every record type and awkward values (quotes, escapes, fractions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KernelRecord } from '../../src/tracer/decode.js';
import { recordLine, toNdjson } from '../../src/output/ndjson.js';
import { bootClock, RecordBuilder } from '../../src/tracer/records.js';
import { assertValidLine } from '../helpers/schemas.js';

let seed = 7;
const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const comms = ['curl', 'a"b', 'back\\slash', 'größe', 'x\\x0ay', ''];

function kernelRecord(kind: KernelRecord['kind']): KernelRecord {
  return {
    kind,
    id: rand(1e9) + 1,
    tsNs: 1e9 + rand(1e9),
    startNs: 5e8 + rand(4e8),
    pid: rand(4e6),
    preexisting: kind === 'existing',
    comm: comms[rand(comms.length)],
    family: rand(2) ? 'ipv4' : 'ipv6',
    saddr: '10.0.0.1',
    sport: rand(65536),
    daddr: 'fd00::1',
    dport: rand(65536),
    netns: 4026531840 + rand(100),
    direction: kind === 'existing' ? 'unknown' : rand(2) ? 'outgoing' : 'incoming',
    bytesSent: rand(2 ** 30) * 1024,
    bytesReceived: rand(2 ** 30),
    segsOut: rand(1e6),
    segsIn: rand(1e6),
    totalRetrans: rand(100),
    srttUs: rand(1e6),
    rttvarUs: rand(1e5),
    cgroupId: 1,
  };
}

describe('NDJSON lines', () => {
  for (const incremental of [false, true]) {
    it(`template lines equal JSON.stringify for every record type (incremental ${incremental})`, () => {
      const b = new RecordBuilder(bootClock(1.7e12), incremental);
      for (let i = 0; i < 2000; i++) {
        const kind = (['connect', 'accept', 'metrics', 'close', 'existing'] as const)[i % 5];
        const r = b.build(kernelRecord(kind));
        assert.equal(recordLine(r), JSON.stringify(r));
        assertValidLine(recordLine(r));
      }
    });
  }

  it('other records go through JSON.stringify; a batch is one line per record', () => {
    const lost = { type: 'lost' as const, timestamp: '2026-01-01T00:00:00.000Z', records_lost: 3, connections_untracked: 0 };
    assert.equal(toNdjson([lost, lost]), `${JSON.stringify(lost)}\n${JSON.stringify(lost)}\n`);
  });
});
