// Record building: deltas, durations, timestamps, and that what the builder
// makes is valid against the published schemas.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { KernelRecord } from '../../src/tracer/decode.js';
import { bootClock, delta, RecordBuilder } from '../../src/tracer/records.js';
import { ROOT } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

const base: KernelRecord = {
  kind: 'metrics',
  id: 7,
  tsNs: 2_000_000_000,
  startNs: 1_000_000_000,
  pid: 10,
  preexisting: false,
  comm: 'svc',
  family: 'ipv6',
  saddr: '::1',
  sport: 1000,
  daddr: '::1',
  dport: 2000,
  netns: 4026531840,
  direction: 'incoming',
  bytesSent: 100,
  bytesReceived: 50,
  segsOut: 5,
  segsIn: 4,
  totalRetrans: 1,
  srttUs: 40,
  rttvarUs: 20,
};

const clock = bootClock(1_700_000_000_000 - 1000); // boot 1 s before 2023-11-14T22:13:20Z

describe('record building', () => {
  it('timestamps: CLOCK_BOOTTIME ns plus the boot offset, RFC 3339 UTC', () => {
    assert.equal(clock(1_000_000_000), '2023-11-14T22:13:20.000Z');
    assert.equal(clock(1_500_000_000), '2023-11-14T22:13:20.500Z');
  });

  it('totals by default; deltas per connection with --incremental, forgotten at close', () => {
    const totals = new RecordBuilder(clock, false);
    const inc = new RecordBuilder(clock, true);
    const second = { ...base, bytesSent: 160, bytesReceived: 50, segsOut: 9, segsIn: 6, totalRetrans: 1 };
    assert.equal((totals.build(second) as any).bytes_sent, 160);
    const a = inc.build(base) as any;
    const b = inc.build(second) as any;
    assert.deepEqual([a.bytes_sent, a.packets_sent, a.incremental], [100, 5, true]);
    assert.deepEqual([b.bytes_sent, b.bytes_received, b.packets_sent, b.packets_received, b.packets_retransmitted], [60, 0, 4, 2, 0]);
    assert.equal(b.rtt_us, 40, 'RTT is a level, never a delta');
    const close = inc.build({ ...second, kind: 'close', tsNs: 3_500_250_000 }) as any;
    assert.equal(close.bytes_sent, 160, 'close carries totals');
    assert.equal(close.duration_ms, 2500.25);
    // After close the id is forgotten: a reused id starts from zero again.
    assert.equal((inc.build(base) as any).bytes_sent, 100);
  });

  it('delta never goes negative', () => {
    const now = { bytes_sent: 1, bytes_received: 1, packets_sent: 1, packets_received: 1, packets_retransmitted: 1 };
    const prev = { ...now, bytes_sent: 5 };
    assert.equal(delta(now, prev).bytes_sent, 0);
    assert.deepEqual(delta(now, undefined), now);
  });

  it('every kind the builder makes validates against its schema', () => {
    const b = new RecordBuilder(clock, false);
    for (const kind of ['connect', 'accept', 'metrics', 'close'] as const) {
      assertValidLine(JSON.stringify(b.build({ ...base, kind })));
    }
  });
});

describe('connections found open at start', () => {
  it('incoming when a listener has the local port in the same namespace; the SYN leaves outgoing byte counts', () => {
    const b = new RecordBuilder(clock, false);
    const found = (over: Partial<KernelRecord>): KernelRecord => ({ ...base, kind: 'existing', preexisting: true, direction: 'unknown', ...over });
    b.noteListeners([{ ...base, kind: 'listen', sport: 8080, netns: 1 }]);
    const recs = [
      found({ id: 1, sport: 8080, netns: 1, bytesSent: 10 }), // accepted from the listener
      found({ id: 2, sport: 8080, netns: 2, bytesSent: 10 }), // same port, other namespace: outgoing
      found({ id: 3, sport: 40000, netns: 1, bytesSent: 10 }), // outgoing
    ].map((k) => b.build(k)) as any[];
    assert.deepEqual(recs.map((r) => [r.type, r.id, r.direction, r.bytes_sent]), [
      ['existing', 1, 'incoming', 10],
      ['existing', 2, 'outgoing', 9],
      ['existing', 3, 'outgoing', 9],
    ]);
    const close = b.build({ ...base, kind: 'close', id: 3, preexisting: true, direction: 'unknown', bytesSent: 110 }) as any;
    assert.equal(close.direction, 'outgoing', 'later records keep the direction');
    assert.equal(close.bytes_sent, 109);
  });
});

describe('TypeScript types follow the schemas', () => {
  it('src/generated/records.ts is what schemas/v1 generate', () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-types.mjs'), '--check'], { stdio: 'pipe' });
  });
});
