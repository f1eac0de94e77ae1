// `nettracer validate` on files and standard input: a real capture passes,
// a damaged copy fails at the lines that were damaged, and input it cannot
// read is a usage error in one line.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killAll, ROOT, RUN, startGenerator, startTracer } from '../helpers/processes.js';
import { validatorFor } from '../helpers/schemas.js';

const tmp = mkdtempSync(join(tmpdir(), 'nettracer-validate-'));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'capture-v1.ndjson');
const fixture = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n');
const validReport = validatorFor('validation');

after(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

async function validate(args: string[], input?: string) {
  const r = await execa(process.execPath, [RUN, 'validate', ...args], {
    reject: false,
    cwd: ROOT,
    input,
    stripFinalNewline: false,
  });
  return { code: r.exitCode, out: String(r.stdout), err: String(r.stderr) };
}

/** The fixture with some lines replaced (1-based line numbers). */
function damaged(name: string, changes: Record<number, string>, extra: string[] = []): string {
  const lines = fixture.map((l, i) => changes[i + 1] ?? l);
  const file = join(tmp, name);
  writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
  return file;
}

const edit = (line: number, change: Record<string, unknown>) =>
  JSON.stringify({ ...(JSON.parse(fixture[line - 1]) as object), ...change });

describe('nettracer validate', () => {
  it('a capture made by nettracer: every line valid, exit 0', async () => {
    const r = await validate([FIXTURE]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${fixture.length} lines, all valid\n`);
    assert.equal(r.err, '');
  });

  it('a damaged copy: each damaged line by its number and what is wrong, the count, exit 1', async () => {
    const file = damaged(
      'damaged.ndjson',
      {
        3: edit(3, { bytes_sent: '12' }),
        190: edit(190, { rtt_us: -1 }),
        200: '{"type":"close",',
      },
      ['{"type":"bogus"}', ''],
    );
    const n = fixture.length;
    const r = await validate([file]);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.err, '');
    const out = r.out.trimEnd().split('\n');
    assert.deepEqual(
      out.map((l) => l.replace(/:.*/, '')),
      ['line 3', 'line 190', 'line 200', `line ${n + 1}`, `line ${n + 2}`, `${n + 2} lines, 5 invalid`],
    );
    assert.match(out[0], /^line 3: metrics record: bytes_sent must be integer \(got "12"\)$/);
    assert.match(out[1], /^line 190: close record: rtt_us must be >= 0 \(got -1\)$/);
    assert.match(out[2], /^line 200: not JSON \(/);
    assert.match(out[3], /: unknown type "bogus" \(known: connect, .*, validation\)$/);
    assert.match(out[4], /: an empty line, not a record$/);

    const json = await validate(['--json', file]);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.out) as { ok: boolean; lines: number; invalid: number; errors: { line: number }[] };
    validReport(report);
    assert.deepEqual(
      [report.ok, report.lines, report.invalid, report.errors.map((e) => e.line)],
      [false, n + 2, 5, [3, 190, 200, n + 1, n + 2]],
    );
  });

  it('lists the first 100 invalid lines and counts the rest', async () => {
    const bad = Array.from({ length: 150 }, () => 'x');
    const r = await validate([], bad.join('\n'));
    assert.equal(r.code, 1);
    const out = r.out.trimEnd().split('\n');
    assert.equal(out.length, 102);
    assert.equal(out[99], 'line 100: not JSON (Unexpected token \'x\', "x" is not valid JSON)');
    assert.deepEqual(out.slice(100), ['... and 50 more invalid lines', '150 lines, 150 invalid']);
    const json = await validate(['--json', '-'], bad.join('\n'));
    const report = JSON.parse(json.out) as { invalid: number; errors: unknown[] };
    assert.deepEqual([report.invalid, report.errors.length], [150, 100]);
  });

  it('standard input, with - or no file; a line over 1 MiB is invalid and the next still read', async () => {
    const input = [fixture[0], 'a'.repeat(3 * 1024 * 1024), fixture[1]].join('\n');
    for (const args of [[], ['-']]) {
      const r = await validate(args, input);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.out, 'line 2: longer than 1048576 bytes, the longest line read\n3 lines, 1 invalid\n');
    }
  });

  it('a file it cannot read: one line on stderr, exit 2', async () => {
    const missing = join(tmp, 'nope.ndjson');
    const r = await validate([missing]);
    assert.deepEqual([r.code, r.out, r.err], [2, '', `nettracer: ${missing}: no such file\n`]);
    const dir = join(tmp, 'dir');
    mkdirSync(dir);
    const d = await validate([dir]);
    assert.deepEqual([d.code, d.out, d.err], [2, '', `nettracer: ${dir}: is a directory\n`]);
    const flag = await validate(['--bogus']);
    assert.deepEqual([flag.code, flag.err], [2, 'nettracer: Nonexistent flag: --bogus (see --help)\n']);
  });

  it('what `nettracer trace` writes validates, incremental metrics and stats included', async () => {
    const capture = join(tmp, 'trace.ndjson');
    const gen = await startGenerator({
      connections: [
        { family: 4, client_bytes: 50_000, server_bytes: 1_000 },
        { family: 6, client_bytes: 2_000, server_bytes: 30_000 },
      ],
      hold: 1,
    });
    const t = await startTracer(['-f', '-i', '-t', '0.3', '--pid', String(gen.pid), '--output', capture]);
    await gen.run();
    assert.equal(await t.stop(), 0);
    const types = new Set(
      readFileSync(capture, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type),
    );
    for (const type of ['connect', 'accept', 'metrics', 'close', 'stats']) assert.ok(types.has(type), type);
    const r = await validate([capture]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^\d+ lines, all valid\n$/);
  });
});
