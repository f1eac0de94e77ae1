// `nettracer summarize` over a real capture, checked against the traffic
// generator's own counts and against sums computed here from the capture.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NettracerRecord, SummaryRecord } from '../../src/generated/records.js';
import { launch } from '../helpers/launch.js';
import { killAll, ROOT, RUN, startGenerator, startTracer, type GeneratedConnection } from '../helpers/processes.js';
import { assertValidLine, validatorFor } from '../helpers/schemas.js';

const tmp = mkdtempSync(join(tmpdir(), 'nettracer-sum-'));
const capture = join(tmp, 'capture.ndjson');
let truth: GeneratedConnection[];
let pid = 0;
const validSummary = validatorFor('summary');

after(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

before(async () => {
  const gen = await startGenerator({
    connections: [
      { family: 4, client_bytes: 100_000, server_bytes: 2_000 },
      { family: 6, client_bytes: 3_000, server_bytes: 40_000 },
    ],
    hold: 1.2,
  });
  pid = gen.pid;
  const t = await startTracer([
    '-f',
    '-t',
    '0.5',
    '--pid',
    String(gen.pid),
    '--output',
    capture,
    '--stats-interval',
    '0',
  ]);
  truth = await gen.run();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await t.stop(), 0);
});

async function summarize(args: string[], input?: string) {
  const r = await execa(process.execPath, [RUN, 'summarize', ...args], { reject: false, cwd: ROOT, input });
  return {
    ...r,
    rows: String(r.stdout)
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const row: unknown = JSON.parse(l);
        validSummary(row);
        return row as SummaryRecord;
      }),
  };
}

describe('nettracer summarize', () => {
  it('per process and host over the whole capture: bytes as the generator counted them, the rest as summed here', async () => {
    const r = await summarize([capture]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    r.rows.forEach(validSummary);
    const recs = readFileSync(capture, 'utf8')
      .trim()
      .split('\n')
      .map((l) => assertValidLine(l) as NettracerRecord);
    const closes = recs.filter((x) => x.type === 'close');
    const times = recs.filter((x) => 'saddr' in x).map((x) => Date.parse(x.timestamp));
    const windowS = (Math.max(...times) - Math.min(...times)) / 1000;
    const sent = truth.flatMap((c) => [c.client_sent, c.server_sent]);
    const received = truth.flatMap((c) => [c.client_received, c.server_received]);
    for (const dim of ['host', 'process']) {
      const row = r.rows.find((x) => x.dimension === dim);
      assert.ok(row, dim);
      if (dim === 'process') assert.deepEqual([row.pid, row.comm], [pid, 'python3']);
      assert.equal(row.sessions, 4);
      assert.deepEqual(row.bytes_tx, {
        sum: sent.reduce((a, b) => a + b),
        avg: sent.reduce((a, b) => a + b) / 4,
        min: Math.min(...sent),
        max: Math.max(...sent),
        count: 4,
      });
      assert.equal(
        row.bytes_rx.sum,
        received.reduce((a, b) => a + b),
      );
      assert.equal(
        row.pkts_tx,
        closes.reduce((a, x) => a + x.packets_sent, 0),
      );
      assert.equal(
        row.pkts_rx,
        closes.reduce((a, x) => a + x.packets_received, 0),
      );
      assert.equal(row.pkts_retr, 0);
      assert.equal(row.retr_percentage, 0);
      const rtts = closes.map((x) => x.rtt_us / 1000);
      assert.equal(row.rtt.min, Math.min(...rtts));
      assert.equal(row.rtt.max, Math.max(...rtts));
      assert.ok(Math.abs(row.window_s - windowS) < 1e-9);
      const bits = (sent.reduce((a, b) => a + b) + received.reduce((a, b) => a + b)) * 8;
      assert.ok(Math.abs(row.traffic - bits / windowS) < 0.01, `${row.traffic} vs ${bits / windowS}`);
      assert.ok(Math.abs(row.traffic_tx - (sent.reduce((a, b) => a + b) * 8) / windowS) < 0.01);
    }
  });

  it('windows from standard input add up to the whole', async () => {
    const r = await summarize(['--window', '0.5', '--by', 'host'], readFileSync(capture, 'utf8'));
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.ok(r.rows.length >= 2, 'several windows');
    const total = truth.reduce((a, c) => a + c.client_sent + c.server_sent, 0);
    assert.equal(
      r.rows.reduce((a, x) => a + x.bytes_tx.sum, 0),
      total,
    );
    assert.ok(r.rows.every((x) => x.window_s === 0.5));
  });

  it('a capture that is not NDJSON: one clear line, exit 2', async () => {
    const bad = join(tmp, 'bad.ndjson');
    writeFileSync(bad, '{"type":"connect"}\nnot json\n');
    const r = await summarize([bad]);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /^nettracer: .*bad\.ndjson: line 2 is not JSON$/);
    const missing = await summarize([join(tmp, 'nope.ndjson')]);
    assert.equal(missing.exitCode, 2);
    assert.match(String(missing.stderr), /no such file/);
  });
});

describe('nettracer summarize --live', () => {
  it('traces by itself and prints a host and a process row per window', async () => {
    const gen = await startGenerator({
      connections: [{ family: 4, client_bytes: 12_345, server_bytes: 678 }],
      hold: 1.5,
    });
    const t = await launch(['--live', '-f', '--window', '1', '--duration', '3.5', '--by', 'host,process'], {
      command: 'summarize',
    });
    await gen.run();
    const r = await t.proc;
    await t.drained;
    assert.equal(r.exitCode, 0, t.stderr());
    const rows = t.lines.map((l) => JSON.parse(l) as SummaryRecord);
    rows.forEach(validSummary);
    assert.ok(rows.filter((x) => x.dimension === 'host').length >= 3, 'a host row per window');
    const mine = rows.filter((x) => x.dimension === 'process' && x.pid === gen.pid);
    assert.equal(
      mine.reduce((a, x) => a + x.bytes_tx.sum, 0),
      12_345 + 678,
      "the generator's bytes, across windows",
    );
  });
});
