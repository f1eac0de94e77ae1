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
const FIXTURE = readFileSync(join(ROOT, 'test', 'fixtures', 'capture-v1.ndjson'), 'utf8')
  .trimEnd()
  .split('\n');
const CLOSE = JSON.parse(FIXTURE.find((l) => l.includes('"type":"close"'))!) as Record<string, unknown>;

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
    // The capture's span: from when tracing started (its stats record says)
    // to its last record (the final stats one).
    const times = recs.map((x) => Date.parse(x.timestamp));
    const final = recs.find((x) => x.type === 'stats' && x.final);
    assert.ok(final?.type === 'stats' && final.started_at, 'the final stats record says when tracing started');
    assert.equal(Date.parse(final.timestamp), Math.max(...times), 'the final stats record is the last');
    const windowS = (Date.parse(final.timestamp) - Math.min(Date.parse(final.started_at), ...times)) / 1000;
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
      assert.equal(row.rtt?.min, Math.min(...rtts));
      assert.equal(row.rtt?.max, Math.max(...rtts));
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
    assert.ok(
      r.rows.slice(0, -1).every((x) => x.window_s === 0.5),
      'whole windows',
    );
    const last = r.rows[r.rows.length - 1];
    const end = Math.max(
      ...readFileSync(capture, 'utf8')
        .trim()
        .split('\n')
        .map((l) => Date.parse((JSON.parse(l) as { timestamp: string }).timestamp)),
    );
    // The last ends with the capture's last record, or with its grid window if that ends first.
    const lastEnd = Math.min(end, Date.parse(last.window_start) + 500);
    assert.equal(last.window_end, new Date(lastEnd).toISOString());
    assert.equal(last.window_s, (lastEnd - Date.parse(last.window_start)) / 1000);
  });

  it('a capture that is not NDJSON: one clear line, exit 2', async () => {
    const bad = join(tmp, 'bad.ndjson');
    writeFileSync(bad, `${FIXTURE[0]}\nnot json\n`);
    const r = await summarize([bad]);
    assert.equal(r.exitCode, 2);
    assert.equal(
      String(r.stderr),
      `nettracer: ${bad}:line 2: not JSON (Unexpected token 'o', "not json" is not valid JSON)`,
    );
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

describe('nettracer summarize --live: a window cut short is as long as it was (issue 18)', () => {
  it('--window 10 --duration 3: one window of the traced time, ending when tracing stopped, rates over it', async () => {
    const gen = await startGenerator({
      connections: [{ family: 4, client_bytes: 600, server_bytes: 200 }],
      hold: 0.5,
    });
    const before = Date.now();
    const t = await launch(['--live', '-f', '--window', '10', '--duration', '3', '--by', 'host,process'], {
      command: 'summarize',
    });
    const truth = await gen.run();
    const r = await t.proc;
    const after = Date.now();
    await t.drained;
    assert.equal(r.exitCode, 0, t.stderr());
    const rows = t.lines.map((l) => JSON.parse(l) as SummaryRecord);
    rows.forEach(validSummary);
    const host = rows.filter((x) => x.dimension === 'host');
    assert.equal(host.length, 1, 'one window: tracing stopped before 10 s');
    const mine = rows.find((x) => x.dimension === 'process' && x.pid === gen.pid);
    assert.ok(mine, 'a row for the generator');
    for (const row of [host[0], mine]) {
      const start = Date.parse(row.window_start);
      const end = Date.parse(row.window_end);
      assert.ok(start >= before, 'the window starts once summarize ran');
      assert.ok(end <= after, 'no window_end in the future: it ends when tracing stopped');
      assert.equal(row.window_s, (end - start) / 1000, 'window_s is what the window covered');
      assert.ok(row.window_s < 10);
    }
    const bytes = truth[0].client_sent + truth[0].server_sent + truth[0].client_received + truth[0].server_received;
    assert.equal(mine.bytes_tx.sum + mine.bytes_rx.sum, bytes, "the generator's bytes");
    assert.equal(mine.traffic, Math.round(((bytes * 8) / mine.window_s) * 1000) / 1000, 'bit/s over the real length');
  });
});

describe('nettracer summarize on hostile or large input (issue 16)', () => {
  const file = (name: string, lines: string[]) => {
    const path = join(tmp, name);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  };
  const close = (change: Record<string, unknown>) => JSON.stringify({ ...CLOSE, ...change });

  it('each invalid record stops it at its line: one line on stderr, exit 2, nothing on stdout', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['string', { bytes_sent: '12' }, /close record: bytes_sent must be integer \(got "12"\)$/],
      ['huge', { bytes_received: 1e308 }, /close record: bytes_received must be <= \d+ \(got 1e\+308\)$/],
      ['negative', { packets_sent: -3 }, /close record: packets_sent must be >= 0 \(got -3\)$/],
      ['far-future', { timestamp: '+275760-09-13T00:00:00.000Z' }, /timestamp must match format "date-time"/],
      ['past 9999', { timestamp: '9999-12-31T23:59:59-01:00' }, /leaves no window before 9999-12-31T23:59:59\.999Z/],
      ['bad timestamp', { timestamp: 'yesterday' }, /timestamp must match format "date-time" \(got "yesterday"\)$/],
      ['leap second', { timestamp: '2016-12-31T23:59:60Z' }, /is not a time summarize can place \(a leap second\?\)$/],
    ];
    for (const [name, change, why] of cases) {
      const path = file(`${name}.ndjson`, [close({ id: 1 }), close({ id: 2, ...change })]);
      const r = await summarize([path]);
      assert.equal(r.exitCode, 2, name);
      assert.equal(String(r.stdout), '', name);
      const err = String(r.stderr);
      assert.ok(err.startsWith(`nettracer: ${path}:line 2: `) && !err.includes('\n'), `${name}: ${err}`);
      assert.match(err, why, name);
    }
    const stdin = await summarize([], [close({ id: 1 }), close({ bytes_sent: '1' })].join('\n'));
    assert.equal(stdin.exitCode, 2);
    assert.match(String(stdin.stderr), /^nettracer: line 2: close record: bytes_sent must be integer/);
  });

  it('windows closed before the invalid line stay printed, whole', async () => {
    const t = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
    const path = file('late.ndjson', [close({ id: 1, timestamp: t(0) }), close({ id: 2, timestamp: t(5) }), '{']);
    const r = await summarize(['--window', '1', '--by', 'host', path]);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /:line 3: not JSON/);
    assert.deepEqual(
      r.rows.map((x) => x.window_start),
      [t(0)],
    );
  });

  it('--skip-invalid: skips and counts, in every summary record and on stderr; exit 0', async () => {
    const t = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
    const path = file('skip.ndjson', [
      close({ id: 1, timestamp: t(0) }),
      'garbage',
      close({ id: 2, timestamp: t(0.5), bytes_sent: -1 }),
      close({ id: 3, timestamp: t(1.5) }),
      close({ id: 4, timestamp: '2016-12-31T23:59:60Z' }),
      close({ id: 5, timestamp: t(2.5) }),
    ]);
    const r = await summarize(['--skip-invalid', '--window', '1', '--by', 'host', path]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.deepEqual(
      r.rows.map((x) => [x.window_start, x.sessions, x.skipped_lines]),
      [
        [t(0), 1, 2],
        [t(1), 1, 3],
        [t(2), 1, 3],
      ],
    );
    assert.equal(
      String(r.stderr),
      `nettracer: skipped 3 invalid lines (the first: ${path}:line 2: not JSON (Unexpected token 'g', "garbage" is not valid JSON))`,
    );
    const plain = await summarize(['--by', 'host', file('ok.ndjson', [close({})])]);
    assert.equal(plain.rows[0].skipped_lines, undefined, 'absent without --skip-invalid');
  });

  it('two records 56 years apart with --window 1: two windows printed', async () => {
    const path = file('years.ndjson', [
      close({ id: 1, timestamp: '1970-01-01T00:00:00.000Z' }),
      close({ id: 2, timestamp: '2026-01-01T00:00:00.000Z' }),
    ]);
    const r = await summarize(['--window', '1', '--by', 'host', path]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.deepEqual(
      r.rows.map((x) => x.window_start),
      ['1970-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    );
  });

  it('a 64 MiB line without a newline is refused as line N, exit 2', async () => {
    const path = join(tmp, 'long.ndjson');
    writeFileSync(path, `${close({})}\n${'a'.repeat(64 * 1024 * 1024)}`);
    const r = await summarize([path]);
    assert.equal(r.exitCode, 2);
    assert.equal(String(r.stderr), `nettracer: ${path}:line 2: longer than 1048576 bytes, the longest line read`);
  });
});
