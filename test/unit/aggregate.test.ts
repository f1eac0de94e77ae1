import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { Aggregator, LATEST_MS, unplaceable, UnplaceableRecord } from '../../src/summary/aggregate.js';
import { validatorFor } from '../helpers/schemas.js';

const validSummary = validatorFor('summary');

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
    assert.equal(p20.rtt, undefined, 'no session with an RTT: no rtt field, not 0 ms');
    assert.ok(!('rtt' in p20));
    validSummary(p20);
  });

  it('failed attempts and resets per process and host: counts and the failure rate, per window', () => {
    const a = new Aggregator({ host: 'h', by: ['host', 'process'], windowS: 10 });
    const failed = (id: number, pid: number, t: number, error: string, errno: number) => ({
      type: 'connect_failed',
      timestamp: at(t),
      ...conn(id, pid),
      error,
      errno,
      syns_sent: 1,
      duration_ms: 1,
    });
    const close = (id: number, pid: number, t: number, reason: object) => ({
      type: 'close',
      timestamp: at(t),
      ...conn(id, pid),
      ...counters(1, 1, 3, 3, 0, 100),
      duration_ms: 1,
      ...reason,
    });
    const recs = [
      { type: 'connect', timestamp: at(0), ...conn(1, 10) },
      failed(2, 10, 1, 'ECONNREFUSED', 111),
      failed(3, 10, 2, 'ETIMEDOUT', 110),
      failed(4, 10, 3, 'abandoned', 0),
      close(1, 10, 4, { close_reason: 'reset_received', error: 'ECONNRESET', errno: 104 }),
      { type: 'accept', timestamp: at(5), ...conn(5, 20, { direction: 'incoming' }) },
      close(5, 20, 6, { close_reason: 'aborted' }),
      { type: 'accept', timestamp: at(7), ...conn(6, 20, { direction: 'incoming' }) },
      close(6, 20, 8, { close_reason: 'fin', first_fin: 'remote' }),
      // Next window: one failure of pid 30 only (a group with no session).
      failed(7, 30, 12, 'EHOSTUNREACH', 113),
    ] as NettracerRecord[];
    const out = recs.flatMap((r) => a.add(r));
    out.push(...a.finish());
    for (const r of out) validSummary(r);
    const first = out.filter((r) => r.window_start === at(0));
    const [host] = first;
    const p10 = first.find((r) => r.pid === 10)!;
    const p20 = first.find((r) => r.pid === 20)!;
    assert.deepEqual(
      [host.connects, host.connects_failed, host.connect_failure_rate, host.resets_received, host.resets_sent],
      [1, 3, 75, 1, 1],
    );
    assert.deepEqual([p10.pid, p10.connects_failed, p10.connect_failure_rate, p10.resets_received], [10, 3, 75, 1]);
    assert.deepEqual([p20.pid, p20.connects, p20.connect_failure_rate, p20.resets_sent], [20, 0, undefined, 1]);
    const second = out.filter((r) => r.window_start === at(10));
    const p30 = second.find((r) => r.pid === 30);
    assert.deepEqual([p30?.sessions, p30?.connects_failed, p30?.connect_failure_rate], [0, 1, 100]);
    assert.equal(second[0].connects, 0, 'connects are counted in the window of their connect record');
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

describe('hostile or large input', () => {
  const close = (id: number, t: number | string, extra: object = {}) =>
    ({
      type: 'close',
      timestamp: typeof t === 'string' ? t : at(t),
      ...conn(id, 10),
      ...counters(100, 10, 5, 5, 0, 1000),
      duration_ms: 1,
      ...extra,
    }) as NettracerRecord;

  it('a gap of 56 years with --window 1 costs two windows, not 1.7 billion', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 1 });
    const out = [
      ...a.add(close(1, '1970-01-01T00:00:00.000Z')),
      ...a.add(close(2, '2026-01-01T00:00:00.500Z')),
      ...a.finish(),
    ];
    assert.equal(a.windowsClosed, 2);
    assert.deepEqual(
      out.map((r) => [r.window_start, r.window_end, r.window_s, r.sessions]),
      [
        ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:01.000Z', 1, 1],
        // The last window ends with the input's last record: half a second covered.
        ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.500Z', 0.5, 1],
      ],
    );
  });

  it('windows nothing fell in are not printed; the windows printed keep their grid and add up', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 10 });
    const out = [];
    for (const [id, s] of [
      [1, 0],
      [2, 5],
      [3, 37],
      [4, 38],
      [5, 10_000_005],
    ])
      out.push(...a.add(close(id, s)));
    out.push(...a.finish());
    assert.equal(a.windowsClosed, 3);
    assert.deepEqual(
      out.map((r) => [r.window_start, r.sessions]),
      [
        [at(0), 2],
        [at(30), 2],
        [at(10_000_000), 1],
      ],
    );
    assert.equal(
      out.reduce((n, r) => n + r.bytes_tx.sum, 0),
      5 * 100,
    );
  });

  it('live: the current window is printed when it ends, quiet or not; the quiet ones after it are passed over', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 1 });
    a.begin(T0);
    assert.deepEqual(a.tick(T0 + 500), []);
    const first = a.tick(T0 + 1000);
    assert.deepEqual(
      first.map((r) => [r.window_start, r.sessions]),
      [[at(0), 0]],
    );
    // The clock jumps a year: one window printed at the next tick, not 31 million.
    const later = a.tick(T0 + 365 * 86400_000 + 250);
    assert.deepEqual(
      later.map((r) => r.window_start),
      [at(1)],
    );
    assert.deepEqual(
      a.tick(T0 + 365 * 86400_000 + 1000).map((r) => r.window_start),
      [at(365 * 86400)],
    );
    assert.equal(a.windowsClosed, 3);
  });

  it('200,000 sessions in one window: no stack overflow, and min/max as a loop finds them', () => {
    const a = new Aggregator({ host: 'h', by: ['host', 'process'] });
    for (let id = 1; id <= 200_000; id++) {
      a.add(close(id, 0, { ...counters(id, 1, 1, 1, 0, id === 7 ? 1 : 1000 + id) }));
    }
    const [host, proc] = a.finish();
    assert.equal(host.sessions, 200_000);
    assert.deepEqual(host.rtt, { avg: host.rtt?.avg, min: 0.001, max: 201 });
    assert.deepEqual([host.bytes_tx.min, host.bytes_tx.max, host.bytes_tx.count], [1, 200_000, 200_000]);
    assert.equal(proc.sessions, 200_000);
  });

  it('a byte total that goes down adds nothing to its window (no negative traffic)', () => {
    // (A 32-bit packet counter that goes down wrapped: see the wrap test.)
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 1 });
    const metrics = (s: number, tx: number) =>
      ({
        type: 'metrics',
        timestamp: at(s),
        ...conn(1, 10),
        ...counters(tx, 0, 10, 0, 0, 10),
        incremental: false,
      }) as NettracerRecord;
    const [first] = a.add(metrics(0, 1000));
    assert.equal(first, undefined);
    const [w1] = a.add(metrics(1.5, 10));
    assert.equal(w1.bytes_tx.sum, 1000);
    const [w2] = a.add(metrics(2.5, 30));
    assert.deepEqual([w2.bytes_tx.sum, w2.pkts_tx], [0, 0], 'went down from 1000 to 10');
    validSummary(w2);
    const [w3] = a.finish();
    // Below the total already counted: nothing more until it is passed (a
    // kernel counter does not go down; this input is wrong, and adds no traffic).
    assert.equal(w3.bytes_tx.sum, 0);
    validSummary(w3);
  });

  it('times a summary cannot name are refused, with the reason, and change nothing', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 1 });
    a.add(close(1, 0));
    for (const [ts, why] of [
      ['2016-12-31T23:59:60Z', /leap second/],
      ['9999-12-31T23:59:59.999Z', /no window before 9999-12-31T23:59:59.999Z/],
      ['9999-12-31T23:59:59-01:00', /no window before/],
      ['0000-01-01T00:00:00+01:00', /before 0000-01-01T00:00:00Z/],
    ] as const) {
      assert.match(unplaceable(close(9, ts)) ?? '', why, ts);
      assert.throws(
        () => a.add(close(9, ts)),
        (e) => e instanceof UnplaceableRecord && why.test(e.message),
      );
    }
    const [host] = a.finish();
    assert.equal(host.sessions, 1);
    assert.equal(a.windowsClosed, 1);
  });

  it('a window that would end after 9999-12-31T23:59:59.999Z ends there, and says how long it was', () => {
    for (const windowS of [1e12, 1e306]) {
      const a = new Aggregator({ host: 'h', by: ['host'], windowS });
      a.add(close(1, '9999-12-31T23:59:58.999Z'));
      const [host] = a.finish(LATEST_MS + 5000);
      assert.deepEqual(
        [host.window_start, host.window_end, host.window_s],
        ['9999-12-31T23:59:58.999Z', '9999-12-31T23:59:59.999Z', 1],
      );
      validSummary(host);
    }
  });
});

