// `nettracer agent --prometheus` scraped by a real Prometheus (Debian's,
// started here on 127.0.0.1): PromQL through its HTTP API gives the traffic
// generator's own byte counts, TCP_INFO's segments and retransmissions, and
// an RTT histogram with one observation per connection end and window;
// promtool lints a scrape clean; the endpoint is on loopback unless asked.
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type GeneratedConnection,
  killAll,
  startGenerator,
  startTracer,
  type TracerProcess,
} from '../helpers/processes.js';
import { freePort } from '../helpers/ports.js';

const tmp = mkdtempSync(join(tmpdir(), 'nettracer-agent-prom-'));
let prometheus: ResultPromise | undefined;
let agent: TracerProcess;
let truth: GeneratedConnection[];
let genPid = 0;
let agentPort = 0;
let promPort = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One PromQL instant query through Prometheus's HTTP API: the value, or undefined for no series. */
async function query(q: string): Promise<number | undefined> {
  const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

/** Queries until the value is `want` (Prometheus scrapes every second); then the last value seen. */
async function settle(q: string, want: number, ms = 30_000): Promise<number | undefined> {
  let v: number | undefined;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
    v = await query(q);
    if (v === want) break;
  }
  return v;
}

after(() => {
  killAll();
  prometheus?.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

before(async () => {
  agentPort = await freePort();
  promPort = await freePort();
  const gen = await startGenerator({
    connections: [
      { family: 4, client_bytes: 120_000, server_bytes: 5_000 },
      { family: 6, client_bytes: 4_000, server_bytes: 90_000 },
    ],
    hold: 1.5,
  });
  genPid = gen.pid;
  agent = await startTracer(
    [
      '-f',
      '--pid',
      String(gen.pid),
      '--prometheus',
      String(agentPort),
      '--export-interval',
      '1',
      '--with-pid',
      // Series of closed connections stay while the test reads them (expiry: test/unit/agent-series.test.ts).
      '--expire-windows',
      '600',
      '--metric-set',
      'both',
      '--stats-interval',
      '0',
    ],
    { command: 'agent' },
  );
  const config = join(tmp, 'prometheus.yml');
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nettracer\n    static_configs:\n      - targets: ['127.0.0.1:${agentPort}']\n`,
  );
  prometheus = execa(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { reject: false, buffer: false, stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${promPort}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error('prometheus did not become ready');
    await sleep(100);
  }
  truth = await gen.run();
});

describe('nettracer agent --prometheus, scraped by Prometheus', () => {
  it("PromQL gives the generator's bytes, TCP_INFO's segments and retransmissions", async () => {
    const sel = (dir?: string) => `process_pid="${genPid}"${dir ? `,network_io_direction="${dir}"` : ''}`;
    const sent = truth.reduce((a, c) => a + c.client_sent + c.server_sent, 0);
    const received = truth.reduce((a, c) => a + c.client_received + c.server_received, 0);
    assert.equal(await settle(`sum(nettracer_tcp_bytes_total{${sel('transmit')}})`, sent), sent);
    assert.equal(await settle(`sum(nettracer_tcp_bytes_total{${sel('receive')}})`, received), received);
    const segsOut = truth.reduce((a, c) => a + c.client_tcp_info.segs_out + c.server_tcp_info.segs_out, 0);
    const segsIn = truth.reduce((a, c) => a + c.client_tcp_info.segs_in + c.server_tcp_info.segs_in, 0);
    // Packets settle once the close records are in; TCP_INFO was read before close() (FINs: up to 2 an end).
    await settle(`count(nettracer_tcp_connection_duration_seconds_count{${sel()}})`, 2);
    await sleep(2_500);
    const tx = (await query(`sum(nettracer_tcp_packets_total{${sel('transmit')}})`)) ?? -1;
    const rx = (await query(`sum(nettracer_tcp_packets_total{${sel('receive')}})`)) ?? -1;
    assert.ok(tx >= segsOut && tx <= segsOut + 8, `packets sent ${tx} vs segs_out ${segsOut}`);
    assert.ok(rx >= segsIn && rx <= segsIn + 8, `packets received ${rx} vs segs_in ${segsIn}`);
    const retrans = truth.reduce((a, c) => a + c.client_tcp_info.total_retrans + c.server_tcp_info.total_retrans, 0);
    assert.equal(await query(`sum(nettracer_tcp_retransmits_total{${sel()}})`), retrans);
    // The Dynatrace set, from summarize's rows, agrees with the OTel-shaped one.
    assert.equal(await query(`sum(tech_nettracer_pkts_tx_total{${sel()}})`), tx);
    assert.equal(await query(`sum(tech_nettracer_bytes_tx_bytes_sum{${sel()}})`), sent);
  });

  it('the RTT histogram counts one observation per connection end and window, as bytes_rx does', async () => {
    const rtt = await query(`sum(nettracer_tcp_rtt_seconds_count{process_pid="${genPid}"})`);
    const sessions = await query(`sum(tech_nettracer_bytes_rx_bytes_count{process_pid="${genPid}"})`);
    assert.ok(rtt !== undefined && rtt >= 4, `rtt count ${rtt}: every one of the 4 socket ends at least once`);
    assert.equal(rtt, sessions);
    // Loopback RTTs: all of them in the sub-second buckets.
    assert.equal(await query(`sum(nettracer_tcp_rtt_seconds_bucket{process_pid="${genPid}",le="1"})`), rtt);
  });

  it('promtool check metrics passes on a scrape', async () => {
    const text = await (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
    assert.match(text, /nettracer_tcp_bytes_total\{/);
    const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
  });

  it('serves GET /metrics only, on loopback only', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${agentPort}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${agentPort}/metrics`, { method: 'POST' })).status, 405);
    const ss = await execa('ss', ['-Htln', `sport = :${agentPort}`]);
    const local = String(ss.stdout)
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[3]);
    assert.deepEqual(local, [`127.0.0.1:${agentPort}`]);
    assert.equal(await agent.stop(), 0);
  });

  it('a port below 1024 works: bound as root, before the drop to nettracer with no capabilities', async () => {
    // A free privileged port: nettracer without root could not bind it.
    const used = String((await execa('ss', ['-Htln'])).stdout);
    const low = [...Array(100).keys()].map((i) => 900 + i).find((p) => !used.includes(`:${p} `));
    assert.ok(low, 'a free port in 900-999');
    const a = await startTracer(
      ['--prometheus', `127.0.0.1:${low}`, '--pid', String(process.pid), '--stats-interval', '0'],
      {
        command: 'agent',
      },
    );
    assert.match(a.ready.user, /^nettracer \(uid \d+\), no capabilities$/);
    const r = await fetch(`http://127.0.0.1:${low}/metrics`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /nettracer_agent_exports_dropped_total 0/);
    assert.equal(await a.stop(), 0);
  });
});
