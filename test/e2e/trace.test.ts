// End to end, as root: the real tracer against real loopback traffic, checked
// against what the traffic generator itself counted and what TCP_INFO said.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AnyRecord, assertValidLine } from '../helpers/schemas.js';
import {
  killAll,
  startGenerator,
  startTracer,
  type GeneratedConnection,
  type TcpInfo,
  type TracerProcess,
} from '../helpers/processes.js';

const INTERVAL = 1;
const HOLD = 3.5; // several metric intervals

// Different byte counts in each direction and for every connection.
const SPEC = {
  connections: [
    { family: 4 as const, client_bytes: 1000, server_bytes: 333 },
    { family: 4 as const, client_bytes: 250_000, server_bytes: 17 },
    { family: 6 as const, client_bytes: 4321, server_bytes: 98_765 },
    { family: 6 as const, client_bytes: 1, server_bytes: 0 },
  ],
  hold: HOLD,
};

type Rec = AnyRecord;

interface Capture {
  all: TracerProcess; // --with-loopback (auto: the calls path on this kernel)
  counters: TracerProcess; // --with-loopback -b counters: the path of kernels before 6.3
  noLoopback: TracerProcess; // the default
  byPid: TracerProcess; // --pid <generator>
  byPidCounters: TracerProcess; // --pid <generator> -b counters: owners claimed at a walk or at close
  byPort: TracerProcess; // --port <IPv4 listener>
  incremental: TracerProcess; // -i
  headerSize: TracerProcess; // -s
}

let gen: Awaited<ReturnType<typeof startGenerator>>;
let truth: GeneratedConnection[];
let cap: Capture;
let records: Record<keyof Capture, Rec[]>;
let exitCodes: Record<keyof Capture, number | undefined>;
let otherPort = 0;

function parseAll(t: TracerProcess): Rec[] {
  return t.lines.map((l) => assertValidLine(l));
}

/** A loopback connection made by this test process, not by the generator. */
async function otherConnection(): Promise<void> {
  const server = net.createServer((s) => s.end('bye'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  otherPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    const c = net.connect(otherPort, '127.0.0.1');
    c.on('data', () => {});
    c.on('end', () => {
      c.end();
      resolve();
    });
    c.on('error', reject);
  });
  server.close();
}

before(async () => {
  gen = await startGenerator(SPEC);
  const [all, counters, noLoopback, byPid, byPidCounters, byPort, incremental, headerSize] = await Promise.all([
    startTracer(['-f', '-t', String(INTERVAL)]),
    startTracer(['-f', '-t', String(INTERVAL), '-b', 'counters']),
    startTracer(['-t', String(INTERVAL)]),
    startTracer(['-f', '-t', String(INTERVAL), '--pid', String(gen.pid)]),
    startTracer(['-f', '-t', String(INTERVAL), '--pid', String(gen.pid), '-b', 'counters']),
    startTracer(['-f', '-t', String(INTERVAL), '--port', String(gen.ports['4'])]),
    startTracer(['-f', '-t', String(INTERVAL), '-i']),
    startTracer(['-f', '-t', String(INTERVAL), '-s']),
  ]);
  cap = { all, counters, noLoopback, byPid, byPidCounters, byPort, incremental, headerSize };
  const generated = gen.run();
  await otherConnection();
  truth = await generated;
  await new Promise((r) => setTimeout(r, 300)); // last close records reach the tracers
  exitCodes = {} as typeof exitCodes;
  records = {} as typeof records;
  for (const [k, t] of Object.entries(cap) as [keyof Capture, TracerProcess][]) {
    exitCodes[k] = await t.stop();
    records[k] = parseAll(t);
  }
});

after(killAll);

function ends(c: GeneratedConnection) {
  return [
    {
      role: 'client',
      local: c.client,
      remote: c.server,
      sent: c.client_sent,
      received: c.client_received,
      info: c.client_tcp_info,
      direction: 'outgoing',
      start: 'connect',
    },
    {
      role: 'server',
      local: c.server,
      remote: c.client,
      sent: c.server_sent,
      received: c.server_received,
      info: c.server_tcp_info,
      direction: 'incoming',
      start: 'accept',
    },
  ] as const;
}

