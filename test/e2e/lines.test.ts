// `--format lines`: trace's default on a terminal, one aligned line per event,
// checked against the traffic generator's own counts; NDJSON stays the default
// into a pipe.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { LINES_HEADER } from '../../src/output/lines.js';
import { killAll, ROOT, RUN, startGenerator, startTracer } from '../helpers/processes.js';

const tmp = mkdtempSync(join(tmpdir(), 'nt-lines-'));
after(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

async function waitForFile(path: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      if (readFileSync(path, 'utf8').endsWith('\n')) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`${path} never written`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const endpoint = (e: { addr: string; port: number }) =>
  e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;

describe('--format lines', () => {
  it('is the default on a terminal: a header, then one aligned line per event, close with its counts', async () => {
    const gen = await startGenerator({
      connections: [
        { family: 4, client_bytes: 5000, server_bytes: 600 },
        { family: 6, client_bytes: 70, server_bytes: 8000 },
      ],
      hold: 0.5,
    });
    const ready = join(tmp, 'ready');
    // script(1) gives the tracer a pseudo-terminal as its standard output.
    const traced = execa(
      'script',
      ['-qc', `${process.execPath} ${RUN} trace -f --pid ${gen.pid} --duration 6 --ready-fd 3 3>${ready}`, '/dev/null'],
      { cwd: ROOT, reject: false, stdin: 'ignore' },
    );
    await waitForFile(ready);
    const truth = await gen.run();
    const r = await traced;
    assert.equal(r.exitCode, 0, String(r.stderr));
    const lines = String(r.stdout).replace(/\r/g, '').split('\n').filter(Boolean);
    assert.equal(`${lines[0]}\n`, LINES_HEADER);
    const events = lines.slice(1).map((l) => l.split(/ +/));
    const pid = String(gen.pid);
    for (const c of truth) {
      const ends = [
        {
          local: endpoint(c.client),
          remote: endpoint(c.server),
          arrow: '->',
          open: 'connect',
          sent: c.client_sent,
          received: c.client_received,
        },
        {
          local: endpoint(c.server),
          remote: endpoint(c.client),
          arrow: '<-',
          open: 'accept',
          sent: c.server_sent,
          received: c.server_received,
        },
      ];
      for (const e of ends) {
        const mine = events.filter((f) => f[4] === e.local && f[6] === e.remote);
        assert.deepEqual(
          mine.map((f) => f.slice(1, 7)),
          [
            [e.open, pid, 'python3', e.local, e.arrow, e.remote],
            ['close', pid, 'python3', e.local, e.arrow, e.remote],
          ],
          lines.join('\n'),
        );
        const close = mine[1];
        assert.deepEqual(close.slice(7, 9), [String(e.sent), String(e.received)]);
        assert.match(close[9], /^\d+$/);
        assert.match(close[10], /^\d+\.\d{3}$/); // RTT ms
        assert.match(close.slice(11).join(' '), /^\d+(\.\d+)? (ms|s)$/);
      }
    }
    // Aligned: every event line has its PID column ending at the same place.
    const pidEnd = lines[0].indexOf('PID') + 3;
    for (const l of lines.slice(1)) assert.equal(l.slice(pidEnd - pid.length, pidEnd), pid, l);
  });

  it('NDJSON stays the default into a pipe; lines can be asked for there', async () => {
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 10, server_bytes: 10 }], hold: 0 });
    const [ndjson, lines] = await Promise.all([
      startTracer(['-f', '--pid', String(gen.pid)]),
      startTracer(['-f', '--pid', String(gen.pid), '--format', 'lines']),
    ]);
    await gen.run();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await ndjson.stop(), 0);
    assert.equal(await lines.stop(), 0);
    const types = ndjson.lines.map((l) => (JSON.parse(l) as { type: string }).type);
    assert.deepEqual(types.filter((t) => t !== 'stats').sort(), ['accept', 'close', 'close', 'connect']);
    assert.equal(`${lines.lines[0]}\n`, LINES_HEADER);
    assert.equal(lines.lines.filter((l) => / close /.test(l)).length, 2);
  });
});
