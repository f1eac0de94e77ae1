// The pure parts of `nettracer top`: rates from records (summary/rates.ts),
// columns that fit (output/columns.ts), and the screen's lines (output/top-view.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { fitColumns, narrow, shorten } from '../../src/output/columns.js';
import { DIRECTION } from '../../src/generated/wire.js';
import { COLUMNS, firstInOrder, GROUPS, rttMs, si, SORT_KEYS, topLines, topRows } from '../../src/output/top-view.js';
import { LiveRates, retrPercentage, type WalkReading } from '../../src/summary/rates.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function conn(id: number, over: Record<string, unknown> = {}) {
  return {
    id,
    pid: 100 + id,
    comm: 'curl',
    family: 'ipv4',
    saddr: '10.0.0.1',
    sport: 40000 + id,
    daddr: '10.0.0.2',
    dport: 443,
    netns: 4026531840,
    direction: 'outgoing',
    ...over,
  };
}

function counters(tx: number, rx: number, pktsTx = 0, retr = 0, rtt = 1000) {
  return {
    bytes_sent: tx,
    bytes_received: rx,
    packets_sent: pktsTx,
    packets_received: 0,
    packets_retransmitted: retr,
    rtt_us: rtt,
    rtt_var_us: 0,
  };
}

const rec = (r: Record<string, unknown>) => r as unknown as NettracerRecord;

type Reading = [ReturnType<typeof conn>, ReturnType<typeof counters>];

/** A metrics walk that reads these connections with these counters (cumulative): the others are not seen. */
function walk<T extends LiveRates>(rates: T, ...readings: Reading[]): T {
  rates.begin();
  for (const [c, k] of readings) rates.reading(reading(c, k));
  rates.end();
  return rates;
}

/** One connection as a walk reads it (under the kernel record's names, as the session's RecordView). */
function reading(c: ReturnType<typeof conn>, k: ReturnType<typeof counters>): WalkReading {
  return { ...c, ...k, direction: c.direction === 'incoming' ? DIRECTION.incoming : DIRECTION.outgoing };
}

