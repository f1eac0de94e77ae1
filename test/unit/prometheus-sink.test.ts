// The /metrics endpoint on loopback: the windows' series are rendered once a
// window (a local user scraping in a loop costs a copy, not a render of up
// to --max-series series per metric), the agent's own counters at every
// scrape, and histograms as cumulative `le` buckets with _sum and _count.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { newHist, observe } from '../../src/agent/histogram.js';
import { METRICS } from '../../src/agent/metrics.js';
import { PrometheusSink } from '../../src/agent/prometheus.js';

const def = (name: string) => METRICS.find((m) => m.name === name)!;
const bytes = def('nettracer.tcp.bytes');
const rtt = def('nettracer.tcp.rtt');
const counts = { dropped: 0, overflow: 0, lost: 0, events: 0 };
const sink = new PrometheusSink([bytes, rtt], () => counts);
after(() => sink.close());

describe('agent Prometheus endpoint', () => {
  it('renders the series once a window; its own counters at every scrape', async () => {
    const { port } = await sink.listen('127.0.0.1', 0);
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const attrs = { 'network.transport': 'tcp', 'server.port': 443 };
    const hist = newHist(rtt.buckets ?? []);
    for (const v of [0.0003, 0.002, 0.004]) observe(hist, rtt.buckets ?? [], v);
    const window = (value: number) => ({
      points: [
        { def: bytes, key: 'k', attrs, value },
        { def: rtt, key: 'k', attrs, value: 0, hist },
      ],
      expired: [],
      lost: [],
    });
    sink.apply(window(1000));
    const first = await scrape();
    assert.match(first, /^nettracer_tcp_bytes_total\{network_transport="tcp",server_port="443"\} 1000$/m);
    assert.match(
      first,
      /^nettracer_tcp_rtt_seconds_bucket\{network_transport="tcp",server_port="443",le="0.0005"\} 1$/m,
    );
    assert.match(
      first,
      /^nettracer_tcp_rtt_seconds_bucket\{network_transport="tcp",server_port="443",le="0.005"\} 3$/m,
    );
    assert.match(
      first,
      /^nettracer_tcp_rtt_seconds_bucket\{network_transport="tcp",server_port="443",le="\+Inf"\} 3$/m,
    );
    assert.match(first, /^nettracer_tcp_rtt_seconds_count\{network_transport="tcp",server_port="443"\} 3$/m);
    assert.match(first, /^nettracer_agent_exports_dropped_total 0$/m);
    counts.dropped = 2;
    const second = await scrape();
    assert.match(second, /^nettracer_agent_exports_dropped_total 2$/m, 'its own counters are read at each scrape');
    assert.equal(
      second.replace(/^nettracer_agent_exports_dropped_total .*$/m, ''),
      first.replace(/^nettracer_agent_exports_dropped_total .*$/m, ''),
    );
    sink.apply(window(500));
    assert.match(
      await scrape(),
      /^nettracer_tcp_bytes_total\{network_transport="tcp",server_port="443"\} 1500$/m,
      'a window renders anew',
    );
  });
});
