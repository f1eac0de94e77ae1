// The agent's two ways in for a metrics walk give the same windows: every
// record decoded to an object (the path --capture takes), or the walk's
// records read in memory by its sampler with only the opening and closing
// records as objects (the default). Fed the same kernel records, laid out as
// the kernel writes them (the wire layout's offsets): a connection found
// open at start (its SYN byte), one whose 32-bit packet counter wraps, one
// whose owner changes, one the agent sees first in a walk, and closes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent, RateLimitedLog } from '../../src/agent/agent.js';
import { metricsOf } from '../../src/agent/metrics.js';
import type { Window } from '../../src/agent/series.js';
import { ObjectWriter } from '../../src/encode/writers.js';
import { DIRECTION, FLAG, KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';

interface K {
  kind: number;
  id: number;
  pid?: number;
  comm?: string;
  bytesSent?: number;
  bytesReceived?: number;
  packetsSent?: number;
  packetsReceived?: number;
  retrans?: number;
  rtt?: number;
  flags?: number;
  direction?: number;
  sport?: number;
}

function batch(records: K[]): Buffer {
  const b = Buffer.alloc(records.length * RECORD_SIZE);
  records.forEach((r, i) => {
    const at = i * RECORD_SIZE;
    b.writeBigUInt64LE(BigInt(r.id), at + OFF.id);
    b.writeBigUInt64LE(5_000_000_000n + BigInt(i), at + OFF.ts_ns);
    b.writeBigUInt64LE(1_000_000_000n, at + OFF.start_ns);
    b.writeBigUInt64LE(BigInt(r.bytesSent ?? 0), at + OFF.bytes_sent);
    b.writeBigUInt64LE(BigInt(r.bytesReceived ?? 0), at + OFF.bytes_received);
    b.writeUInt32LE(r.packetsSent ?? 0, at + OFF.packets_sent);
    b.writeUInt32LE(r.packetsReceived ?? 0, at + OFF.packets_received);
    b.writeUInt32LE(r.retrans ?? 0, at + OFF.packets_retransmitted);
    b.writeUInt32LE(r.rtt ?? 0, at + OFF.rtt_us);
    b.writeUInt32LE((r.rtt ?? 0) / 2, at + OFF.rtt_var_us);
    b.writeUInt32LE(r.pid ?? 1000, at + OFF.pid);
    b.writeUInt16LE(r.sport ?? 40000 + (r.id % 1000), at + OFF.sport);
    b.writeUInt16LE(80, at + OFF.dport);
    Buffer.from([10, 0, 0, 1]).copy(b, at + OFF.saddr);
    Buffer.from([10, 0, 1, r.id % 250]).copy(b, at + OFF.daddr);
    Buffer.from(r.comm ?? 'curl').copy(b, at + OFF.comm);
    b[at + OFF.family] = 4;
    b[at + OFF.kind] = r.kind;
    b[at + OFF.flags] = r.flags ?? 0;
    b[at + OFF.direction] = r.direction ?? DIRECTION.outgoing;
  });
  return b;
}

const U32 = 2 ** 32;
/** The kernel keeps the flag on the connection's entry: every later record of it carries it. */
const PRE = FLAG.announced | FLAG.preexisting;
/** The kernel's batches: what the ring delivered, then a metrics walk; three windows. */
const WINDOWS: { ring: K[]; walk: K[] }[] = [
  {
    ring: [
      // Found open at start, outgoing: its bytes_sent counts the SYN.
      { kind: KIND.existing, id: 1, bytesSent: 5001, bytesReceived: 300, packetsSent: 9, flags: PRE },
      { kind: KIND.connect, id: 2, pid: 1001, comm: 'wget' },
      { kind: KIND.accept, id: 3, pid: 1002, comm: 'nginx', direction: DIRECTION.incoming, sport: 443 },
    ],
    walk: [
      { kind: KIND.metrics, id: 1, bytesSent: 7001, bytesReceived: 900, packetsSent: 12, rtt: 120, flags: PRE },
      { kind: KIND.metrics, id: 2, pid: 1001, comm: 'wget', bytesSent: 100, packetsSent: U32 - 3, rtt: 2500 },
      {
        kind: KIND.metrics,
        id: 3,
        pid: 1002,
        comm: 'nginx',
        direction: DIRECTION.incoming,
        sport: 443,
        bytesReceived: 64_000,
        packetsReceived: 50,
        retrans: 2,
        rtt: 40,
      },
      // No opening record came (lost): the sampler hands it over as a record.
      { kind: KIND.metrics, id: 4, pid: 1003, comm: 'redis', bytesSent: 10, bytesReceived: 20, rtt: 90 },
    ],
  },
  {
    ring: [],
    walk: [
      { kind: KIND.metrics, id: 1, bytesSent: 9001, bytesReceived: 1900, packetsSent: 20, rtt: 130, flags: PRE },
      // The 32-bit packet counter wrapped.
      { kind: KIND.metrics, id: 2, pid: 1001, comm: 'wget', bytesSent: 400, packetsSent: 5, rtt: 2600 },
      // A new owner (the socket passed on): handed over as a record.
      {
        kind: KIND.metrics,
        id: 3,
        pid: 1009,
        comm: 'worker',
        direction: DIRECTION.incoming,
        sport: 443,
        bytesReceived: 80_000,
        packetsReceived: 70,
        retrans: 3,
        rtt: 45,
      },
      { kind: KIND.metrics, id: 4, pid: 1003, comm: 'redis', bytesSent: 30, bytesReceived: 25, rtt: 95 },
    ],
  },
  {
    ring: [
      { kind: KIND.close, id: 2, pid: 1001, comm: 'wget', bytesSent: 450, packetsSent: 9, rtt: 2700 },
      // A connection opened in the last window, in no walk yet.
      { kind: KIND.connect, id: 5, pid: 1004, comm: 'psql' },
    ],
    walk: [
      { kind: KIND.metrics, id: 1, bytesSent: 9501, bytesReceived: 2000, packetsSent: 25, rtt: 110, flags: PRE },
      {
        kind: KIND.metrics,
        id: 3,
        pid: 1009,
        comm: 'worker',
        direction: DIRECTION.incoming,
        sport: 443,
        bytesReceived: 81_000,
        packetsReceived: 71,
        retrans: 3,
        rtt: 44,
      },
      { kind: KIND.metrics, id: 4, pid: 1003, comm: 'redis', bytesSent: 31, bytesReceived: 26, rtt: 97 },
    ],
  },
];

function run(withPid: boolean, sampled: boolean): { windows: Window[]; agent: Agent } {
  const agent = new Agent(
    {
      defs: metricsOf('both'),
      host: 'h',
      peers: { by: 'address' },
      withPid,
      maxSeries: 1000,
      expireWindows: 5,
    },
    new RateLimitedLog(() => {}),
  );
  const windows: Window[] = [];
  agent.addSink({ apply: (w) => windows.push(w) });
  const writer = new ObjectWriter({ incremental: false, headerSize: false });
  writer.listeners(Buffer.alloc(0));
  const asRecords = (b: Buffer) => {
    writer.kernel(b);
    agent.records(writer.take());
  };
  agent.begin(0);
  WINDOWS.forEach((w, i) => {
    asRecords(batch(w.ring));
    const walk = batch(w.walk);
    if (sampled) {
      agent.sampler.begin();
      for (const j of agent.sampler.add(walk)) asRecords(walk.subarray(j * RECORD_SIZE, (j + 1) * RECORD_SIZE));
      agent.sampler.end();
    } else asRecords(walk);
    agent.cycle((i + 1) * 10_000);
  });
  return { windows, agent };
}

/** A window's points by metric and series, histograms as their counts. */
function table(w: Window): [string, unknown][] {
  const rows: [string, unknown][] = w.points.map((p) => [
    `${p.def.name} ${p.key}`,
    p.hist ? { ...p.hist, min: p.hist.count ? p.hist.min : null, max: p.hist.count ? p.hist.max : null } : p.value,
  ]);
  return rows.sort((a, b) => a[0].localeCompare(b[0]));
}

describe('agent: a metrics walk in memory or as records', () => {
  for (const withPid of [false, true]) {
    it(`gives the same points, window by window${withPid ? ' (with process.pid)' : ''}`, () => {
      const records = run(withPid, false);
      const sampled = run(withPid, true);
      assert.equal(sampled.windows.length, 3);
      sampled.windows.forEach((w, i) => {
        assert.ok(w.points.length > 10, 'points to compare');
        assert.deepEqual(table(w), table(records.windows[i]), `window ${i + 1}`);
        assert.deepEqual(
          w.expired.map((e) => `${e.def.name} ${e.key}`).sort(),
          records.windows[i].expired.map((e) => `${e.def.name} ${e.key}`).sort(),
        );
      });
      // Followed connections read in memory; the unknown one and the new owner came back as records.
      // Window 1: 1, 2, 3 (4 comes back); window 2: 1, 2, 4 (3's new owner comes back); window 3: 1, 3, 4.
      assert.equal(sampled.agent.sampled, 9);
      assert.equal(sampled.agent.handedOver, 2);
      assert.equal(records.agent.sampled, 0);
    });
  }

  it('the numbers are the kernel readings: the SYN byte off a connection found open, packets across the wrap', () => {
    const { windows } = run(false, true);
    const tx = (w: Window) =>
      w.points
        .filter((p) => p.def.name === 'nettracer.tcp.bytes' && p.attrs['network.io.direction'] === 'transmit')
        .reduce((a, p) => a + p.value, 0);
    // Window 1: connection 1 sent 7001 - 5001 (its SYN off both readings), 2 sent 100, 4 sent 10.
    assert.equal(tx(windows[0]), 2000 + 100 + 10);
    const pkts = (w: Window) =>
      w.points
        .filter((p) => p.def.name === 'tech.nettracer.pkts_tx' && p.attrs['process.executable.name'] === 'wget')
        .reduce((a, p) => a + p.value, 0);
    // wget: 2^32 - 3 packets, then 5 after the wrap: 8 more.
    assert.equal(pkts(windows[0]), U32 - 3);
    assert.equal(pkts(windows[1]), 8);
  });
});

describe('agent: a connection whose close record was lost', () => {
  it('is forgotten after expireWindows windows no walk saw it, and handed over if it comes back', () => {
    const agent = new Agent(
      { defs: metricsOf('otel'), host: 'h', peers: { by: 'none' }, withPid: false, maxSeries: 100, expireWindows: 2 },
      new RateLimitedLog(() => {}),
    );
    const writer = new ObjectWriter({ incremental: false, headerSize: false });
    writer.listeners(Buffer.alloc(0));
    agent.begin(0);
    writer.kernel(batch([{ kind: KIND.connect, id: 7 }]));
    agent.records(writer.take());
    const walk = (records: K[]) => {
      agent.sampler.begin();
      const back = agent.sampler.add(batch(records));
      agent.sampler.end();
      return back;
    };
    assert.deepEqual(walk([{ kind: KIND.metrics, id: 7, bytesSent: 10 }]), []);
    agent.cycle(10_000);
    assert.equal(agent.series.connections, 1);
    assert.equal(agent.sessions, 1);
    // Its close record is lost: no walk lists it any more.
    for (let w = 2; w <= 3; w++) {
      walk([]);
      agent.cycle(w * 10_000);
    }
    assert.equal(agent.series.connections, 0, 'forgotten');
    assert.equal(agent.sessions, 0, 'forgotten by the aggregator too');
    assert.deepEqual(
      walk([{ kind: KIND.metrics, id: 7, bytesSent: 20 }]),
      [0],
      'not followed any more: its record is needed',
    );
  });
});