describe('LiveRates', () => {
  it('failed attempts and resets counted per period, failed attempts not as connections', () => {
    const r = new LiveRates();
    r.start(T0);
    const failed = { error: 'ECONNREFUSED', errno: 111, syns_sent: 1, duration_ms: 0.1 };
    r.record(rec({ type: 'connect_failed', timestamp: at(0), ...conn(1), ...failed }), T0);
    r.record(rec({ type: 'connect_failed', timestamp: at(0), ...conn(2), ...failed }), T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(3) }), T0);
    const close = (id: number, reason: object) =>
      rec({ type: 'close', timestamp: at(1), ...conn(id), ...counters(1, 1, 1), duration_ms: 1, ...reason });
    r.record(close(3, { close_reason: 'reset_received', error: 'ECONNRESET', errno: 104 }), T0 + 1000);
    const s1 = walk(r).sample(T0 + 2000);
    assert.deepEqual([s1.failed, s1.resets, s1.connections.length], [2, 1, 1]);
    r.record(rec({ type: 'connect', timestamp: at(2), ...conn(4) }), T0 + 2000);
    r.record(close(4, { close_reason: 'fin', first_fin: 'local' }), T0 + 3000);
    const s2 = walk(r).sample(T0 + 4000);
    assert.deepEqual([s2.failed, s2.resets], [0, 0], 'a new period; an orderly close is no reset');
  });

  it('rates over the period between samples; totals since first seen', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(1) }), T0);
    const s1 = walk(r, [conn(1), counters(2000, 500, 10)]).sample(T0 + 2000);
    assert.equal(s1.periodS, 2);
    assert.deepEqual(
      s1.connections.map((c) => [c.txRate, c.rxRate, c.bytes]),
      [[1000, 250, 2500]],
    );
    const s2 = walk(r, [conn(1), counters(6000, 500, 20)]).sample(T0 + 4000);
    assert.deepEqual(
      s2.connections.map((c) => [c.txRate, c.rxRate, c.bytes, c.periodPktsTx]),
      [[2000, 0, 6500, 10]],
    );
  });

  it('an existing connection: what it moved before tracing is no rate', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'existing', timestamp: at(0), ...conn(2), ...counters(1e9, 1e9, 1e6) }), T0);
    const [c] = walk(r, [conn(2), counters(1e9 + 800, 1e9, 1e6 + 1)]).sample(T0 + 1000).connections;
    assert.equal(c.txRate, 800);
    assert.equal(c.bytes, 800);
  });

  it('before the first walk: the connections found open at start, no rates yet', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'existing', timestamp: at(0), ...conn(8), ...counters(500, 500) }), T0);
    r.record(rec({ type: 'existing', timestamp: at(0), ...conn(9), ...counters(100, 0) }), T0);
    assert.deepEqual(
      r.sample(T0 + 10).connections.map((c) => [c.id, c.txRate, c.bytes, c.closed]),
      [
        [8, 0, 0, false],
        [9, 0, 0, false],
      ],
    );
  });

  it('a connection the walk finds without an opening record counts from its first reading; --container shows none', () => {
    const r = new LiveRates();
    const only = new LiveRates(5000, true);
    for (const x of [r, only]) x.start(T0);
    const first: Reading = [conn(5, { pid: 0, comm: '' }), counters(5000, 0)];
    assert.deepEqual(
      walk(r, first)
        .sample(T0 + 1000)
        .connections.map((c) => [c.bytes, c.txRate]),
      [[0, 0]],
    );
    assert.equal(walk(only, first).sample(T0 + 1000).connections.length, 0);
    // Its owner as the walk finds it later.
    const [c] = walk(r, [conn(5, { pid: 77, comm: 'nginx' }), counters(5100, 0)]).sample(T0 + 2000).connections;
    assert.deepEqual([c.pid, c.comm, c.bytes, c.txRate], [77, 'nginx', 100, 100]);
  });

  it('a 32-bit counter that wraps grows by what it moved (record/counters.ts), not backwards', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'existing', timestamp: at(0), ...conn(3), ...counters(0, 0, 2 ** 32 - 5, 2 ** 32 - 1) }), T0);
    const [c] = walk(r, [conn(3), counters(0, 0, 5, 1)]).sample(T0 + 1000).connections;
    assert.equal(c.periodPktsTx, 10);
    assert.equal(c.periodRetr, 2);
  });

  it('closed connections stay, marked, for keepClosedMs, then leave; their last growth counts once', () => {
    const r = new LiveRates(5000);
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(4) }), T0);
    walk(r, [conn(4), counters(40, 0)]).sample(T0 + 1000);
    r.record(rec({ type: 'close', timestamp: at(1), ...conn(4), ...counters(100, 0), duration_ms: 1000 }), T0 + 1500);
    assert.deepEqual(
      walk(r)
        .sample(T0 + 2000)
        .connections.map((c) => [c.closed, c.txRate, c.bytes]),
      [[true, 60, 100]],
    );
    assert.equal(walk(r).sample(T0 + 6000).connections[0].txRate, 0);
    assert.equal(walk(r).sample(T0 + 6501).connections.length, 0);
    assert.equal(r.size, 0);
  });

  it('a connection gone from the walk without its close is left out, then forgotten', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(6) }), T0);
    assert.equal(walk(r, [conn(6), counters(1, 1)]).sample(T0 + 1000).connections.length, 1);
    assert.equal(walk(r).sample(T0 + 2000).connections.length, 0);
    assert.equal(r.size, 1, 'its close may still come (it closed between the drain and the walk)');
    walk(r).sample(T0 + 3000);
    assert.equal(r.size, 0);
  });

  it('an opening record that comes after the walk read its connection (its owner found by the walk) opens it: --container shows it, its first period counts from 0', () => {
    for (const only of [false, true]) {
      const r = new LiveRates(5000, only);
      r.start(T0);
      r.begin();
      r.reading(reading(conn(7, { pid: 0, comm: '' }), counters(3000, 100)));
      r.record(
        rec({ type: 'accept', timestamp: at(0), ...conn(7, { container_id: 'c1', direction: 'incoming' }) }),
        T0,
      );
      r.end();
      const s = r.sample(T0 + 1000);
      assert.deepEqual(
        s.connections.map((c) => [c.pid, c.container, c.incoming, c.txRate, c.rxRate, c.bytes]),
        [[107, 'c1', true, 3000, 100, 3100]],
        `recordsOnly ${only}`,
      );
      assert.deepEqual([s.totals.open, s.totals.incoming, s.totals.txRate], [1, 1, 3000]);
    }
  });

  it('a close that comes in the walk that read its connection: its growth counted once', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(4) }), T0);
    walk(r, [conn(4), counters(40, 0, 1)]).sample(T0 + 1000);
    r.begin();
    r.reading(reading(conn(4), counters(100, 0, 2)));
    r.record(rec({ type: 'close', timestamp: at(1), ...conn(4), ...counters(150, 0, 3), duration_ms: 1 }), T0 + 1500);
    r.end();
    const s = r.sample(T0 + 2000);
    assert.deepEqual(
      s.connections.map((c) => [c.closed, c.txRate, c.bytes, c.periodPktsTx]),
      [[true, 110, 150, 2]],
    );
    assert.deepEqual([s.totals.open, s.totals.closed, s.totals.txRate], [0, 1, 110]);
  });

  it('walks between samples (a paused screen) add up: a longer period, and the sample shown stays as it was', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(1) }), T0);
    const shown = walk(r, [conn(1), counters(1000, 0, 1, 0, 500)]).sample(T0 + 1000);
    const [c] = shown.connections;
    assert.deepEqual([c.txRate, c.rttUs], [1000, 500]);
    walk(r, [conn(1), counters(2000, 0, 2, 0, 700)]);
    walk(r, [conn(1), counters(4000, 0, 3, 0, 900)]);
    assert.deepEqual([c.txRate, c.bytes, c.rttUs], [1000, 1000, 500], 'not updated until the next sample');
    const s = r.sample(T0 + 3000);
    assert.equal(s.periodS, 2);
    assert.deepEqual(
      s.connections.map((x) => [x.txRate, x.bytes, x.periodPktsTx, x.rttUs]),
      [[1500, 4000, 2, 900]],
    );
  });

  it('walks that read the connections in changing orders, some missing once, samples left out: each its own growth', () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const N = 40;
    const r = new LiveRates();
    r.start(T0);
    // The truth, per connection: bytes sent so far, as last read, growth not shown yet, since first read.
    const sent = new Map<number, number>();
    const last = new Map<number, number>();
    const due = new Map<number, number>();
    const seen = new Map<number, number>();
    for (let id = 1; id <= N; id++) {
      r.record(rec({ type: 'connect', timestamp: at(0), ...conn(id) }), T0);
      for (const m of [sent, last, due, seen]) m.set(id, 0);
    }
    let order = [...sent.keys()];
    let missed = new Set<number>();
    let sampledAt = T0;
    for (let w = 1; w <= 60; w++) {
      // Mostly the last order; now and then two swapped, a stretch reversed, or all shuffled.
      const change = rand(4);
      if (change === 0) {
        const [a, b] = [rand(N), rand(N)];
        [order[a], order[b]] = [order[b], order[a]];
      } else if (change === 1) {
        const a = rand(N);
        order = [...order.slice(0, a), ...order.slice(a, a + 7).reverse(), ...order.slice(a + 7)];
      } else if (change === 2 && w % 5 === 0) {
        for (let i = N - 1; i > 0; i--) {
          const j = rand(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      // A few not read this time (never twice in a row: they would be forgotten).
      const missing = new Set(Array.from({ length: rand(3) }, () => order[rand(N)]).filter((id) => !missed.has(id)));
      r.begin();
      for (const id of order) {
        sent.set(id, (sent.get(id) ?? 0) + rand(3) * 100);
        if (missing.has(id)) continue;
        const g = (sent.get(id) ?? 0) - (last.get(id) ?? 0);
        last.set(id, sent.get(id) ?? 0);
        due.set(id, (due.get(id) ?? 0) + g);
        seen.set(id, (seen.get(id) ?? 0) + g);
        r.reading(reading(conn(id), counters(sent.get(id) ?? 0, 0, 0, 0, 1000 + id)));
      }
      r.end();
      missed = missing;
      if (rand(3) === 0) continue; // no sample (a paused screen)
      const now = T0 + w * 1000;
      const s = r.sample(now);
      const periodS = (now - sampledAt) / 1000;
      sampledAt = now;
      const shown = new Map(s.connections.map((c, i) => [c.id, { c, i }]));
      assert.deepEqual(
        [...shown.keys()].sort((a, b) => a - b),
        order.filter((id) => !missing.has(id)).sort((a, b) => a - b),
        `walk ${w}: the connections it read`,
      );
      for (const [id, { c, i }] of shown) {
        assert.equal(Math.round(c.txRate * periodS), due.get(id), `walk ${w}, connection ${id}: growth`);
        assert.equal(c.bytes, seen.get(id), `walk ${w}, connection ${id}: bytes`);
        assert.equal(c.rttUs, 1000 + id);
        // The keys a view sorts by are the connection's, index for index.
        assert.deepEqual(
          [s.keys.id[i], s.keys.rate[i], s.keys.bytes[i], s.keys.rtt[i]],
          [c.id, c.txRate + c.rxRate, c.bytes, c.rttUs],
        );
        due.set(id, 0);
      }
      assert.equal(s.totals.open, shown.size);
      assert.equal(
        Math.round(s.totals.txRate * periodS),
        [...shown.values()].reduce((n, { c }) => n + Math.round(c.txRate * periodS), 0),
      );
    }
  });

  it('an owner the walk reads after a record named another: the walk wins, as before', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(1) }), T0);
    walk(r, [conn(1), counters(1, 0)]).sample(T0 + 1000);
    r.record(
      rec({ type: 'existing', timestamp: at(1), ...conn(1, { pid: 555, comm: 'other' }), ...counters(1, 0) }),
      T0 + 1000,
    );
    assert.deepEqual(
      walk(r, [conn(1), counters(1, 0)])
        .sample(T0 + 2000)
        .connections.map((c) => [c.pid, c.comm]),
      [[101, 'curl']],
    );
  });

  it('a walk cut short (no end()): the next one ends it first, and the records it held are taken in', () => {
    const r = new LiveRates();
    r.start(T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(1) }), T0);
    r.record(rec({ type: 'connect', timestamp: at(0), ...conn(2) }), T0);
    r.begin();
    r.reading(reading(conn(1), counters(100, 0)));
    r.record(rec({ type: 'close', timestamp: at(1), ...conn(2), ...counters(50, 0), duration_ms: 1 }), T0 + 500);
    const s = walk(r, [conn(1), counters(300, 0)]).sample(T0 + 1000);
    assert.deepEqual(
      s.connections.map((c) => [c.id, c.closed, c.txRate]),
      [
        [1, false, 300],
        [2, true, 50],
      ],
    );
  });

  it('retransmission percentage is retr / (retr + tx) x 100', () => {
    assert.equal(retrPercentage(1, 99), 1);
    assert.equal(retrPercentage(0, 0), 0);
  });
});

