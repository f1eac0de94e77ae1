// The line splitter under summarize and validate: numbering, chunk
// boundaries, and a line longer than the bound reported at once and never
// kept, so memory stays bounded whatever the input (issue 16: a 1 GiB line
// without a newline ran for minutes at 1.7 GB).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type Line, LineSplitter, MAX_LINE_BYTES, readLines } from '../../src/input/lines.js';
import { ROOT } from '../../src/root.js';

const split = (chunks: (string | Buffer)[], max?: number): Line[] => {
  const s = new LineSplitter(max);
  const out: Line[] = [];
  for (const c of chunks) out.push(...s.push(Buffer.from(c)));
  return [...out, ...s.end()];
};

describe('LineSplitter', () => {
  it('numbers lines across chunk boundaries; a last line without a newline counts', () => {
    assert.deepEqual(split(['{"a"', ':1}\n{"b":2}\n\n{', '"c":3}']), [
      { n: 1, text: '{"a":1}' },
      { n: 2, text: '{"b":2}' },
      { n: 3, text: '' },
      { n: 4, text: '{"c":3}' },
    ]);
    assert.deepEqual(split(['x\n']), [{ n: 1, text: 'x' }], 'a final newline ends the last line, adds none');
    assert.deepEqual(split([]), []);
  });

  it('UTF-8 split between chunks is whole again; bytes that are not UTF-8 are an error on their line', () => {
    const e = Buffer.from('"é"\n');
    assert.deepEqual(split([e.subarray(0, 2), e.subarray(2)]), [{ n: 1, text: '"é"' }]);
    assert.deepEqual(split([Buffer.from([0x22, 0xff, 0x22, 0x0a, 0x31])]), [
      { n: 1, error: 'not UTF-8 text' },
      { n: 2, text: '1' },
    ]);
  });

  it('a line longer than the bound is reported when it passes it, then skipped to its newline', () => {
    const s = new LineSplitter(10);
    assert.deepEqual(s.push(Buffer.from('ok\n012345')), [{ n: 1, text: 'ok' }]);
    assert.deepEqual(s.push(Buffer.from('6789')), [], 'exactly the bound is still a line');
    assert.deepEqual(s.push(Buffer.from('A')), [{ n: 2, error: 'longer than 10 bytes, the longest line read' }]);
    assert.equal(s.pending, 0, 'nothing of it kept');
    assert.deepEqual(s.push(Buffer.from('BBBBBBBBBBBBBBBBBBBB')), []);
    assert.deepEqual(s.push(Buffer.from('B\nnext\n')), [{ n: 3, text: 'next' }]);
    assert.deepEqual(s.end(), []);
    assert.deepEqual(split(['0123456789\n'], 10), [{ n: 1, text: '0123456789' }]);
  });

  it('a 64 MiB line without a newline: line 1 refused, never more than the bound held', () => {
    const s = new LineSplitter();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const lines: Line[] = [];
    let most = 0;
    for (let i = 0; i < 1024; i++) {
      lines.push(...s.push(chunk));
      most = Math.max(most, s.pending);
    }
    lines.push(...s.end());
    assert.deepEqual(lines, [{ n: 1, error: `longer than ${MAX_LINE_BYTES} bytes, the longest line read` }]);
    assert.ok(most <= MAX_LINE_BYTES, `held ${most} bytes`);
  });

  it('one-byte chunks: each byte looked at once, a line still whole', () => {
    const text = '{"type":"x","v":' + '1'.repeat(5000) + '}\n';
    const lines = split([...Buffer.from(text + text)].map((b) => Buffer.from([b])));
    assert.deepEqual(
      lines.map((l) => ('text' in l ? l.text.length : l.error)),
      [text.length - 1, text.length - 1],
    );
  });
});

describe('readLines', () => {
  it('a stream of 64 MiB without a newline grows the process by much less than 64 MiB', () => {
    // In a child process of its own, so the measure is this reading alone.
    const script = `
      import { Readable } from 'node:stream';
      import { readLines } from ${JSON.stringify(join(ROOT, 'src', 'input', 'lines.ts'))};
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let i = 0;
      const source = new Readable({ read() { this.push(i++ < 1024 ? chunk : null); } });
      globalThis.gc();
      const before = process.memoryUsage().rss;
      const lines = [];
      await readLines(source, (l) => lines.push(l));
      const grew = process.resourceUsage().maxRSS * 1024 - before;
      console.log(JSON.stringify({ lines, grew }));
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const { lines, grew } = JSON.parse(r.stdout) as { lines: Line[]; grew: number };
    assert.deepEqual(lines, [{ n: 1, error: `longer than ${MAX_LINE_BYTES} bytes, the longest line read` }]);
    assert.ok(grew < 24 * 1024 * 1024, `grew by ${(grew / 1048576).toFixed(1)} MiB`);
  });

  it('stops where onLine throws, and passes on what it threw', async () => {
    const seen: number[] = [];
    await assert.rejects(
      readLines(Readable.from([Buffer.from('a\nb\nc\n'), Buffer.from('d\n')]), (l) => {
        seen.push(l.n);
        if (l.n === 2) throw new Error('stop at 2');
      }),
      /stop at 2/,
    );
    assert.deepEqual(seen, [1, 2]);
  });
});
