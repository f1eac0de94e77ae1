// The original's formats, against fixtures derived by hand from its source
// (see man/nettracer.1, LEGACY FORMAT and LOG FORMAT).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { LegacyFormat, legacyAddress } from '../../src/output/legacy.js';
import { LogFormat, localTime } from '../../src/output/log.js';

const base = {
  id: 1,
  pid: 1234,
  comm: 'curl',
  family: 'ipv4',
  saddr: '127.0.0.1',
  sport: 51234,
  daddr: '127.0.0.1',
  dport: 80,
  netns: 4026531840,
  direction: 'outgoing',
} as const;
const at = (s: number) => new Date(s * 1000).toISOString();
const counters = {
  bytes_sent: 1000,
  bytes_received: 333,
  packets_sent: 10,
  packets_received: 8,
  packets_retransmitted: 0,
  rtt_us: 45,
  rtt_var_us: 22,
};

describe('legacy format', () => {
  it('addresses: IPv4 as /proc/net/tcp prints it, IPv6 as two byte-reversed halves', () => {
    assert.equal(legacyAddress('127.0.0.1', 'ipv4'), '0100007F');
    assert.equal(legacyAddress('10.0.0.1', 'ipv4'), '0100000A');
    assert.equal(legacyAddress('192.168.1.20', 'ipv4'), '1401A8C0');
    assert.equal(legacyAddress('::1', 'ipv6'), '00000000000000000100000000000000');
    assert.equal(legacyAddress('2001:db8::1', 'ipv6'), '00000000B80D01200100000000000000');
  });

  it('an open outgoing connection, column for column', () => {
    const f = new LegacyFormat(false);
    f.records([
      { type: 'connect', timestamp: at(1700000000), ...base },
      {
        type: 'metrics',
        timestamp: at(1700000029),
        ...base,
        ...counters,
        incremental: false,
      },
    ] as NettracerRecord[]);
    const want =
      '  1700000030 0 0100007F C822 0 0100007F 0050         1234  4026531840 100                   1000                   333                    10                     8                     0          45          22      1700000000       30';
    assert.equal(f.cycle(1700000030_000), `${want}\n \n`);
    assert.equal(want.length, 233);
  });

  it('a closed incoming IPv6 connection appears once more with C=1 and its duration, then drops out', () => {
    const f = new LegacyFormat(false);
    const v6 = {
      ...base,
      id: 2,
      pid: 999,
      family: 'ipv6',
      saddr: '2001:db8::1',
      sport: 443,
      daddr: '2001:db8::2',
      dport: 51234,
      direction: 'incoming',
    } as const;
    f.records([
      { type: 'accept', timestamp: at(1700000000), ...v6 },
      {
        type: 'close',
        timestamp: at(1700000012),
        ...v6,
        bytes_sent: 1770,
        bytes_received: 949,
        packets_sent: 10,
        packets_received: 8,
        packets_retransmitted: 2,
        rtt_us: 1500,
        rtt_var_us: 750,
        duration_ms: 12000,
      },
    ] as NettracerRecord[]);
    const want =
      '  1700000030 1 00000000B80D01200100000000000000 01BB 1 00000000B80D01200200000000000000 C822          999  4026531840 111                   1770                   949                    10                     8                     2        1500         750      1700000000       12';
    assert.equal(f.cycle(1700000030_000), `${want}\n \n`);
    assert.equal(want.length, 281);
    assert.equal(f.cycle(1700000060_000), ' \n', 'gone after being shown closed once');
  });

  it('-i: counters since the previous print, RTT and times unchanged', () => {
    const f = new LegacyFormat(true);
    const m = (bytes: number, ts: number) => ({
      type: 'metrics',
      timestamp: at(ts),
      ...base,
      bytes_sent: bytes,
      bytes_received: 0,
      packets_sent: 1,
      packets_received: 1,
      packets_retransmitted: 0,
      rtt_us: 45,
      rtt_var_us: 22,
      incremental: true,
    });
    f.records([{ type: 'connect', timestamp: at(1700000000), ...base }, m(100, 1700000001)] as NettracerRecord[]);
    f.cycle(1700000002_000);
    f.records([m(40, 1700000003)] as NettracerRecord[]);
    const line = f.cycle(1700000004_000).split('\n')[0].trim().split(/\s+/);
    assert.deepEqual(line.slice(10, 15), ['40', '0', '1', '1', '0']);
  });

  it("the kernel's 32-bit counters wrapping: totals go on past 2^32, -i deltas up to the close stay exact", () => {
    const W = 2 ** 32;
    const rec = (type: 'metrics' | 'close', ts: number, packets: number, incremental: boolean) =>
      ({
        type,
        timestamp: at(ts),
        ...base,
        ...counters,
        packets_sent: packets,
        ...(type === 'metrics' ? { incremental } : { duration_ms: 1 }),
      }) as NettracerRecord;
    const column = (text: string) => text.split('\n')[0].trim().split(/\s+/)[12];
    const totals = new LegacyFormat(false);
    totals.records([rec('metrics', 1700000001, W - 5, false)]);
    assert.equal(column(totals.cycle(1700000002_000)), String(W - 5));
    totals.records([rec('metrics', 1700000003, 5, false)]);
    assert.equal(column(totals.cycle(1700000004_000)), String(W + 5));
    // -i: deltas, then the close's totals (always totals) after the wrap.
    const inc = new LegacyFormat(true);
    inc.records([rec('metrics', 1700000001, W - 5, true)]);
    inc.cycle(1700000002_000);
    inc.records([rec('metrics', 1700000003, 7, true)]); // a delta: now W + 2 in all
    assert.equal(column(inc.cycle(1700000004_000)), '7');
    inc.records([rec('close', 1700000005, 12, false)]);
    assert.equal(column(inc.cycle(1700000006_000)), '10');
  });
});

