// The agent's pure parts: the metric table, the points of a window (the
// Dynatrace set equal to summarize's rows, the OTel set to the sessions'
// deltas), the cardinality controls, the OTLP settings and the rate-limited log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent, RateLimitedLog } from '../../src/agent/agent.js';
import { ConfigProblem, otlpConfig, redact } from '../../src/agent/config.js';
import { METRICS, metricsOf, RTT_BUCKETS_S } from '../../src/agent/metrics.js';
import { connectionAttributes, Series, type Window } from '../../src/agent/series.js';
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
  sport: 40000 + id,
  daddr: `10.0.${id}.2`,
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
  rtt_var_us: rtt / 2,
});
const metrics = (id: number, pid: number, t: number, c: ReturnType<typeof counters>) =>
  ({ type: 'metrics', timestamp: at(t), ...conn(id, pid), ...c, incremental: false }) as NettracerRecord;

/** Two windows of three connections of two processes. */
const WINDOWS: { records: NettracerRecord[]; cut: number }[] = [
  {
    records: [
      { type: 'connect', timestamp: at(0), ...conn(1, 10) },
      { type: 'connect', timestamp: at(0), ...conn(2, 10) },
      { type: 'accept', timestamp: at(1), ...conn(3, 20, { direction: 'incoming', sport: 443 }) },
      metrics(1, 10, 5, counters(1000, 10, 90, 20, 10, 2000)),
      metrics(2, 10, 5, counters(3000, 30, 10, 5, 0, 4000)),
      metrics(3, 20, 5, counters(500, 7, 5, 5, 1, 300)),
    ] as NettracerRecord[],
    cut: 6,
  },
  {
    records: [
      metrics(1, 10, 9, counters(1500, 40, 95, 30, 12, 2500)),
      {
        type: 'close',
        timestamp: at(10),
        ...conn(2, 10),
        ...counters(9000, 30, 20, 9, 0, 4000),
        duration_ms: 10000,
      },
    ] as NettracerRecord[],
    cut: 12,
  },
];

function runAgent(set: 'otel' | 'dynatrace' | 'both', opts: Partial<ConstructorParameters<typeof Agent>[0]> = {}) {
  const windows: Window[] = [];
  const lines: string[] = [];
  const agent = new Agent(
    {
      defs: metricsOf(set),
      host: 'h',
      peers: { by: 'none' },
      withPid: true,
      maxSeries: 1000,
      expireWindows: 5,
      ...opts,
    },
    new RateLimitedLog((l) => lines.push(l)),
  );
  agent.addSink({ apply: (w) => windows.push(w) });
  agent.begin(T0);
  for (const w of WINDOWS) {
    agent.records(w.records);
    agent.cycle(T0 + w.cut * 1000);
  }
  return { windows, lines, agent };
}

const pointsOf = (w: Window, name: string) => w.points.filter((p) => p.def.name === name);
/** The values of points that are not histograms. */
const obs = (points: Window['points']) => points.map((p) => p.value);
/** Histogram points merged: sum, count, min, max and the bucket counts. */
function hstats(points: Window['points']) {
  const h = { sum: 0, count: 0, min: Infinity, max: -Infinity, counts: [] as number[] };
  for (const p of points) {
    assert.ok(p.hist, `${p.def.name} is a histogram`);
    h.sum += p.hist.sum;
    h.count += p.hist.count;
    h.min = Math.min(h.min, p.hist.min);
    h.max = Math.max(h.max, p.hist.max);
    p.hist.counts.forEach((c, i) => (h.counts[i] = (h.counts[i] ?? 0) + c));
  }
  return h;
}

