// The sanitizer build (npm run test:asan, scripts/asan.ts) fails on a
// planted bug: code compiled with its flags, loaded into its Node under its
// options, dies with SIGABRT and a report that names the line, where the
// same code without the bug runs on. Tried on a tiny shared object, never
// on the addon: its static constructor runs when process.dlopen() loads it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  SANITIZE_CFLAGS,
  SANITIZE_LDFLAGS,
  SANITIZER_OUTPUT,
  sanitizedNode,
  sanitizerEnv,
} from '../../scripts/sanitizers.js';

// KIND 1: a heap overflow; 2: a signed overflow; 3: the same after becoming
// nobody and not dumpable, as the tracer does once attached.
const SOURCE = `#include <climits>
#include <cstring>
#include <sys/prctl.h>
#include <unistd.h>
static volatile int extra = EXTRA;  // 0: correct; 1: the planted bug
static volatile int sink;
static int Planted() {
  if (KIND == 1) {
    char* p = new char[8];
    memset(p, 0, 8 + extra);  // heap: one byte past the end
    sink = p[0];
    delete[] p;
    return 0;
  }
  if (KIND == 3 && (setgid(65534) != 0 || setuid(65534) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0)) return 1;
  int v = INT_MAX;
  sink = v + extra;  // arithmetic: signed overflow
  return 0;
}
static int ran = Planted();
`;
const line = (mark: string): string => `planted\\.cc:${SOURCE.split('\n').findIndex((l) => l.includes(mark)) + 1}`;

const missing =
  spawnSync('patchelf', ['--version']).status !== 0
    ? 'patchelf is not installed (npm run setup installs it)'
    : !execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).startsWith('/')
      ? 'g++ has no libasan (npm run setup installs g++)'
      : false;
const root = process.getuid?.() === 0;

describe('the sanitizer build', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettracer-sanitizers-'));
  chmodSync(dir, 0o755); // nobody writes its report in reports/
  const node = join(dir, 'node');
  const reports = join(dir, 'reports');
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(() => {
    sanitizedNode(node);
    writeFileSync(join(dir, 'planted.cc'), SOURCE);
  });

  /** Builds the object with KIND and EXTRA, loads it, says what happened. */
  const run = (kind: number, extra: number) => {
    const so = join(dir, `planted-${kind}-${extra}.so`);
    execFileSync('g++', [
      ...SANITIZE_CFLAGS,
      `-DKIND=${kind}`,
      `-DEXTRA=${extra}`,
      '-shared',
      '-fPIC',
      join(dir, 'planted.cc'),
      '-o',
      so,
      ...SANITIZE_LDFLAGS,
    ]);
    rmSync(reports, { recursive: true, force: true });
    mkdirSync(reports);
    chmodSync(reports, 0o1733);
    // Not an addon: dlopen() runs its constructor, then Node refuses it.
    const script = `try { process.dlopen({ exports: {} }, ${JSON.stringify(so)}); } catch {} console.log('ran on');`;
    const r = spawnSync(node, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...sanitizerEnv(reports) } });
    const files = readdirSync(reports);
    return { ...r, report: files.map((f) => readFileSync(join(reports, f), 'utf8')).join('') };
  };

  it('stops a heap overflow: SIGABRT, and an ASan report in log_path naming the line', () => {
    const r = run(1, 1);
    assert.equal(r.signal, 'SIGABRT', r.stderr);
    assert.doesNotMatch(r.stdout, /ran on/);
    assert.match(r.report, /ERROR: AddressSanitizer: heap-buffer-overflow/);
    assert.match(r.report, new RegExp(line('// heap')));
  });

  const signedOverflow = (kind: number) => () => {
    const r = run(kind, 1);
    assert.equal(r.signal, 'SIGABRT', r.stderr);
    assert.doesNotMatch(r.stdout, /ran on/);
    const found = r.stderr.match(SANITIZER_OUTPUT) ?? [];
    assert.equal(found.length, 1, r.stderr);
    assert.match(found[0], /^runtime error: signed integer overflow/);
    assert.match(r.stderr, new RegExp(line('// arithmetic')));
    assert.match(r.report, /__ubsan_handle_add_overflow_abort/);
    assert.match(r.report, new RegExp(line('// arithmetic')));
  };
  it('stops a signed overflow: SIGABRT, UBSan on stderr, and its stack in log_path', signedOverflow(2));
  it(
    'does so also after becoming another user, not dumpable, as the tracer once attached',
    { skip: !root && 'needs root' },
    signedOverflow(3),
  );

  it('lets the same code without the bug run on, without a report', () => {
    for (const kind of root ? [1, 2, 3] : [1, 2]) {
      const r = run(kind, 0);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ran on/);
      assert.equal(r.report, '');
      assert.deepEqual(r.stderr.match(SANITIZER_OUTPUT), null);
    }
  });
});
