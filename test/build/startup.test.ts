// bin/run.cjs loads the bundled CLI with the build's V8 code cache; if the
// cache did not match the bundle (a stale or broken build step) V8 would
// silently recompile everything and --help would lose its start-up budget.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, RUN } from '../helpers/processes.js';

const BUNDLE = join(ROOT, 'dist', 'nettracer.cjs');
const { loadBundle } = createRequire(import.meta.url)(join(ROOT, 'bin', 'bundle-loader.cjs')) as {
  loadBundle: (file: string) => { exports: Record<string, unknown>; script: { cachedDataRejected?: boolean } };
};

describe('start-up', () => {
  it('the loader compiles the bundle from the code cache the build wrote', () => {
    const { exports, script } = loadBundle(BUNDLE);
    assert.equal(script.cachedDataRejected, false);
    assert.equal(typeof exports.execute, 'function');
    // The same cache next to other source is refused, so the check above can fail.
    const dir = mkdtempSync(join(tmpdir(), 'nt-cache-'));
    try {
      const other = join(dir, 'nettracer.cjs');
      writeFileSync(other, `${readFileSync(BUNDLE, 'utf8')}\n`);
      copyFileSync(`${BUNDLE}.cache`, `${other}.cache`);
      assert.equal(loadBundle(other).script.cachedDataRejected, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('help is served by every spelling, from the one bundle', () => {
    for (const args of [['--help'], ['-h'], ['help'], ['help', 'trace'], ['trace', '--help']]) {
      const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', args.join(' '));
      assert.match(
        r.stdout,
        args.includes('trace') ? /\$ nettracer trace / : /COMMANDS\n[\s\S]*trace /,
        args.join(' '),
      );
    }
  });

  it("the README's run command finds the CLI (npx nettracer, linked by npm run setup)", () => {
    const r = spawnSync('npx', ['--no-install', 'nettracer', '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\$ nettracer \[COMMAND\]/);
  });

  it('an unknown command or flag is one plain line and exit 2', () => {
    const r = spawnSync(process.execPath, [RUN, 'trace', '--bogus'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'nettracer: Nonexistent flag: --bogus (see --help)\n');
    const c = spawnSync(process.execPath, [RUN, 'trac'], { encoding: 'utf8' });
    assert.equal(c.status, 2);
    assert.equal(
      c.stderr,
      'nettracer: no command "trac" (commands: check, compat, help, replay, schema, summarize, top, trace, validate; see --help)\n',
    );
    const h = spawnSync(process.execPath, [RUN, 'help', 'trac'], { encoding: 'utf8' });
    assert.equal(h.status, 2);
    assert.equal(h.stderr, c.stderr);
  });
});
