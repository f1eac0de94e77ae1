// `nettracer top` in a real terminal (tmux), at 80x24 and 160x40, over real
// connections whose bytes the traffic generator counted itself: the rows it
// shows and their order, that no line is wider than the terminal, the keys
// (sort, group, pause, typed keys not echoed, quit), a resize, closed
// connections dimmed then gone, and the user's screen given back on every
// way out (q, Ctrl-C, SIGTERM, an internal error).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { si } from '../../src/output/top-view.js';
import { type GeneratedConnection, killAll, RUN, startGenerator, type TrafficSpec } from '../helpers/processes.js';
import { killPanes, Pane } from '../helpers/tmux.js';

const dir = mkdtempSync(join(tmpdir(), 'nt-top-'));
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  killPanes();
  killAll();
});

const MARK = 'NORMAL-SCREEN-BEFORE-TOP';

/** `nettracer top ARGS` in a pane, after a line on the normal screen; its exit status is printed after it. */
async function startTop(args: string[], cols: number, rows: number, env = '') {
  const ready = join(dir, `ready-${cols}x${rows}-${Date.now()}`);
  const pane = new Pane(
    `echo ${MARK}; ${env} ${process.execPath} ${RUN} top ${args.join(' ')} --ready-fd 3 3>${ready}; echo EXIT=$?; sleep 600`,
    cols,
    rows,
  );
  const until = Date.now() + 30_000;
  let line = '';
  while (!line.endsWith('\n')) {
    if (Date.now() > until) throw new Error(`top never got ready; the pane shows:\n${pane.capture().join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
    try {
      line = readFileSync(ready, 'utf8');
    } catch {
      // not created yet
    }
  }
  return { pane, pid: (JSON.parse(line) as { pid: number }).pid };
}

/** The normal screen is back: the line printed before top, top's own lines gone, and its exit status. */
async function assertRestored(pane: Pane, status: number): Promise<string[]> {
  const lines = await pane.waitFor(`EXIT=${status}`, (l) => l.some((x) => x.startsWith('EXIT=')));
  assert.equal(pane.alternate(), false, 'still on the alternate screen');
  assert.equal(lines[0], MARK);
  assert.ok(lines.includes(`EXIT=${status}`), lines.join('\n'));
  assert.ok(!lines.some((l) => l.startsWith('nettracer top')), `top's screen left behind:\n${lines.join('\n')}`);
  return lines;
}

/**
 * For each line of a `capture-pane -e` screen, whether its text is dim (SGR 2).
 * tmux writes an attribute when it changes, so the state carries from line to line.
 */
function dimAtText(lines: string[]): boolean[] {
  let dim = false;
  return lines.map((line) => {
    let atText: boolean | undefined;
    for (const m of line.matchAll(/\x1b\[([\d;]*)m|[^\s\x1b]/g)) {
      if (m[0].startsWith('\x1b')) {
        for (const p of m[1].split(';')) {
          if (p === '' || p === '0' || p === '22') dim = false;
          else if (p === '2') dim = true;
        }
      } else atText ??= dim;
    }
    return atText ?? dim;
  });
}

function assertFits(lines: string[], cols: number, rows: number): void {
  assert.ok(lines.length <= rows, `${lines.length} lines in ${rows} rows`);
  for (const l of lines) assert.ok(l.length < cols, `a line of ${l.length} in ${cols} columns: ${l}`);
}

/** The screen's rows of connections (between the column titles and the keys line). */
function connectionRows(lines: string[]): string[] {
  const from = lines.findIndex((l) => l.trimStart().startsWith('PID'));
  const to = lines.findIndex((l) => l.startsWith('q quit'));
  return lines.slice(from + 1, to);
}

const endpoint = (e: { addr: string; port: number }) =>
  e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;

/** Each end of each connection as a row should show it: local, remote, bytes moved. */
function ends(conns: GeneratedConnection[]) {
  return conns.flatMap((c) => [
    { local: endpoint(c.client), remote: endpoint(c.server), bytes: c.client_sent + c.client_received },
    { local: endpoint(c.server), remote: endpoint(c.client), bytes: c.server_sent + c.server_received },
  ]);
}

/** 14 connections of distinct sizes (2 of them IPv6), held open `hold` seconds. */
const SPEC = (hold: number): TrafficSpec => ({
  connections: Array.from({ length: 14 }, (_, i) => ({
    family: i % 7 === 3 ? 6 : 4,
    client_bytes: 10_000 * (i + 1),
    server_bytes: 1000,
  })),
  hold,
});

describe('nettracer top', () => {
  it('at 80x24: as many rows as fit, sort, pause, group, resize, no echo, closed rows dimmed, q restores', async () => {
    const gen = await startGenerator(SPEC(14));
    const { pane } = await startTop(['-f', '--refresh', '0.5', '--pid', String(gen.pid)], 80, 24);
    await pane.waitFor('the view', (l) => l[0]?.startsWith('nettracer top'));
    assert.equal(pane.alternate(), true);
    let open: GeneratedConnection[] = [];
    const done = gen.run((c) => (open = c));
    const all = await pane.waitFor('28 connections', (l) => /conns 28 \(14 in, 14 out\)/.test(l[1] ?? ''));
    assertFits(all, 80, 24);
    assert.equal(all.length, 24);
    assert.equal(connectionRows(all).length, 20, all.join('\n'));
    assert.equal(all[23], 'q quit  s sort  g group  p pause  (20 of 28 rows shown)');

    // s: rate -> bytes. Rows in the order of the bytes each end moved, as the generator counted them.
    pane.keys('s');
    const truth = ends(open).sort((a, b) => b.bytes - a.bytes);
    const byBytes = await pane.waitFor('sort by bytes with final counts', (l) => {
      const rows = connectionRows(l);
      return /sort: bytes/.test(l[0]) && rows.length === 20 && rows[0].trimEnd().endsWith(` ${si(truth[0].bytes)}`);
    });
    const rows = connectionRows(byBytes);
    for (let i = 0; i < rows.length; i++) {
      const cells = rows[i].trim().split(/ +/);
      assert.equal(cells[0], String(gen.pid), rows[i]);
      assert.equal(cells[1], 'python3', rows[i]);
      assert.equal(cells.at(-1), si(truth[i].bytes), `row ${i}: ${rows[i]}`);
      // Both ends of the largest connections come first: the row is one of them.
      const pair = truth.filter((t) => t.bytes === truth[i].bytes);
      assert.ok(
        pair.some((t) => rows[i].includes(t.remote)),
        `row ${i} (${rows[i]}) is none of ${pair.map((t) => t.remote).join(', ')}`,
      );
    }

    // Typed keys are read, not echoed.
    pane.keys('x', 'y', 'z');
    // p: the view stops at its sample (the clock stays), until p again.
    pane.keys('p');
    const paused = await pane.waitFor('PAUSED', (l) => l[0].endsWith('PAUSED'));
    await new Promise((r) => setTimeout(r, 1600));
    const still = pane.capture();
    assert.equal(still[0], paused[0]);
    assert.ok(!still.join('\n').includes('xyz'));
    pane.keys('p');
    await pane.waitFor('unpaused, a new clock', (l) => !l[0].endsWith('PAUSED') && l[0] !== paused[0], 10_000);

    // g: by process (one row: the generator), by container (the host), back to connections.
    pane.keys('g');
    const byProcess = await pane.waitFor('by process', (l) => /by: process/.test(l[0]));
    const processRows = connectionRows(byProcess);
    assert.equal(processRows.length, 1, byProcess.join('\n'));
    assert.match(processRows[0], new RegExp(`^ *${gen.pid} python3 +28 `));
    pane.keys('g');
    const byContainer = await pane.waitFor('by container', (l) => /by: container/.test(l[0]));
    assert.match(byContainer[2], /^CONTAINER +CONNS/);
    assert.match(byContainer[3], /^\(host\) +28 /);
    pane.keys('g');
    await pane.waitFor('by connection', (l) => /by: connection/.test(l[0]));

    // A bigger terminal (SIGWINCH): more rows, still no line too long.
    pane.resize(100, 30);
    const resized = await pane.waitFor('26 rows at 100x30', (l) => l.some((x) => x.includes('(26 of 28 rows shown)')));
    assertFits(resized, 100, 30);

    // Closed: dimmed (SGR 2) for a few seconds, then gone.
    await done;
    await pane.waitFor('28 closed', (l) => /conns 0 \(0 in, 0 out\), 28 closed/.test(l[1]));
    const styled = pane.capture(true);
    const dim = dimAtText(styled);
    const closed = styled.flatMap((l, i) => (l.includes(` ${gen.pid} python3 `) ? [i] : []));
    assert.equal(closed.length, 26);
    for (const i of closed) assert.ok(dim[i], `not dimmed: ${JSON.stringify(styled[i])}`);
    assert.ok(!dim[0] && !dim.at(-1), 'the header and keys are not dimmed');
    await pane.waitFor('the closed ones gone', (l) => /conns 0 \(0 in, 0 out\), 0 closed/.test(l[1]), 15_000);

    pane.keys('q');
    await assertRestored(pane, 0);
  });

  it('at 160x40: every row, whole addresses; Ctrl-C restores and exits 0', async () => {
    const gen = await startGenerator(SPEC(4));
    const { pane } = await startTop(['-f', '--refresh', '0.5', '--pid', String(gen.pid)], 160, 40);
    let open: GeneratedConnection[] = [];
    const done = gen.run((c) => (open = c));
    const lines = await pane.waitFor('28 connections', (l) => /conns 28 \(14 in, 14 out\)/.test(l[1] ?? ''));
    assertFits(lines, 160, 40);
    const rows = connectionRows(lines);
    assert.equal(rows.length, 28);
    assert.equal(lines.at(-1), 'q quit  s sort  g group  p pause');
    const shown = rows.map((r) => r.trim().split(/ +/));
    for (const e of ends(open)) {
      const row = shown.find((c) => c[2] === e.local && c[3] === e.remote);
      assert.ok(row, `no row for ${e.local} -> ${e.remote}:\n${lines.join('\n')}`);
      assert.deepEqual(row.slice(0, 2), [String(gen.pid), 'python3']);
    }
    await done;
    pane.keys('C-c');
    await assertRestored(pane, 0);
  });

  it('SIGTERM and SIGINT from elsewhere exit 0; an internal error exits 1; the screen is restored each time', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const { pane, pid } = await startTop(['--refresh', '0.5'], 80, 24);
      await pane.waitFor('the view', (l) => l[0]?.startsWith('nettracer top'));
      process.kill(pid, signal);
      await assertRestored(pane, 0);
      pane.kill();
    }
    // The failpoint throws at the first batch of records: the generator's connection makes one.
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 100, server_bytes: 100 }], hold: 0 });
    const { pane } = await startTop(['-f', '--pid', String(gen.pid)], 80, 24, 'NETTRACER_FAILPOINT=deliver');
    await gen.run();
    const lines = await assertRestored(pane, 1);
    assert.ok(lines.includes('nettracer: internal error: failpoint: deliver'), lines.join('\n'));
  });

  it('refuses to run without a terminal', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [RUN, 'top'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      'nettracer: top draws on a terminal: run it on one (for a pipe or a file: nettracer trace)\n',
    );
  });
});
