// The original's formats, against fixtures derived by hand from its source
// (see man/nettracer.1, LEGACY FORMAT and LOG FORMAT).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { LegacyFormat, legacyAddress } from '../../src/output/legacy.js';
import { LogFormat, localTime } from '../../src/output/log.js';
import { TableFormat } from '../../src/output/table.js';
import { markMapped } from '../../src/record/mapped.js';

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

describe('legacy format: what netstat.cpp print() does (issue 18)', () => {
  const metrics = (ts: number, bytes: number, extra: object = {}) =>
    ({
      type: 'metrics',
      timestamp: at(ts),
      ...base,
      ...counters,
      bytes_sent: bytes,
      incremental: false,
      ...extra,
    }) as NettracerRecord;
  const cols = (line: string) => line.trim().split(/\s+/);

  it('a connection open before tracing: state 000 and no start or duration (no event set them)', () => {
    // netstat.cpp at 2d136ac: initConnection() sets pid and update_time only; print() adds
    // start and duration only when state.Established.
    const f = new LegacyFormat(false);
    f.records([{ type: 'existing', timestamp: at(1700000000), ...base, ...counters }]);
    const [line] = f.cycle(1700000010_000).split('\n');
    assert.equal(cols(line)[9], '000');
    assert.equal(cols(line).length, 17, 'no start, no duration');
    assert.equal(line.length, 233 - 25);
  });

  it('duration: whole seconds of the duration (duration_cast<seconds>(end - start)), not of floored times', () => {
    const f = new LegacyFormat(false);
    f.records([
      { type: 'connect', timestamp: new Date(1700000000_900).toISOString(), ...base },
      { type: 'close', timestamp: new Date(1700000002_202).toISOString(), ...base, ...counters, duration_ms: 1302 },
    ] as NettracerRecord[]);
    const c = cols(f.cycle(1700000003_000).split('\n')[0]);
    assert.deepEqual(c.slice(9, 10).concat(c.slice(-2)), ['101', '1700000000', '1']);
  });

  it('a connection whose counters did not change for 60 s is dropped after that print (INACTIVE_TIMEOUT)', () => {
    const f = new LegacyFormat(false);
    f.records([{ type: 'connect', timestamp: at(1700000000), ...base }, metrics(1700000001, 10)]);
    f.records([metrics(1700000031, 10)]);
    assert.equal(f.cycle(1700000031_000).split('\n').length, 3, 'shown: idle for 30 s');
    f.records([metrics(1700000061, 10)]);
    assert.equal(f.cycle(1700000061_000).split('\n').length, 3, 'shown once more at 60 s idle...');
    assert.equal(f.cycle(1700000091_000), ' \n', '...then dropped');
  });

  it('-e 0: no event reaches it, so no state bits and no start; a closed connection lingers until idle', () => {
    const f = new LegacyFormat(false, false);
    f.records([
      { type: 'connect', timestamp: at(1700000000), ...base },
      { type: 'close', timestamp: at(1700000001), ...base, ...counters, duration_ms: 1000 },
    ] as NettracerRecord[]);
    const c = cols(f.cycle(1700000002_000).split('\n')[0]);
    assert.deepEqual([c[9], c.length], ['000', 17]);
    assert.notEqual(f.cycle(1700000030_000), ' \n', 'still there');
    f.cycle(1700000061_000);
    assert.equal(f.cycle(1700000062_000), ' \n', 'gone once idle for 60 s');
  });

  it('-n without a terminal: the session counts logged at the first interval, then every 5 minutes', () => {
    // netstat.cpp map_loop() at 01e3733: LOG_INFO(tcpSessionsStr) when logCtr (5 min) elapsed.
    const legacy = new LegacyFormat(false);
    const log = new LogFormat({ tid: 1, linesOnly: true, sessions: () => legacy.sessions });
    legacy.records([
      { type: 'accept', timestamp: at(1700000000), ...base, direction: 'incoming' },
      { type: 'metrics', timestamp: at(1700000000), ...base, ...counters, incremental: false },
    ] as NettracerRecord[]);
    legacy.cycle(1700000000_000);
    assert.match(
      log.cycle(1700000000_000),
      /info \[nettracer\] Number of passive tcp sessions: 1, active: 0, established: 1\n$/,
    );
    assert.equal(log.cycle(1700000030_000), '');
    assert.match(log.cycle(1700000300_000), /Number of passive tcp sessions/);
    assert.equal(
      log.records([{ type: 'metrics', timestamp: at(1700000000), ...base, ...counters, incremental: false }]),
      '',
      'no connection lines',
    );
    const stats = {
      type: 'stats',
      timestamp: at(1700000000),
      records_sent: 1,
      records_lost: 2,
      connections_tracked: 0,
      connections_untracked: 0,
      unaccepted_closes: 0,
      hook_misses: 0,
      hooks: [],
      final: false,
    } as NettracerRecord;
    assert.match(log.records([stats]), /\[bpf_debug_counters\] delta: {6}records_lost=2\n$/, 'but the debug counters');
  });

  it('an IPv6 socket between IPv4-mapped addresses: in the IPv6 table (after IPv4 rows), in IPv4 layout', () => {
    // tuple_utils.cpp operator<<(ipv6_tuple_t): isIpv4MappedIpv6() -> the IPv4 layout; netstat.cpp
    // map_loop(): print<ipv4_tuple_t>() then print<ipv6_tuple_t>().
    const f = new LegacyFormat(false);
    const mapped = {
      type: 'metrics',
      timestamp: at(1700000000),
      ...base,
      id: 7,
      sport: 1000,
      ...counters,
      incremental: false,
    } as NettracerRecord;
    markMapped(mapped);
    const plain = {
      type: 'metrics',
      timestamp: at(1700000000),
      ...base,
      id: 8,
      sport: 2000,
      ...counters,
      incremental: false,
    } as NettracerRecord;
    f.records([mapped, plain]);
    const lines = f.cycle(1700000001_000).split('\n');
    assert.deepEqual(
      lines.slice(0, 2).map((l) => cols(l)[3]),
      ['07D0', '03E8'],
    );
    assert.deepEqual(lines.slice(2), [' ', '']);
    assert.equal(cols(lines[1])[1], '0', 'IPv4 layout');
  });

  it('prints no cycle once asked to stop', () => {
    assert.equal(new LegacyFormat(false).skipFinalCycle, true);
    assert.equal(new LogFormat().skipFinalCycle, true);
  });
});

