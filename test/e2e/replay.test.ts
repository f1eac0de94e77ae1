// `nettracer replay`: a capture printed in the human and original formats
// says what tracers running those formats live on the same connections said;
// bad input is refused with the line that is wrong; and the commands that read
// a capture say what they expect instead of waiting on a terminal.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { killAll, ROOT, RUN, startGenerator, startTracer, type TracerProcess } from '../helpers/processes.js';

const tmp = mkdtempSync(join(tmpdir(), 'nt-replay-'));
after(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

const capture = join(tmp, 'capture.ndjson');
let live: Record<'log' | 'legacy' | 'lines', TracerProcess>;

const replay = (args: string[], input?: string) =>
  execa(process.execPath, [RUN, 'replay', ...args], { cwd: ROOT, reject: false, input });

before(async () => {
  const gen = await startGenerator({
    connections: [
      { family: 4, client_bytes: 5000, server_bytes: 600 },
      { family: 6, client_bytes: 70, server_bytes: 8000 },
    ],
    hold: 1.2,
  });
  const common = ['-f', '-t', '0.5', '--pid', String(gen.pid)];
  const [ndjson, log, legacy, lines] = await Promise.all([
    startTracer([...common, '-w', capture]),
    startTracer([...common, '--format', 'log']),
    startTracer([...common, '--format', 'legacy']),
    startTracer([...common, '--format', 'lines']),
  ]);
  live = { log, legacy, lines };
  await gen.run();
  await new Promise((r) => setTimeout(r, 800)); // a cycle after the closes
  for (const t of [ndjson, log, legacy, lines]) assert.equal(await t.stop(), 0);
});

/** Log lines without the time and thread: "event connect 127.0.0.1:... PID:..." and the final stats. */
const logEvents = (lines: string[]) =>
  lines
    .map((l) => l.replace(/^\S+ \S+ \[\d+\] /, ''))
    .filter((l) => / event (connect|accept|close) /.test(l))
    .sort();

/** Legacy rows of closed connections (state bits x?1), from the family column to RTT variance. */
const legacyClosed = (lines: string[]) =>
  lines
    .map((l) => l.trim().split(/ +/))
    .filter((f) => f.length >= 18 && /^[01]{2}1$/.test(f[9]))
    .map((f) => f.slice(1, 17).join(' '))
    .sort();

describe('nettracer replay', () => {
  it('log, legacy and lines say what the live tracers said about the same connections', async () => {
    const log = await replay(['--format', 'log', capture]);
    assert.equal(log.exitCode, 0, String(log.stderr));
    const events = logEvents(String(log.stdout).split('\n'));
    assert.equal(events.length, 8);
    assert.deepEqual(events, logEvents(live.log.lines));

    const legacy = await replay(['--format', 'legacy', capture]);
    assert.equal(legacy.exitCode, 0, String(legacy.stderr));
    const closed = legacyClosed(String(legacy.stdout).split('\n'));
    assert.equal(closed.length, 4);
    assert.deepEqual(closed, legacyClosed(live.legacy.lines));

    // lines: the default; the same lines as the live tracer's.
    const lines = await replay([capture]);
    assert.equal(lines.exitCode, 0, String(lines.stderr));
    // Loss lines aside: what the host's other connections cost each tracer is its own.
    const eventLines = (ls: string[]) => ls.filter((l) => l && !/^\S+ lost /.test(l));
    assert.deepEqual(eventLines(String(lines.stdout).split('\n')), eventLines(live.lines.lines));

    const table = await replay(['--format', 'table', capture]);
    assert.equal(table.exitCode, 0, String(table.stderr));
    assert.match(String(table.stdout), /bytes sent/);

    // Standard input, as "-".
    const piped = await replay(['-', '--format', 'log'], readFileSync(capture, 'utf8'));
    assert.deepEqual(logEvents(String(piped.stdout).split('\n')), events);
  });

  it('bad input: one line naming the line that is wrong, exit 2; a missing file, exit 2', async () => {
    const good = readFileSync(capture, 'utf8').split('\n').filter(Boolean);
    const bad = join(tmp, 'bad.ndjson');
    writeFileSync(bad, `${good[0]}\n${good[1]}\n{"type":"close","timestamp":"x"\n`);
    const r = await replay([bad]);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), new RegExp(`^nettracer: ${bad}:line 3: not JSON \\(.*\\)\\n?$`));
    const invalid = join(tmp, 'invalid.ndjson');
    writeFileSync(invalid, `${good[0]}\n{"type":"close"}\n`);
    const v = await replay([invalid]);
    assert.equal(v.exitCode, 2);
    assert.match(String(v.stderr), new RegExp(`^nettracer: ${invalid}:line 2: `));
    const missing = await replay([join(tmp, 'nope')]);
    assert.equal(missing.exitCode, 2);
    assert.equal(String(missing.stderr), `nettracer: ${join(tmp, 'nope')}: no such file`);
  });

  it('replay, summarize and validate on a terminal with no input say what they read, exit 2', async () => {
    for (const command of ['replay', 'summarize', 'validate']) {
      // script(1): standard input is a terminal.
      const r = await execa('script', ['-qec', `${process.execPath} ${RUN} ${command}`, '/dev/null'], {
        cwd: ROOT,
        reject: false,
        stdin: 'ignore',
      });
      assert.equal(r.exitCode, 2, command);
      assert.equal(
        String(r.stdout).replace(/\r/g, '').trim(),
        `nettracer: ${command} reads a capture of nettracer trace (NDJSON): give a FILE, pipe one in (nettracer trace | nettracer ${command}), or "-" to read the terminal`,
      );
    }
  });

  it('summarize refuses --duration without --live', async () => {
    const r = await execa(process.execPath, [RUN, 'summarize', '--duration', '5', capture], {
      cwd: ROOT,
      reject: false,
    });
    assert.equal(r.exitCode, 2);
    assert.equal(String(r.stderr), 'nettracer: --duration is for --live (a capture ends where it ends)');
  });
});
