// Small things a new user runs into, each one plain line: words after a
// command that takes none, an --addr that loopback hiding makes match nothing,
// and check on a checkout whose native addon was never built.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { ROOT, RUN } from '../helpers/processes.js';

const tmp = mkdtempSync(join(tmpdir(), 'nt-msg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const nettracer = (args: string[], bin = RUN) => execa(process.execPath, [bin, ...args], { cwd: ROOT, reject: false });

describe('plain messages', () => {
  it('trace extra: the command takes no arguments, exit 2', async () => {
    const r = await nettracer(['trace', 'extra']);
    assert.equal(r.exitCode, 2);
    assert.equal(
      String(r.stderr),
      'nettracer: trace takes no arguments, got "extra" (options start with --; see nettracer trace --help)',
    );
    const two = await nettracer(['top', 'a', 'b']);
    assert.equal(two.exitCode, 2);
    assert.equal(
      String(two.stderr),
      'nettracer: top takes no arguments, got "a" "b" (options start with --; see nettracer top --help)',
    );
  });

  it('--addr 127.0.0.1 without -f says loopback is hidden; with -f, or another address, nothing is said', async () => {
    const hidden = await nettracer(['trace', '--addr', '127.0.0.1', '--duration', '0.3']);
    assert.equal(hidden.exitCode, 0);
    assert.equal(
      String(hidden.stderr),
      'nettracer: --addr 127.0.0.1 is a loopback address, and loopback connections are hidden unless -f (--with-loopback): nothing will show',
    );
    const v6 = await nettracer(['trace', '--addr', '::1', '--duration', '0.3']);
    assert.match(String(v6.stderr), /^nettracer: --addr ::1 is a loopback address/);
    const net = await nettracer(['trace', '--addr', '127.0.0.0/8', '--duration', '0.3']);
    assert.match(String(net.stderr), /^nettracer: --addr 127\.0\.0\.0\/8 is a loopback address/);
    for (const args of [
      ['--addr', '127.0.0.1', '-f'],
      ['--addr', '10.0.0.1'],
      ['--addr', '0.0.0.0/0'],
    ]) {
      const r = await nettracer(['trace', ...args, '--duration', '0.3']);
      assert.equal(r.exitCode, 0, args.join(' '));
      assert.equal(String(r.stderr), '', args.join(' '));
    }
  });

  it('check on a checkout without the native addon: says to run the set-up, exit 1', async () => {
    // A copy of the CLI without build/: it finds its addon beside itself, so this one has none.
    const tree = join(tmp, 'tree');
    for (const d of ['bin', 'dist', 'schemas', 'package.json'])
      cpSync(join(ROOT, d), join(tree, d), { recursive: true });
    const r = await nettracer(['check', '--json'], join(tree, 'bin', 'run.cjs'));
    assert.equal(r.exitCode, 1, String(r.stderr));
    const report = JSON.parse(String(r.stdout)) as {
      ok: boolean;
      items: { name: string; ok: boolean; detail: string; fix?: string }[];
    };
    assert.equal(report.ok, false);
    const addon = report.items.find((i) => i.name === 'addon');
    assert.deepEqual(addon && [addon.ok, addon.detail, addon.fix], [
      false,
      'the native addon is not built (build/Release/nettracer.node is missing)',
      'run the set-up command from the README (npm run setup)',
    ]);
    const table = await nettracer(['check'], join(tree, 'bin', 'run.cjs'));
    assert.equal(table.exitCode, 1);
    assert.match(String(table.stdout), /run the set-up command from the README \(npm run setup\)/);
  });
});