describe('table format: netstat.cpp printHeader() and print_human_readable() at 01e3733', () => {
  it('no borders, header once, left-aligned columns max(cols/6, 22) wide, the session count', () => {
    const f = new TableFormat({ columns: 80 }); // 80 / 6 = 13 < 22: 22 wide
    const w = (s: string | number) => String(s).padEnd(22);
    assert.equal(
      f.begin(),
      `${w('local address')}${w('remote address')}${w('pid')}${w('bytes sent')}${w('bytes received ')}${w('rtt')}\n`,
    );
    f.records([
      { type: 'connect', timestamp: at(1700000000), ...base },
      { type: 'metrics', timestamp: at(1700000001), ...base, ...counters, incremental: false },
      {
        type: 'accept',
        timestamp: at(1700000001),
        ...base,
        id: 2,
        family: 'ipv6',
        saddr: '::1',
        sport: 8080,
        daddr: '::1',
        dport: 40000,
        direction: 'incoming',
      },
    ] as NettracerRecord[]);
    assert.equal(
      f.cycle(1700000002_000),
      // printAddr(): setw(fw) "saddr:sport", the arrow, setw(fw) " daddr:dport".
      `${w('127.0.0.1:51234')}->${w(' 127.0.0.1:80')}${w(1234)}${w(1000)}${w(333)}${w(45)}\n` +
        `${w('::1:8080')}<-${w(' ::1:40000')}${w(1234)}${w(0)}${w(0)}${w(0)}\n` +
        // std::cout << tcpSessionsStr, then flush(): " " and a newline.
        'Number of passive tcp sessions: 1, active: 1, established: 2 \n',
    );
    assert.equal(new TableFormat({ columns: 240 }).begin().indexOf('remote address'), 40, '240 / 6 = 40');
  });
});