function mine(recs: Rec[], local: { addr: string; port: number }, remote: { addr: string; port: number }): Rec[] {
  return recs.filter(
    (r) => r.saddr === local.addr && r.sport === local.port && r.daddr === remote.addr && r.dport === remote.port,
  );
}

function assertPacketsAgree(rec: Rec, info: TcpInfo, what: string): void {
  // The tracer reads at CLOSE, TCP_INFO was read just before close():
  // the FIN exchange (FIN and ACK each way) may add up to 2 segments each way.
  assert.ok(
    rec.packets_sent! >= info.segs_out && rec.packets_sent! <= info.segs_out + 2,
    `${what}: packets_sent ${rec.packets_sent} vs TCP_INFO segs_out ${info.segs_out}`,
  );
  assert.ok(
    rec.packets_received! >= info.segs_in && rec.packets_received! <= info.segs_in + 2,
    `${what}: packets_received ${rec.packets_received} vs TCP_INFO segs_in ${info.segs_in}`,
  );
  assert.equal(rec.packets_retransmitted, info.total_retrans, `${what}: retransmissions`);
}

describe('nettracer trace, end to end over loopback', () => {
  it('exits 0 on SIGINT, every tracer', () => {
    assert.deepEqual(exitCodes, {
      all: 0,
      counters: 0,
      noLoopback: 0,
      byPid: 0,
      byPidCounters: 0,
      byPort: 0,
      incremental: 0,
      headerSize: 0,
    });
  });

  it('each tracer says where its byte counts come from', () => {
    const from = (k: keyof Capture) => records[k].filter((r) => r.type === 'stats').at(-1)?.bytes_from;
    assert.equal(from('all'), 'calls', 'auto takes the send and receive hooks on this kernel');
    assert.equal(from('counters'), 'counters');
  });

  it('generator moved what was asked (sanity of the truth)', () => {
    assert.equal(truth.length, SPEC.connections.length);
    truth.forEach((c, i) => {
      assert.equal(c.client_sent, SPEC.connections[i].client_bytes);
      assert.equal(c.server_received, SPEC.connections[i].client_bytes);
      assert.equal(c.server_sent, SPEC.connections[i].server_bytes);
      assert.equal(c.client_received, SPEC.connections[i].server_bytes);
    });
  });

  for (const path of ['all', 'counters'] as const) {
    for (let i = 0; i < SPEC.connections.length; i++) {
      const spec = SPEC.connections[i];
      it(`${path === 'all' ? 'calls' : 'counters'} path, connection ${i} (IPv${spec.family}, ${spec.client_bytes}/${spec.server_bytes} B): one connect, one accept, metrics, exact closes`, () => {
        const c = truth[i];
        const all = records[path];
        for (const end of ends(c)) {
          const what = `connection ${i} ${end.role}`;
          const recs = mine(all, end.local, end.remote);
          const starts = recs.filter((r) => r.type === 'connect' || r.type === 'accept');
          assert.equal(starts.length, 1, `${what}: exactly one connect/accept, got ${JSON.stringify(starts)}`);
          const start = starts[0];
          assert.equal(start.type, end.start, what);
          assert.equal(start.pid, gen.pid, `${what}: PID of the generator`);
          assert.equal(start.comm, 'python3', what);
          assert.equal(start.direction, end.direction, what);
          assert.equal(start.family, `ipv${c.family}`, what);
          assert.ok(start.netns! > 0, what);

          const id = start.id;
          assert.ok(
            recs.every((r) => r.id === id),
            `${what}: one id for every record`,
          );
          assert.ok(
            recs.every((r) => r.pid === gen.pid && r.netns === start.netns),
            `${what}: same owner throughout`,
          );

          const closes = recs.filter((r) => r.type === 'close');
          assert.equal(closes.length, 1, `${what}: exactly one close`);
          const close = closes[0];
          assert.equal(close.bytes_sent, end.sent, `${what}: bytes_sent`);
          assert.equal(close.bytes_received, end.received, `${what}: bytes_received`);
          assertPacketsAgree(close, end.info, what);
          assert.ok(close.rtt_us! > 0, `${what}: rtt ${close.rtt_us}`);
          assert.ok(close.duration_ms! >= HOLD * 1000 * 0.9, `${what}: duration ${close.duration_ms} ms`);

          const metrics = recs.filter((r) => r.type === 'metrics');
          assert.ok(metrics.length >= 2, `${what}: metrics while open, got ${metrics.length}`);
          for (const m of metrics) {
            assert.ok(
              m.timestamp! >= start.timestamp! && m.timestamp! <= close.timestamp!,
              `${what}: metrics inside the connection's life`,
            );
            assert.equal(m.incremental, false);
            assert.ok(
              m.bytes_sent! <= end.sent && m.bytes_received! <= end.received,
              `${what}: metrics never exceed the totals`,
            );
            assert.ok(m.rtt_us! > 0);
          }
          const last = metrics[metrics.length - 1];
          // All bytes moved before the hold: the last snapshot has them all, and TCP_INFO agrees on segments.
          assert.equal(last.bytes_sent, end.sent, `${what}: last metrics bytes_sent`);
          assert.equal(last.bytes_received, end.received, `${what}: last metrics bytes_received`);
          assert.ok(
            last.packets_sent! <= end.info.segs_out && last.packets_received! <= end.info.segs_in,
            `${what}: metrics segments`,
          );
          assert.ok(all.indexOf(start) < all.indexOf(metrics[0]), `${what}: connect/accept precedes metrics`);
          assert.ok(all.indexOf(last) < all.indexOf(close), `${what}: close comes last`);
        }
      });
    }
  }

  it('--incremental: metrics carry deltas that add up to the totals, and say so', () => {
    for (const c of truth) {
      for (const end of ends(c)) {
        const recs = mine(records.incremental, end.local, end.remote);
        const metrics = recs.filter((r) => r.type === 'metrics');
        assert.ok(metrics.length >= 2);
        assert.ok(metrics.every((m) => m.incremental === true));
        const sum = (k: 'bytes_sent' | 'bytes_received' | 'packets_sent') => metrics.reduce((a, m) => a + m[k]!, 0);
        assert.equal(sum('bytes_sent'), end.sent);
        assert.equal(sum('bytes_received'), end.received);
        assert.equal(metrics[metrics.length - 1].bytes_sent, 0, 'nothing moved during the hold');
        assert.ok(sum('packets_sent') <= end.info.segs_out);
        const close = recs.find((r) => r.type === 'close')!;
        assert.equal(close.bytes_sent, end.sent, 'close carries totals');
      }
    }
  });

  it('--header-size adds exactly 66 (IPv4) or 77 (IPv6) bytes per packet', () => {
    for (const c of truth) {
      for (const end of ends(c)) {
        const close = mine(records.headerSize, end.local, end.remote).find((r) => r.type === 'close')!;
        const per = c.family === 4 ? 66 : 77;
        assert.equal(close.bytes_sent, end.sent + per * close.packets_sent!);
        assert.equal(close.bytes_received, end.received + per * close.packets_received!);
      }
    }
  });

  it('without --with-loopback, no loopback connection appears', () => {
    const loop = records.noLoopback.filter((r) => 'saddr' in r && (r.daddr!.startsWith('127.') || r.daddr === '::1'));
    assert.deepEqual(loop, []);
    assert.ok(records.all.length > 0);
  });

  it("--pid keeps only the generator's connections, both ends, on either path", () => {
    for (const k of ['byPid', 'byPidCounters'] as const) {
      const conns = records[k].filter((r) => 'saddr' in r);
      assert.ok(conns.length > 0, k);
      assert.ok(
        conns.every((r) => r.pid === gen.pid),
        `${k}: only the generator`,
      );
      assert.equal(conns.filter((r) => r.type === 'close').length, truth.length * 2, k);
      assert.ok(!conns.some((r) => r.sport === otherPort || r.dport === otherPort), k);
    }
    assert.ok(
      records.all.some((r) => r.dport === otherPort && r.pid === process.pid),
      'the other connection was traced with our PID',
    );
  });

  it('--port keeps only connections with that port at either end', () => {
    const port = gen.ports['4'];
    const conns = records.byPort.filter((r) => 'saddr' in r);
    assert.ok(conns.every((r) => r.sport === port || r.dport === port));
    const closes = conns.filter((r) => r.type === 'close');
    assert.equal(closes.length, 2 * SPEC.connections.filter((c) => c.family === 4).length);
  });
});