describe('firstInOrder', () => {
  it('the first k of any list, as sorting it would give them', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 50;
    const xs = Array.from({ length: 500 }, rand);
    const order = (a: number, b: number) => b - a;
    for (const k of [0, 1, 5, 40, 499, 500, 600, Infinity])
      assert.deepEqual(firstInOrder(xs, k, order), [...xs].sort(order).slice(0, k));
  });
});

describe('columns', () => {
  it('drops the lowest ranks until the least widths fit, then widens by rank', () => {
    const col = (title: string, min: number, max: number, rank: number) => ({
      title,
      min,
      max,
      rank,
      align: 'left' as const,
      cell: () => '',
    });
    const cols = [col('a', 5, 10, 3), col('b', 5, 10, 1), col('c', 5, 10, 2)];
    assert.deepEqual(
      fitColumns(cols, 11).map((f) => [f.column.title, f.width]),
      [
        ['a', 5],
        ['c', 5],
      ],
    );
    assert.deepEqual(
      fitColumns(cols, 20).map((f) => [f.column.title, f.width]),
      [
        ['a', 10],
        ['b', 5],
        ['c', 5],
      ].map(([t, w]) => [t, t === 'a' ? 8 : w]),
    );
  });

  it('shortens at the end, or at the start (the port stays)', () => {
    assert.equal(shorten('abcdef', 4), 'abc~');
    assert.equal(shorten('10.0.0.1:443', 8, 'start'), '~0.1:443');
    assert.equal(shorten('abc', 4), 'abc');
  });

  it('characters of uncertain width become ?', () => {
    assert.equal(narrow('café 名前 a\u0301'), 'café ?? a?');
  });
});