describe('log format', () => {
  const ts = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const iso = (ms: number) => new Date(ms).toISOString();
  const p = `${localTime(ts)} [4242] info [nettracer] `;

  it('events at once; every interval all stats lines, then all TCP stats lines, IPv4 before IPv6', () => {
    // connections_printing.cpp: updateConnectionsAfterEvent() logs "event <type> <tuple> PID:<pid>";
    // updateConnectionsFromMaps() walks the stats map, then the tcp_stats map, per family
    // (nettracer.cpp: IPv4, then IPv6); tuple_utils.cpp: directionSigns "--", "<-", "->".
    const f = new LogFormat({ level: 'info', tid: 4242 });
    const v6 = { ...base, id: 2, family: 'ipv6', saddr: '::1', sport: 8080, daddr: '::1', dport: 40000 } as const;
    const out = f.records([
      { type: 'connect', timestamp: iso(ts), ...base },
      { type: 'accept', timestamp: iso(ts), ...v6, direction: 'incoming' },
      { type: 'metrics', timestamp: iso(ts), ...v6, direction: 'incoming', ...counters, incremental: false },
      { type: 'metrics', timestamp: iso(ts), ...base, ...counters, incremental: false },
    ] as NettracerRecord[]);
    assert.equal(
      out,
      `${p}event connect 127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 PID:1234\n` +
        `${p}event accept ::1:8080 <- ::1:40000 NS:4026531840 PID:1234\n`,
      'stats wait for the interval',
    );
    assert.equal(
      f.cycle(ts),
      `${p}127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 - stats: Bytes sent=1000 Bytes received=333\n` +
        `${p}127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 - TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22\n` +
        `${p}::1:8080 <- ::1:40000 NS:4026531840 - stats: Bytes sent=1000 Bytes received=333\n` +
        `${p}::1:8080 <- ::1:40000 NS:4026531840 - TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22\n`,
    );
  });

  it('a closed connection: its event at once, its final stats at the next interval, then nothing', () => {
    const f = new LogFormat({ level: 'info', tid: 4242 });
    const close = {
      type: 'close',
      timestamp: iso(ts),
      ...base,
      ...counters,
      packets_sent: 12,
      duration_ms: 5,
    } as NettracerRecord;
    assert.equal(
      f.records([{ type: 'connect', timestamp: iso(ts), ...base }, close]),
      `${p}event connect 127.0.0.1:51234 -> 127.0.0.1:80 NS:4026531840 PID:1234\n` +
        `${p}event close 127.0.0.1:51234 -- 127.0.0.1:80 NS:4026531840 PID:1234\n`,
    );
    assert.match(f.cycle(ts), /- stats: Bytes sent=1000 .*\n.*- TCP stats: .*Segs_out=12 /);
    assert.equal(f.cycle(ts + 30_000), '', 'gone after its final lines');
  });

  it('-i and -s do not change the numbers: totals without header bytes', () => {
    // connections_printing.cpp logs the maps' sent_bytes/received_bytes as they are.
    const f = new LogFormat({ level: 'info', tid: 4242, headerSize: true });
    const m = (bytes: number, segs: number) =>
      ({
        type: 'metrics',
        timestamp: iso(ts),
        ...base,
        ...counters,
        bytes_sent: bytes + 66 * segs,
        packets_sent: segs,
        incremental: true,
      }) as NettracerRecord;
    f.records([m(600, 4)]);
    f.cycle(ts);
    f.records([m(400, 6)]);
    assert.match(f.cycle(ts), /Bytes sent=1000 .*\n.*Segs_out=10 /);
  });

  it('connections no event named (open before tracing) show "--"', () => {
    const f = new LogFormat({ level: 'info', tid: 4242 });
    f.records([{ type: 'existing', timestamp: iso(ts), ...base, ...counters }]);
    assert.match(f.cycle(ts), /^.* 127\.0\.0\.1:51234 -- 127\.0\.0\.1:80 NS:4026531840 - stats: /);
  });

  it('start-up and shutdown lines, as nettracer.cpp logs them', () => {
    const f = new LogFormat({
      level: 'info',
      tid: 4242,
      setup: {
        version: '0.1.0',
        intervalS: 10,
        mapSize: 2000000,
        mapSizeMax: 1048576,
        countersIntervalS: 300,
        cpus: 2,
        events: true,
      },
    });
    assert.equal(
      f.begin(ts),
      `${p}Starting NetTracer v0.1.0\n${p}time_interval: 10\n${p}map_size: 2000000\n` +
        `${p}map_size too large: 2000000, using maximum value allowed: 1048576\n${p}BPF program loaded\n` +
        `${p}Starting TCP IPv4 events\n${p}Starting TCP IPv6 events\n` +
        `${p}Starting BPF debug counters logger (interval=300s, cpus=2)\n`,
    );
    assert.equal(f.end(ts), `${p}Events stopped\n${p}NetTracer stop reason 0\n`);
  });

  it("debug counters: non-zero deltas only, in the original's layout, never at exit", () => {
    // nettracer.cpp runDebugCountersLoop(): LOG_INFO("[bpf_debug_counters] delta:      {}", ...) when not empty.
    const f = new LogFormat({ level: 'info', tid: 4242 });
    const stats = (lost: number, misses: number, final: boolean) =>
      ({
        type: 'stats',
        timestamp: iso(ts),
        records_sent: 10,
        records_lost: lost,
        connections_tracked: 3,
        connections_untracked: 0,
        unaccepted_closes: 0,
        hook_misses: misses,
        hooks: [],
        final,
      }) as NettracerRecord;
    assert.equal(f.records([stats(0, 0, false)]), '', 'nothing grew');
    assert.equal(
      f.records([stats(5, 2, false)]),
      `${p}[bpf_debug_counters] delta:      records_lost=5 hook_misses=2\n`,
    );
    assert.equal(f.records([stats(6, 2, false)]), `${p}[bpf_debug_counters] delta:      records_lost=1\n`);
    assert.equal(f.records([stats(9, 9, true)]), '', 'not at exit');
  });

  it('an IPv6 socket between IPv4-mapped addresses: ::ffff:a.b.c.d, in the IPv6 pass', () => {
    // tuple_utils.cpp to_string(ipv6_tuple_t): inet_ntop(AF_INET6) of the mapped address.
    const f = new LogFormat({ level: 'info', tid: 4242 });
    const mapped = { type: 'connect', timestamp: iso(ts), ...base, id: 7 } as NettracerRecord;
    markMapped(mapped);
    const m2 = {
      type: 'metrics',
      timestamp: iso(ts),
      ...base,
      id: 7,
      ...counters,
      incremental: false,
    } as NettracerRecord;
    markMapped(m2);
    assert.equal(
      f.records([
        mapped,
        m2,
        {
          type: 'metrics',
          timestamp: iso(ts),
          ...base,
          id: 8,
          sport: 9,
          ...counters,
          incremental: false,
        },
      ]),
      `${p}event connect ::ffff:127.0.0.1:51234 -> ::ffff:127.0.0.1:80 NS:4026531840 PID:1234\n`,
    );
    const lines = f.cycle(ts).trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.slice(p.length, p.length + 24)),
      ['127.0.0.1:9 -- 127.0.0.1', '127.0.0.1:9 -- 127.0.0.1', '::ffff:127.0.0.1:51234 -', '::ffff:127.0.0.1:51234 -'],
    );
  });

  it('the level coloured on a terminal (spdlog ansicolor sink)', () => {
    const f = new LogFormat({ level: 'info', tid: 4242, colour: true });
    assert.equal(f.line(ts, 'info', 'x'), `${localTime(ts)} [4242] \x1b[32minfo\x1b[m [nettracer] x\n`);
    assert.equal(new LogFormat({ level: 'warning' }).line(ts, 'info', 'x'), '', '-d warning hides info');
  });

  it('a failed attempt, which the original never saw: at debug in log, left out of legacy and table', () => {
    const failed = {
      type: 'connect_failed',
      timestamp: iso(ts),
      ...base,
      dport: 1,
      error: 'ECONNREFUSED',
      errno: 111,
      syns_sent: 1,
      duration_ms: 0.1,
    } as NettracerRecord;
    assert.equal(
      new LogFormat({ level: 'debug', tid: 4242 }).records([failed]),
      `${localTime(ts)} [4242] debug [nettracer] connect_failed 127.0.0.1:51234 -> 127.0.0.1:1 NS:4026531840 PID:1234 error:ECONNREFUSED syns:1\n`,
    );
    assert.equal(new LogFormat({ level: 'info', tid: 4242 }).records([failed]), '', 'not at the default level');
    const legacy = new LegacyFormat(false);
    legacy.records([failed]);
    assert.equal(legacy.cycle(ts), ' \n', 'no row: only the interval separator');
    const table = new TableFormat();
    table.records([failed]);
    assert.equal(table.cycle(ts), 'Number of passive tcp sessions: 0, active: 0, established: 0 \n');
  });
});