describe('log format', () => {
  it('event and stats lines with the spdlog prefix', () => {
    const f = new LogFormat('info', 4242);
    const ts = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    const out = f.records([
      { type: 'connect', timestamp: new Date(ts).toISOString(), ...base },
      {
        type: 'accept',
        timestamp: new Date(ts).toISOString(),
        ...base,
        saddr: '127.0.0.1',
        sport: 80,
        dport: 51234,
        direction: 'incoming',
      },
      {
        type: 'metrics',
        timestamp: new Date(ts).toISOString(),
        ...base,
        ...counters,
        incremental: false,
      },
      {
        type: 'close',
        timestamp: new Date(ts).toISOString(),
        ...base,
        bytes_sent: 1000,
        bytes_received: 333,
        packets_sent: 12,
        packets_received: 9,
        packets_retransmitted: 1,
        rtt_us: 46,
        rtt_var_us: 20,
        duration_ms: 5,
      },
    ] as NettracerRecord[]);
    const p = `${localTime(ts)} [4242] info [nettracer] `;
    assert.equal(
      out,
      `${p}event connect 127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 PID:1234\n` +
        `${p}event accept 127.0.0.1:80 <- 127.0.0.1:51234 NS:4026531840 PID:1234\n` +
        `${p}127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 - stats: Bytes sent=1000 Bytes received=333\n` +
        `${p}127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 - TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22\n` +
        `${p}event close 127.0.0.1:51234 -- 127.0.0.1:80 NS:4026531840 PID:1234\n` +
        `${p}127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 - stats: Bytes sent=1000 Bytes received=333\n` +
        `${p}127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 - TCP stats: Retransmissions=1 Segs_in=9 Segs_out=12 RTT=46 RTT_var=20\n`,
    );
    assert.match(localTime(ts), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(
      new LogFormat('warning').records([
        { type: 'connect', timestamp: new Date(ts).toISOString(), ...base },
      ] as NettracerRecord[]),
      '',
      '-d warning hides info',
    );
  });

  it('a failed attempt, which the original never saw: at debug in log, left out of legacy', () => {
    const ts = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    const failed = {
      type: 'connect_failed',
      timestamp: new Date(ts).toISOString(),
      ...base,
      dport: 1,
      error: 'ECONNREFUSED',
      errno: 111,
      syns_sent: 1,
      duration_ms: 0.1,
    } as NettracerRecord;
    assert.equal(
      new LogFormat('debug', 4242).records([failed]),
      `${localTime(ts)} [4242] debug [nettracer] connect_failed 127.0.0.1:51234 -> 127.0.0.1:1 NS:4026531840 PID:1234 error:ECONNREFUSED syns:1\n`,
    );
    assert.equal(new LogFormat('info', 4242).records([failed]), '', 'not at the default level');
    const legacy = new LegacyFormat(false);
    legacy.records([failed]);
    assert.equal(legacy.cycle(ts), ' \n', 'no row: only the interval separator');
  });
});