describe('topLines', () => {
  const sample = (() => {
    const r = new LiveRates();
    const readings: Reading[] = [];
    r.start(T0);
    for (let i = 1; i <= 40; i++) {
      const v6 = i % 3 === 0;
      const c = conn(i, {
        comm: i === 7 ? 'a-very-long-name' : 'curl',
        pid: 4194304 - i,
        ...(v6 ? { family: 'ipv6', saddr: 'fd00:1234:5678:9abc:def0:1234:5678:9abc', daddr: '2001:db8::ffff:1' } : {}),
        ...(i % 5 === 0 ? { container_id: 'ab'.repeat(32) } : {}),
      });
      r.record(rec({ type: 'connect', timestamp: at(0), ...c }), T0);
      readings.push([c, counters(i * 1e6, i * 1e4, i * 10, i, i * 100)]);
    }
    return walk(r, ...readings).sample(T0 + 1000);
  })();
  const state = { sort: 'rate', group: 'connection', paused: false, refreshS: 2, host: 'host-名' } as const;

  it('no line is wider than width - 1 at any width from 10 to 300, in every grouping and sort', () => {
    for (const group of GROUPS) {
      for (const sort of SORT_KEYS) {
        for (let width = 10; width <= 300; width += 7) {
          for (const height of [5, 24, 50]) {
            const lines = topLines(sample, { ...state, group, sort }, width, height);
            assert.ok(lines.length <= height);
            for (const l of lines) {
              const text = l.replace(/\x1b\[[\d;]*m/g, '');
              assert.ok(text.length <= width - 1, `${group}/${sort} at ${width}: ${text.length}: ${text}`);
            }
          }
        }
      }
    }
  });

  it('at 80 columns every column of a connection is there; the rows that do not fit are counted', () => {
    const lines = topLines(sample, state, 80, 24);
    assert.deepEqual(
      lines[2]
        .replace(/\x1b\[[\d;]*m/g, '')
        .trim()
        .split(/ +/),
      ['PID', 'PROCESS', 'LOCAL', 'REMOTE', 'TX/s', 'RX/s', 'RETR', 'RTT', 'ms', 'BYTES'],
    );
    assert.equal(lines.length, 24);
    assert.equal(lines[23], 'q quit  s sort  g group  p pause  (20 of 40 rows shown)');
    // The period's failed attempts and resets, when there were any, on the last line, whole at 80 columns.
    const failing = topLines({ ...sample, failed: 3, resets: 12 }, state, 80, 24);
    assert.equal(failing[23], 'q quit  s sort  g group  p pause  (20 of 40 rows shown)  failed 3  resets 12');
    // Numbers are never cut: every PID whole (7 digits here), every byte count a number with its prefix.
    for (const l of lines.slice(3, 23)) {
      const cells = l.trim().split(/ +/);
      assert.match(cells[0], /^419\d{4}$/, l);
      assert.match(cells.at(-1)!, /^\d+(\.\d+)?[kMG]?$/, l);
    }
    // 1e6 i bytes sent and 1e4 i received by connection i in 1 s; i retransmitted of 11 i segments.
    assert.match(
      lines[1],
      /^conns 40 \(0 in, 40 out\), 0 closed {2}in 65\.6Mbit\/s {2}out 6\.56Gbit\/s {2}retr 9\.09%$/,
    );
  });

  it('sorts by the chosen key and groups', () => {
    assert.deepEqual(
      topRows(sample, { sort: 'rtt', group: 'connection' }, 2).rows.map((r) => r.rttUs),
      [4000, 3900],
    );
    const byContainer = topRows(sample, { sort: 'bytes', group: 'container' });
    assert.deepEqual(
      byContainer.rows.map((r) => [r.container || '(host)', r.conns]),
      [
        ['(host)', 32],
        ['ab'.repeat(32), 8],
      ],
    );
    assert.equal(COLUMNS.process[0].title, 'PID');
  });

  it('units: SI with three digits; RTT in ms, "-" without a sample', () => {
    assert.deepEqual(
      [si(0), si(999), si(1000), si(12_345), si(999_999), si(2.5e9)],
      ['0', '999', '1.00k', '12.3k', '1.00M', '2.50G'],
    );
    assert.deepEqual([rttMs(0), rttMs(46), rttMs(12_345), rttMs(250_000)], ['-', '0.05', '12.3', '250']);
  });
});