describe('windows as long as what they covered (issue 18)', () => {
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const metrics = (id: number, s: number, tx: number, rx: number) =>
    ({
      type: 'metrics',
      timestamp: at(s),
      ...conn(id, 10),
      ...counters(tx, rx, 1, 1, 0, 0),
      incremental: false,
    }) as NettracerRecord;
  const stats = (s: number, startedS: number, final: boolean) =>
    ({
      type: 'stats',
      timestamp: at(s),
      records_sent: 0,
      records_lost: 0,
      connections_tracked: 0,
      connections_untracked: 0,
      unaccepted_closes: 0,
      hook_misses: 0,
      hooks: [],
      started_at: at(startedS),
      final,
    }) as NettracerRecord;

  it('live: --window 10 stopped after 3 s is a 3 s window, ending then, its rates over 3 s', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 10 });
    a.begin(T0);
    a.add({ type: 'connect', timestamp: at(0.5), ...conn(1, 10) } as NettracerRecord);
    assert.deepEqual(a.tick(T0 + 2000), []);
    a.add(metrics(1, 2.9, 600, 200));
    const [w] = a.finish(T0 + 3000);
    assert.deepEqual([w.window_start, w.window_end, w.window_s], [at(0), at(3), 3]);
    assert.equal(w.traffic, r3((800 * 8) / 3));
    assert.equal(w.traffic_tx, r3((600 * 8) / 3));
    validSummary(w);
  });

  it('live: full windows stay full; the last one ends when tracing stopped', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 1 });
    a.begin(T0);
    const full = a.tick(T0 + 1000);
    assert.deepEqual(
      full.map((r) => [r.window_end, r.window_s]),
      [[at(1), 1]],
    );
    const [last] = a.finish(T0 + 1250);
    assert.deepEqual([last.window_start, last.window_end, last.window_s], [at(1), at(1.25), 0.25]);
  });

  it('a capture with --window: the last window ends at its last record (the final stats one), not a window later', () => {
    const a = new Aggregator({ host: 'h', by: ['host'], windowS: 10 });
    const out = [...a.add(metrics(1, 0, 100, 0)), ...a.add(metrics(1, 12, 300, 0)), ...a.add(stats(14.5, -1, true))];
    assert.deepEqual(
      out.map((r) => [r.window_start, r.window_s]),
      [[at(0), 10]],
    );
    const [last] = a.finish();
    assert.deepEqual([last.window_start, last.window_end, last.window_s], [at(10), at(14.5), 4.5]);
    assert.equal(last.traffic_tx, r3((200 * 8) / 4.5));
  });

  it('a whole capture: from when tracing started (stats started_at) to its final stats record', () => {
    const a = new Aggregator({ host: 'h', by: ['host'] });
    a.add(metrics(1, 2, 100, 0));
    a.add(metrics(1, 4, 500, 0));
    a.add(stats(7, 1, true));
    const [w] = a.finish();
    assert.deepEqual([w.window_start, w.window_end, w.window_s], [at(1), at(7), 6]);
    assert.equal(w.traffic_tx, r3((500 * 8) / 6), 'the first record of a connection counts from 0');
    validSummary(w);
  });

  it('a stats record from before tracing started (hostile) does not move the start', () => {
    const a = new Aggregator({ host: 'h', by: ['host'] });
    a.add(metrics(1, 2, 100, 0));
    a.add(stats(3, 5, false)); // started_at after its own timestamp: ignored
    const [w] = a.finish();
    assert.deepEqual([w.window_start, w.window_end], [at(2), at(3)]);
  });
});