describe('agent metric table', () => {
  it('names are unique; Prometheus names carry the unit and _total on counters', () => {
    assert.equal(new Set(METRICS.map((m) => m.name)).size, METRICS.length);
    assert.equal(new Set(METRICS.map((m) => m.prom)).size, METRICS.length);
    for (const m of METRICS) {
      if (m.kind === 'counter') assert.match(m.prom, /_total$/, m.name);
      else assert.doesNotMatch(m.prom, /_total$/, m.name);
      if (m.unit === 's') assert.match(m.prom, /_seconds$/, m.name);
      if (m.kind === 'histogram') assert.ok(m.buckets?.length, `${m.name} has explicit buckets`);
      assert.match(m.name, m.set === 'otel' ? /^nettracer\.tcp\./ : /^tech\.nettracer\./);
    }
    assert.ok(RTT_BUCKETS_S[0] < 0.001 && RTT_BUCKETS_S.at(-1)! >= 1, 'RTT buckets in seconds, sub-ms to seconds');
  });
});

describe('agent windows', () => {
  it("the Dynatrace set is summarize's rows for the same windows", () => {
    const { windows } = runAgent('dynatrace');
    const agg = new Aggregator({ host: 'h', by: ['host', 'container', 'process'] });
    agg.begin(T0);
    const rows = WINDOWS.map((w) => {
      for (const r of w.records) agg.add(r);
      return agg.cut(T0 + w.cut * 1000);
    });
    assert.equal(windows.length, 2);
    windows.forEach((w, i) => {
      for (const row of rows[i]) {
        const mine = (name: string) =>
          pointsOf(w, name).filter((p) =>
            row.dimension === 'host' ? !('process.pid' in p.attrs) : p.attrs['process.pid'] === row.pid,
          );
        assert.equal(mine('tech.nettracer.pkts_tx')[0].value, row.pkts_tx);
        assert.equal(mine('tech.nettracer.pkts_rx')[0].value, row.pkts_rx);
        assert.equal(mine('tech.nettracer.pkts_retr')[0].value, row.pkts_retr);
        assert.equal(mine('tech.nettracer.retr_percentage')[0].value, row.retr_percentage);
        assert.equal(mine('tech.nettracer.traffic_tx')[0].value, row.traffic_tx);
        assert.equal(mine('tech.nettracer.traffic')[0].value, row.traffic);
        if (row.rtt) assert.equal(mine('tech.nettracer.rtt')[0].value, row.rtt.avg);
        else assert.equal(mine('tech.nettracer.rtt').length, 0, 'no RTT sample: no point');
        for (const [name, stats] of [
          ['tech.nettracer.bytes_rx', row.bytes_rx],
          ['tech.nettracer.bytes_tx', row.bytes_tx],
        ] as const) {
          const v = hstats(mine(name));
          assert.deepEqual(
            { sum: v.sum, count: v.count, min: v.min, max: v.max },
            { sum: stats.sum, count: stats.count, min: stats.min, max: stats.max },
            `${name} of the ${row.dimension} row ${row.pid ?? ''}`,
          );
        }
      }
    });
  });

  it('the OTel set: deltas per connection, RTT in seconds, attempts, durations, open connections', () => {
    const { windows } = runAgent('otel');
    const sum = (name: string, keep: (a: Record<string, unknown>) => boolean = () => true) =>
      obs(windows.flatMap((w) => pointsOf(w, name).filter((p) => keep(p.attrs)))).reduce((a, v) => a + v, 0);
    const tx = (a: Record<string, unknown>) => a['network.io.direction'] === 'transmit';
    // Final totals: 1500 + 9000 + 500.
    assert.equal(sum('nettracer.tcp.bytes', tx), 11000);
    assert.equal(sum('nettracer.tcp.retransmits'), 13);
    assert.equal(sum('nettracer.tcp.connection.attempts'), 3);
    const duration = hstats(windows.flatMap((w) => pointsOf(w, 'nettracer.tcp.connection.duration')));
    assert.deepEqual([duration.count, duration.sum], [1, 10]);
    // RTTs of 2 ms, 4 ms and 300 us, each in the bucket whose upper bound is the first at or above it.
    const rtt = hstats(pointsOf(windows[0], 'nettracer.tcp.rtt'));
    assert.deepEqual([rtt.count, rtt.min, rtt.max], [3, 0.0003, 0.004]);
    assert.ok(Math.abs(rtt.sum - 0.0063) < 1e-12);
    const le = (bound: number) => RTT_BUCKETS_S.indexOf(bound);
    assert.deepEqual(
      rtt.counts.flatMap((c, i) => (c ? [[i, c]] : [])),
      [
        [le(0.0005), 1],
        [le(0.0025), 1],
        [le(0.005), 1],
      ],
    );
    assert.equal(sum('nettracer.tcp.connections'), 2, 'three opened, one closed');
  });

  it('connection attributes: the server port, never the client port; peers as asked; PID only if asked', () => {
    const out = conn(1, 10) as Extract<NettracerRecord, { saddr: string }>;
    const inc = conn(2, 10, { direction: 'incoming', sport: 443, dport: 51000 }) as typeof out;
    const none = () => undefined;
    assert.deepEqual(connectionAttributes(out, none, false), {
      'network.transport': 'tcp',
      'network.type': 'ipv4',
      'server.port': 80,
      'process.executable.name': 'p10',
    });
    const a = connectionAttributes(inc, (x) => x, true);
    assert.equal(a['server.port'], 443);
    assert.equal(a['client.address'], '10.0.2.2');
    assert.equal(a['process.pid'], 10);
    assert.ok(!Object.values(a).includes(51000), 'the ephemeral port appears nowhere');
    const series = new Series(metricsOf('otel'), {
      peers: { by: 'cidr', cidrs: ['10.0.1.0/24', 'fd00::/8'] },
      withPid: false,
      maxSeries: 100,
      expireWindows: 5,
    });
    series.record({ type: 'connect', timestamp: at(0), ...conn(1, 10) } as NettracerRecord);
    series.record({ type: 'connect', timestamp: at(0), ...conn(2, 10) } as NettracerRecord);
    const attempts = series
      .window({ sessions: [], rows: [] })
      .points.filter((p) => p.def.name === 'nettracer.tcp.connection.attempts');
    assert.deepEqual(
      attempts.map((p) => p.attrs['server.address']),
      ['10.0.1.0/24', 'other'],
    );
  });

  it('connections made of the same attributes share a series; a difference that counts makes another', () => {
    // Found by what they are made of (the last few): each difference that counts must miss.
    for (const withPid of [false, true])
      for (const by of ['none', 'address'] as const) {
        const series = new Series(metricsOf('otel'), { peers: { by }, withPid, maxSeries: 100, expireWindows: 5 });
        const variants = [
          {},
          { sport: 51001 }, // the client's port: never an attribute
          { comm: 'other' },
          { dport: 81 },
          { pid: 11 },
          { daddr: '10.0.9.9' },
          { container_id: 'c1' },
          { container_id: 'c1', pod_uid: 'u1' },
          { family: 'ipv6', saddr: '::1', daddr: '::1' },
          { direction: 'incoming', sport: 80, dport: 51000 },
          {},
        ];
        variants.forEach((v, i) =>
          series.record({
            type: 'connect',
            timestamp: at(0),
            ...conn(1, 10, { comm: 'p', ...v }),
            id: 100 + i,
          } as NettracerRecord),
        );
        const attempts = series
          .window({ sessions: [], rows: [] })
          .points.filter((p) => p.def.name === 'nettracer.tcp.connection.attempts');
        const byKey = new Map(attempts.map((p) => [JSON.stringify(p.attrs), p.value]));
        const expected = new Map<string, number>();
        for (const v of variants) {
          const a = connectionAttributes(
            conn(1, 10, { comm: 'p', ...v }) as Parameters<typeof connectionAttributes>[0],
            by === 'none' ? () => undefined : (x) => x,
            withPid,
          );
          const k = JSON.stringify(a);
          expected.set(k, (expected.get(k) ?? 0) + 1);
        }
        assert.equal(byKey.size, expected.size, `series (pid ${withPid}, peers ${by})`);
        for (const [k, n] of expected) assert.equal(byKey.get(k), n, k);
      }
  });

  it('an attribute set forgotten with its last connection is made anew for the next one like it', () => {
    const windows: Window[] = [];
    const agent = new Agent(
      { defs: metricsOf('otel'), host: 'h', peers: { by: 'none' }, withPid: false, maxSeries: 100, expireWindows: 5 },
      new RateLimitedLog(() => {}),
    );
    agent.addSink({ apply: (w) => windows.push(w) });
    agent.begin(T0);
    agent.records([
      { type: 'connect', timestamp: at(0), ...conn(1, 10) },
      { type: 'close', timestamp: at(1), ...conn(1, 10), ...counters(0, 0, 0, 0, 0, 0), duration_ms: 1 },
    ] as NettracerRecord[]);
    agent.cycle(T0 + 2000);
    assert.equal(agent.series.identities, 0, 'forgotten with its connection');
    // The same attributes (another peer and client port: neither is one).
    agent.records([{ type: 'connect', timestamp: at(3), ...conn(2, 10, { daddr: '10.0.1.2' }) }] as NettracerRecord[]);
    agent.cycle(T0 + 4000);
    assert.equal(agent.series.identities, 1);
    assert.deepEqual(
      pointsOf(windows[1], 'nettracer.tcp.connections').map((p) => p.value),
      [1],
      'the open connection is counted',
    );
  });

  it('failed connects: attempts with error.type, and no connection followed', () => {
    const series = new Series(metricsOf('otel'), {
      peers: { by: 'none' },
      withPid: false,
      maxSeries: 100,
      expireWindows: 5,
    });
    const failed = { type: 'connect_failed', timestamp: at(0), ...conn(7, 10), error: 'ECONNREFUSED', errno: 111 };
    series.record({ ...failed, syns_sent: 1, duration_ms: 1 } as NettracerRecord);
    series.record({ ...failed, id: 8, syns_sent: 1, duration_ms: 1 } as NettracerRecord);
    const w = series.window({ sessions: [], rows: [] });
    const attempts = w.points.filter((p) => p.def.name === 'nettracer.tcp.connection.attempts');
    assert.deepEqual(
      attempts.map((p) => [p.attrs['error.type'], p.value]),
      [['ECONNREFUSED', 2]],
    );
    assert.equal(series.connections, 0);
    assert.equal(w.points.filter((p) => p.def.name === 'nettracer.tcp.connections').length, 0, 'nothing opened');
  });

  it('listeners of the stats record: drops and accept queue, a gauge per address and port', () => {
    const series = new Series(metricsOf('otel'), {
      peers: { by: 'none' },
      withPid: false,
      maxSeries: 100,
      expireWindows: 5,
    });
    const listener = { netns: 1, address: '10.0.0.2', port: 7000, accept_queue_max: 1, half_open: 0 };
    series.record({
      type: 'stats',
      timestamp: at(0),
      records_sent: 0,
      records_lost: 0,
      connections_tracked: 0,
      connections_untracked: 0,
      unaccepted_closes: 0,
      hook_misses: 0,
      listeners: [{ ...listener, listen_drops: 12, accept_queue: 2 }],
      hooks: [],
      final: false,
    });
    const w = series.window({ sessions: [], rows: [] });
    const of = (name: string) =>
      w.points
        .filter((p) => p.def.name === name)
        .map((p) => [p.attrs['server.address'], p.attrs['server.port'], p.value]);
    assert.deepEqual(of('nettracer.tcp.listen.drops'), [['10.0.0.2', 7000, 12]]);
    assert.deepEqual(of('nettracer.tcp.listen.accept_queue'), [['10.0.0.2', 7000, 2]]);
  });

  it('a cap on series per metric: the rest go to one overflow series, counted', () => {
    const { windows, agent } = runAgent('otel', { maxSeries: 1 });
    const bytes = windows.flatMap((w) => pointsOf(w, 'nettracer.tcp.bytes'));
    const keys = new Set(bytes.map((p) => JSON.stringify(p.attrs)));
    assert.equal(keys.size, 2, 'one series and the overflow series');
    assert.ok(bytes.some((p) => p.attrs['otel.metric.overflow'] === 'true'));
    assert.ok(agent.series.overflowed > 0);
  });

  it('series that are gone expire: gauges after their window, counters after expireWindows', () => {
    const { windows, agent } = runAgent('both', { expireWindows: 2 });
    assert.ok(windows[1].expired.some((e) => e.def.kind === 'gauge' && e.attrs['process.pid'] === 20));
    const pid20 = (w: Window) =>
      w.expired.filter((e) => e.def.name === 'nettracer.tcp.bytes' && e.attrs['process.pid'] === 20);
    assert.equal(pid20(windows[1]).length, 0, 'one quiet window: still there');
    agent.cycle(T0 + 14_000); // pid 20's connection had its last point two windows ago
    assert.equal(pid20(windows[2]).length, 2, 'both directions of its bytes expire');
    assert.equal(
      agent.series.connections,
      1,
      'the closed connection is forgotten, and so is one in no walk for two windows (its close lost)',
    );
    assert.equal(agent.series.identities, 1, 'attribute sets are shared, and go with their last connection');
  });
});

