// `nettracer agent` exporting to an OTLP receiver built here from the
// official .proto files: names, units, attributes, temporality and buckets as
// the table says; the deltas summed across exports equal the traffic
// generator's own counts and summarize's numbers on the agent's capture; a
// receiver that fails, hangs or goes away stops no tracing, the drops are
// counted and said, and export resumes when it returns.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RTT_BUCKETS_S } from '../../src/agent/metrics.js';
import type { SummaryRecord } from '../../src/generated/records.js';
import { attr, type NumberPoint, OtlpReceiver } from '../helpers/otlp-receiver.js';
import {
  type GeneratedConnection,
  killAll,
  ROOT,
  RUN,
  startGenerator,
  startTracer,
  type TracerProcess,
} from '../helpers/processes.js';

const tmp = mkdtempSync(join(tmpdir(), 'nettracer-agent-otlp-'));
const capture = join(tmp, 'capture.ndjson');
const rx = new OtlpReceiver();
let agent: TracerProcess;
let truth: GeneratedConnection[];
let genPid = 0;
let ports: number[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for cond() (bounded: a failing test ends, with what it saw). */
async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(100))
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
}
const num = (p: NumberPoint) => Number(p.asInt ?? p.asDouble ?? 0);
const ofGen = (attrs: Parameters<typeof attr>[0]) => attr(attrs, 'process.pid') === genPid;

