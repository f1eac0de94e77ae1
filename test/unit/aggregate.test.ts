import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { Aggregator } from '../../src/summary/aggregate.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const conn = (id: number, pid: number, extra: object = {}) => ({
  id,
  pid,
  comm: `p${pid}`,
  family: 'ipv4',
  saddr: '10.0.0.1',
  sport: id,
  daddr: '10.0.0.2',
  dport: 80,
  netns: 1,
  direction: 'outgoing',
  ...extra,
});
const counters = (tx: number, rx: number, ptx: number, prx: number, retr: number, rtt: number) => ({
  bytes_sent: tx,
  bytes_received: rx,
  packets_sent: ptx,
  packets_received: prx,
  packets_retransmitted: retr,
  rtt_us: rtt,
  rtt_var_us: 1,
});

describe('aggregates', () => {
  it('sum/avg/min/max/count over sessions, retransmission percentage, RTT in ms, traffic in bit/s', () => {
    const a = new Aggregator({ host: 'h', by: ['host', 'process'] });
    const recs = [
      { type: 'connect', timestamp: at(0), ...conn(1, 10) },
      { type: 'connect', timestamp: at(0), ...conn(2, 10) },
      { type: 'accept', timestamp: at(1), ...conn(3, 20) },
      { type: 'close', timestamp: at(2), ...conn(1, 10), ...counters(1000, 10, 90, 20, 10, 2000), duration_ms: 2000 },
      { type: 'close', timestamp: at(3), ...conn(2, 10), ...counters(3000, 30, 10, 5, 0, 4000), duration_ms: 3000 },
      { type: 'close', timestamp: at(4), ...conn(3, 20), ...counters(500, 0, 5, 5, 0, 0), duration_ms: 3000 },
    ] as NettracerRecord[];
    for (const r of recs) assert.deepEqual(a.add(r), []);
    const [host, p10, p20] = a.finish();
    assert.equal(host.dimension, 'host');
    assert.equal(host.window_s, 4);
    assert.deepEqual(host.bytes_tx, { sum: 4500, avg: 1500, min: 500, max: 3000, count: 3 });
    assert.equal(host.traffic_tx, (4500 * 8) / 4);
    assert.equal(host.traffic, ((4500 + 40) * 8) / 4);
    assert.deepEqual([p10.pid, p10.sessions, p10.pkts_tx, p10.pkts_retr], [10, 2, 100, 10]);
    assert.equal(p10.retr_percentage, Math.round((10 / 110) * 100 * 1000) / 1000);
    assert.deepEqual(p10.rtt, { avg: 3, min: 2, max: 4 });
    assert.deepEqual(p20.rtt, { avg: 0, min: 0, max: 0 }, 'no session with an RTT');
  });

  it('windows: deltas per window from totals and from incremental metrics; traffic before tracing excluded', () => {
    const a = new Aggregator({ host: 'h', by: ['host', 'container'], windowS: 10 });
    const c = { container_id: 'a'.repeat(64), pod_uid: '11111111-2222-3333-4444-555555555555' };
    const out = [
      ...a.add({
        type: 'existing',
        timestamp: at(0),
        ...conn(1, 10, c),
        ...counters(5000, 5000, 50, 50, 0, 100),
      } as NettracerRecord),
      ...a.add({
        type: 'metrics',
        timestamp: at(5),
        ...conn(1, 10, c),
        ...counters(5100, 5000, 52, 51, 0, 100),
        incremental: false,
      } as NettracerRecord),
      ...a.add({ type: 'connect', timestamp: at(6), ...conn(2, 11) } as NettracerRecord),
      ...a.add({
        type: 'metrics',
        timestamp: at(7),
        ...conn(2, 11),
        ...counters(70, 0, 3, 2, 1, 100),
        incremental: true,
      } as NettracerRecord),
      ...a.add({
        type: 'metrics',
        timestamp: at(12),
        ...conn(2, 11),
        ...counters(30, 0, 1, 1, 0, 100),
        incremental: true,
      } as NettracerRecord),
      ...a.add({
        type: 'close',
        timestamp: at(13),
        ...conn(1, 10, c),
        ...counters(5400, 5000, 60, 55, 0, 100),
        duration_ms: 1,
      } as NettracerRecord),
    ];
    const w1 = out.filter((r) => r.window_start === at(0));
    assert.equal(w1.find((r) => r.dimension === 'host')!.bytes_tx.sum, 100 + 70);
    const cont = w1.find((r) => r.dimension === 'container')!;
    assert.deepEqual([cont.container_id, cont.pod_uid, cont.bytes_tx.sum], [c.container_id, c.pod_uid, 100]);
    const w2 = a.finish().find((r) => r.dimension === 'host')!;
    assert.equal(w2.window_start, at(10));
    assert.equal(w2.bytes_tx.sum, 300 + 30);
    assert.equal(w2.sessions, 2);
  });

  it("the kernel's 32-bit counters wrapping between records: what moved, never negative", () => {
    const W = 2 ** 32;
    for (const headerSize of [0, 66]) {
      const a = new Aggregator({ host: 'h', by: ['host'], windowS: 10 });
      // Segments and retransmissions through 2^32; with --header-size the
      // byte totals carry 66 bytes per packet, so they go back too.
      const rec = (type: 'metrics' | 'close', s: number, bytes: number, ptx: number, prx: number, retr: number) =>
        ({
          type,
          timestamp: at(s),
          ...conn(1, 10),
          ...counters(bytes + headerSize * ptx, 5 + headerSize * prx, ptx, prx, retr, 100),
          ...(type === 'metrics' ? { incremental: false } : { duration_ms: 1 }),
        }) as NettracerRecord;
      a.add({ type: 'connect', timestamp: at(0), ...conn(1, 10) } as NettracerRecord);
      const out = [
        ...a.add(rec('metrics', 5, 1e9, W - 50, W - 5, W - 1)),
        ...a.add(rec('metrics', 12, 1e9 + 1e6, 950, 20, 9)), // +1000, +25, +10 segments
        ...a.add(rec('metrics', 14, 1e9 + 2e6, 1950, 40, 9)),
        ...a.add(rec('close', 15, 1e9 + 2e6, 1960, 41, 9)),
      ];
      const w1 = out.find((r) => r.window_start === at(0))!;
      assert.deepEqual([w1.pkts_tx, w1.pkts_rx, w1.pkts_retr], [W - 50, W - 5, W - 1]);
      const w2 = a.finish().find((r) => r.dimension === 'host')!;
      assert.deepEqual([w2.pkts_tx, w2.pkts_rx, w2.pkts_retr], [1000 + 1010, 25 + 21, 10], `-s ${headerSize}`);
      assert.equal(w2.bytes_tx.sum, 2e6 + headerSize * 2010, `-s ${headerSize}`);
      assert.equal(w2.bytes_rx.sum, headerSize * 46, `-s ${headerSize}`);
    }
  });
});