describe('agent settings', () => {
  it('flags over OTEL_* variables over defaults: delta, gzip, HTTP/protobuf, 60 s', () => {
    const c = otlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'node1');
    assert.equal(c.url, 'http://collector:4318/v1/metrics');
    assert.deepEqual([c.protocol, c.temporality, c.compression, c.intervalS], ['http/protobuf', 'delta', 'gzip', 60]);
    assert.equal(c.resource['host.name'], 'node1');
    const d = otlpConfig(
      { temporality: 'cumulative', intervalS: 5 },
      {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://x/otlp/v1/metrics',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Api-Token%20abc,x=1',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        OTEL_METRIC_EXPORT_INTERVAL: '10000',
        OTEL_SERVICE_NAME: 'nt',
      },
      'h',
    );
    assert.equal(d.url, 'https://x/otlp/v1/metrics');
    assert.deepEqual(d.headers, { authorization: 'Api-Token abc', x: '1' });
    assert.deepEqual(
      [d.protocol, d.temporality, d.intervalS, d.resource['service.name']],
      ['http/json', 'cumulative', 5, 'nt'],
    );
    assert.equal(otlpConfig({}, {}, 'h').url, undefined, 'no endpoint: no OTLP');
  });

  it('bad settings are refused in words that show no secret', () => {
    assert.throws(() => otlpConfig({ protocol: 'grpc' }, {}, 'h'), /gRPC is not supported/);
    assert.throws(() => otlpConfig({}, { OTEL_METRIC_EXPORT_INTERVAL: '5s' }, 'h'), ConfigProblem);
    assert.throws(
      () => otlpConfig({}, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization' + 'SECRET' }, 'h'),
      (e: Error) => e instanceof ConfigProblem && !e.message.includes('SECRET'),
    );
    assert.throws(
      () => otlpConfig({ endpoint: 'ftp://user:SECRET@x' }, {}, 'h'),
      (e: Error) => !e.message.includes('SECRET'),
    );
    assert.equal(redact('https://user:pw@collector:4318/v1/metrics?token=t'), 'https://collector:4318/v1/metrics');
  });

  it('the log says each kind of problem at most once a minute, with the count of repeats', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new RateLimitedLog(
      (l) => lines.push(l),
      60_000,
      () => now,
    );
    log.problem('otlp', 'a');
    log.problem('otlp', 'b');
    log.problem('lost', 'c');
    now = 61_000;
    log.problem('otlp', 'd');
    log.resolved('otlp', 'fine');
    log.resolved('otlp', 'fine again');
    log.problem('hostile', `collector says \u001b[2J${'x'.repeat(1000)}`);
    assert.deepEqual(lines, [
      'nettracer: a\n',
      'nettracer: c\n',
      'nettracer: d (and 1 more like it since the last line)\n',
      'nettracer: fine\n',
      `nettracer: collector says \\u001b[2J${'x'.repeat(278)}...\n`,
    ]);
  });
});