/** Σ over every export of metric NAME's points of the generator's process, by filter. */
function total(name: string, keep: (p: NumberPoint) => boolean = () => true): number {
  let s = 0;
  for (const { metric } of rx.metrics(name))
    for (const p of metric.sum?.dataPoints ?? []) if (ofGen(p.attributes) && keep(p)) s += num(p);
  return s;
}
const closes = () =>
  readFileSync(capture, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"close"') && l.includes(`"pid":${genPid},`)).length;

after(async () => {
  killAll();
  await rx.stop();
  rmSync(tmp, { recursive: true, force: true });
});

before(async () => {
  const port = await rx.start();
  const gen = await startGenerator({
    connections: [
      { family: 4, client_bytes: 150_000, server_bytes: 3_000 },
      { family: 6, client_bytes: 2_000, server_bytes: 70_000 },
    ],
    hold: 1.5,
  });
  genPid = gen.pid;
  ports = [gen.ports['4'], gen.ports['6']];
  agent = await startTracer(
    [
      '-f',
      '--pid',
      String(gen.pid),
      '--otlp-endpoint',
      `http://127.0.0.1:${port}/v1/metrics`,
      '--export-interval',
      '1',
      '--metric-set',
      'both',
      '--with-pid',
      '--capture',
      capture,
      '--stats-interval',
      '1',
    ],
    {
      command: 'agent',
      env: { OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test' },
    },
  );
  truth = await gen.run();
  // Every socket end closed, in the capture, and an export made after that.
  await until('the close records', () => closes() === 4);
  const n = rx.received.length;
  await until('an export after the closes', () => rx.received.length > n + 1);
});

describe('nettracer agent over OTLP', () => {
  it('exports HTTP/protobuf, gzip, with the resource of the host', () => {
    const r = rx.received[0];
    assert.match(r.contentType, /application\/x-protobuf/);
    assert.equal(r.encoding, 'gzip');
    const resource = rx.metrics('nettracer.tcp.bytes')[0].resource;
    assert.equal(attr(resource, 'service.name'), 'nettracer');
    assert.equal(attr(resource, 'host.name'), hostname());
    assert.equal(attr(resource, 'deployment.environment'), 'test');
  });

  it('names, units, temporality and RTT buckets as the table says', () => {
    const bytes = rx.metrics('nettracer.tcp.bytes')[0].metric;
    assert.equal(bytes.unit, 'By');
    assert.equal(bytes.sum?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_DELTA');
    assert.equal(bytes.sum?.isMonotonic, true);
    assert.equal(rx.metrics('nettracer.tcp.packets')[0].metric.unit, '{packet}');
    assert.equal(rx.metrics('nettracer.tcp.retransmits')[0].metric.unit, '{segment}');
    const rtt = rx.metrics('nettracer.tcp.rtt').find((m) => m.metric.histogram?.dataPoints?.length)!.metric;
    assert.equal(rtt.unit, 's');
    assert.equal(rtt.histogram?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_DELTA');
    assert.deepEqual(rtt.histogram?.dataPoints?.[0].explicitBounds, RTT_BUCKETS_S);
    const open = rx.metrics('nettracer.tcp.connections')[0].metric;
    assert.ok(open.sum && open.sum.isMonotonic !== true, 'an UpDownCounter: a sum, not monotonic');
    const dt = rx.metrics('tech.nettracer.bytes_rx')[0].metric;
    assert.equal(dt.unit, 'By');
    assert.equal(dt.histogram?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_DELTA');
    assert.equal(rx.metrics('tech.nettracer.rtt')[0].metric.unit, 'ms');
    assert.equal(rx.metrics('tech.nettracer.traffic')[0].metric.unit, 'bit/s');
  });

  it('attributes from the conventions: the server port only, never the client ephemeral port', () => {
    const seen = new Set<number>();
    for (const { metric } of rx.metrics('nettracer.tcp.bytes'))
      for (const p of metric.sum?.dataPoints ?? []) {
        if (!ofGen(p.attributes)) continue;
        seen.add(Number(attr(p.attributes, 'server.port')));
        assert.equal(attr(p.attributes, 'network.transport'), 'tcp');
        assert.match(String(attr(p.attributes, 'network.type')), /^ipv[46]$/);
        assert.equal(attr(p.attributes, 'process.executable.name'), 'python3');
        assert.equal(attr(p.attributes, 'server.address'), undefined, 'peers are off by default');
        assert.equal(attr(p.attributes, 'client.address'), undefined);
      }
    assert.deepEqual([...seen].sort(), [...ports].sort());
  });

  it('bytes summed across exports are what the generator moved; packets are TCP_INFO segments', () => {
    const sent = truth.reduce((a, c) => a + c.client_sent + c.server_sent, 0);
    const received = truth.reduce((a, c) => a + c.client_received + c.server_received, 0);
    const dir = (d: string) => (p: NumberPoint) => attr(p.attributes, 'network.io.direction') === d;
    assert.equal(total('nettracer.tcp.bytes', dir('transmit')), sent);
    assert.equal(total('nettracer.tcp.bytes', dir('receive')), received);
    const segsOut = truth.reduce((a, c) => a + c.client_tcp_info.segs_out + c.server_tcp_info.segs_out, 0);
    const segsIn = truth.reduce((a, c) => a + c.client_tcp_info.segs_in + c.server_tcp_info.segs_in, 0);
    // TCP_INFO is read just before close(): the FIN exchange adds up to 2 a socket end.
    const tx = total('nettracer.tcp.packets', dir('transmit'));
    const rxp = total('nettracer.tcp.packets', dir('receive'));
    assert.ok(tx >= segsOut && tx <= segsOut + 8, `packets sent ${tx} vs segs_out ${segsOut}`);
    assert.ok(rxp >= segsIn && rxp <= segsIn + 8, `packets received ${rxp} vs segs_in ${segsIn}`);
    const retrans = truth.reduce((a, c) => a + c.client_tcp_info.total_retrans + c.server_tcp_info.total_retrans, 0);
    assert.equal(total('nettracer.tcp.retransmits'), retrans);
    assert.equal(total('nettracer.tcp.connection.attempts'), 4, 'two connects and two accepts');
  });

  it('the Dynatrace set summed across exports equals summarize on the same capture', async () => {
    const r = await execa(process.execPath, [RUN, 'summarize', '--by', 'process', capture], { cwd: ROOT });
    const rows = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SummaryRecord)
      .filter((row) => row.pid === genPid);
    assert.equal(rows.length, 1);
    const row = rows[0];
    let rxSum = 0;
    let txSum = 0;
    for (const [name, add] of [
      ['tech.nettracer.bytes_rx', (v: number) => (rxSum += v)],
      ['tech.nettracer.bytes_tx', (v: number) => (txSum += v)],
    ] as const)
      for (const { metric } of rx.metrics(name))
        for (const p of metric.histogram?.dataPoints ?? []) if (ofGen(p.attributes)) add(Number(p.sum));
    assert.equal(rxSum, row.bytes_rx.sum);
    assert.equal(txSum, row.bytes_tx.sum);
    assert.equal(total('tech.nettracer.pkts_rx'), row.pkts_rx);
    assert.equal(total('tech.nettracer.pkts_tx'), row.pkts_tx);
    assert.equal(total('tech.nettracer.pkts_retr'), row.pkts_retr);
  });

  it('a receiver that fails, hangs or is gone: tracing goes on, drops are counted and said, export resumes', async () => {
    const lines = () => readFileSync(capture, 'utf8').split('\n').length;
    rx.mode = 'fail';
    await until('two refused exports', () => rx.refused >= 2);
    rx.mode = 'slow';
    await until('two unanswered exports', () => rx.refused >= 4);
    await rx.stop();
    const before = lines();
    await sleep(2_500);
    assert.ok(lines() > before, 'the capture grows while the collector is away: tracing goes on');
    assert.match(agent.stderr(), /OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed: .*dropped so far/);
    assert.equal(agent.stderr().match(/failed:/g)?.length, 1, 'one line per problem, rate-limited');
    rx.mode = 'ok';
    const n = rx.received.length;
    await rx.start(rx.port);
    await until('exports again', () => rx.received.length > n + 1);
    await until('the recovery line', () => /works again/.test(agent.stderr()));
    let dropped = 0;
    for (const { metric } of rx.metrics('nettracer.agent.exports.dropped'))
      for (const p of metric.sum?.dataPoints ?? []) dropped += num(p);
    assert.ok(dropped >= 1, `nettracer.agent.exports.dropped reported ${dropped}`);
    assert.equal(await agent.stop(), 0);
  });

  it('HTTP/JSON when asked, without compression', async () => {
    const n = rx.received.length;
    const a = await startTracer(
      [
        '-f',
        // This process: it accepts the agent's own exports (and the host's other connections stay out).
        '--pid',
        String(process.pid),
        '--otlp-endpoint',
        `http://127.0.0.1:${rx.port}/v1/metrics`,
        '--otlp-protocol',
        'http/json',
        '--otlp-compression',
        'none',
        '--export-interval',
        '1',
        '--stats-interval',
        '0',
      ],
      { command: 'agent' },
    );
    await until('a JSON export with traffic', () =>
      rx.received.slice(n).some((r) => JSON.stringify(r.body).includes('"nettracer.tcp.bytes"')),
    );
    assert.equal(await a.stop(), 0);
    const r = rx.received.slice(n).find((x) => JSON.stringify(x.body).includes('"nettracer.tcp.bytes"'))!;
    assert.match(r.contentType, /application\/json/);
    assert.equal(r.encoding, '');
    assert.ok(r.body.resourceMetrics?.[0].scopeMetrics?.[0].metrics?.some((m) => m.name === 'nettracer.tcp.bytes'));
  });
});

describe('nettracer agent --events', () => {
  /** Runs a generator of three connections under an agent with --events and ARGS; its events and the agent's stderr. */
  async function withEvents(args: string[]) {
    const gen = await startGenerator({
      connections: [
        { family: 4, client_bytes: 1_000, server_bytes: 1_000 },
        { family: 4, client_bytes: 2_000, server_bytes: 2_000 },
        { family: 6, client_bytes: 3_000, server_bytes: 3_000 },
      ],
      hold: 0.3,
    });
    const a = await startTracer(
      [
        '-f',
        '--pid',
        String(gen.pid),
        '--otlp-endpoint',
        `http://127.0.0.1:${rx.port}/v1/metrics`,
        '--export-interval',
        '1',
        '--stats-interval',
        '0',
        '--events',
        ...args,
      ],
      { command: 'agent' },
    );
    const first = rx.logRecords().length;
    const m0 = rx.received.length;
    await gen.run();
    await sleep(1_500); // the last closes reach a walk, the batch processor's 1 s delay passes
    assert.equal(await a.stop(), 0); // and the last batch is flushed on the way out
    let dropped = 0;
    for (const { metric } of rx.metrics('nettracer.agent.events.dropped').filter((m) => m.at >= m0))
      for (const p of metric.sum?.dataPoints ?? []) dropped += num(p);
    return { gen, events: rx.logRecords().slice(first), stderr: a.stderr(), dropped };
  }

  it('one log record per connect, accept and close, with the connection attributes', async () => {
    const { gen, events } = await withEvents([]);
    const byName = (n: string) => events.filter((e) => e.eventName === `nettracer.tcp.${n}`);
    assert.equal(byName('connect').length, 3);
    assert.equal(byName('accept').length, 3);
    assert.equal(byName('close').length, 6, 'both ends of each connection close');
    for (const e of events) {
      assert.equal(attr(e.attributes, 'process.executable.name'), 'python3');
      assert.ok([gen.ports['4'], gen.ports['6']].includes(Number(attr(e.attributes, 'server.port'))));
      assert.match(String(e.body?.stringValue), /^(connect|accept|close) /);
    }
  });

  it('over --events-rate: dropped, counted in the self-metric, said once', async () => {
    const { events, stderr, dropped } = await withEvents(['--events-rate', '2']);
    assert.ok(events.length < 12, `${events.length} of 12 events sent at 2 a second`);
    assert.equal(events.length + dropped, 12, 'every event sent or counted as dropped');
    assert.equal(
      stderr.match(/connection events to .* dropped: more connection events than --events-rate/g)?.length,
      1,
    );
  });
});
