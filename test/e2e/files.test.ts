// Files nettracer writes as root on a host others share (--output, --log-file):
// what another user can place in a shared directory must not make root
// overwrite, leak into or hang on anything. The other user is nobody, via
// setpriv; the shared directory is sticky and world-writable, like /tmp.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { killAll, ROOT, RUN } from '../helpers/processes.js';
import { assertValidOutput } from '../helpers/schemas.js';

after(killAll);
const shared = mkdtempSync(join(tmpdir(), 'nettracer-files-'));
chmodSync(shared, 0o1777);
after(() => rmSync(shared, { recursive: true, force: true }));

/** Something the user nobody does in the shared directory. */
const asNobody = (...cmd: string[]) =>
  execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], { cwd: shared });

const trace = (...args: string[]) =>
  execa(process.execPath, [RUN, 'trace', '-f', '--duration', '0.3', ...args], {
    reject: false,
    cwd: ROOT,
    timeout: 30_000,
  });

/** A root-only file with a secret in it: what an attacker would like root to overwrite. */
function secret(name: string): string {
  const path = join(shared, name);
  writeFileSync(path, 'secret\n', { mode: 0o600 });
  return path;
}

const refused = async (args: string[], why: RegExp) => {
  const r = await trace(...args);
  assert.equal(r.exitCode, 2, String(r.stderr));
  const lines = String(r.stderr).trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${String(r.stderr)}`);
  assert.match(lines[0], why);
  assert.equal(r.stdout, '', 'nothing written');
};

describe('output files', () => {
  it('a symbolic link another user made is never followed: the file it points to is left alone', async () => {
    const target = secret('target-a');
    asNobody('ln', '-s', target, 'link-a');
    await refused(
      ['--output', join(shared, 'link-a')],
      /^nettracer: cannot write .*link-a: a symbolic link is in its path/,
    );
    assert.equal(readFileSync(target, 'utf8'), 'secret\n');
  });

  it('nor a symbolic link to a directory in the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nettracer-private-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'capture'), 'secret\n', { mode: 0o600 });
    asNobody('ln', '-s', dir, 'dirlink');
    await refused(['--output', join(shared, 'dirlink', 'capture')], /symbolic link|not a directory/);
    assert.equal(readFileSync(join(dir, 'capture'), 'utf8'), 'secret\n');
  });

  it('a file another user created is not written into, whatever its mode', async () => {
    asNobody('sh', '-c', 'umask 0; echo mine > theirs; chmod 666 theirs');
    await refused(['--output', join(shared, 'theirs')], /belongs to uid 65534, neither root nor you/);
    assert.equal(readFileSync(join(shared, 'theirs'), 'utf8'), 'mine\n');
  });

  it('a FIFO is refused at once, with the programs detached, instead of hanging', async () => {
    execFileSync('mkfifo', [join(shared, 'fifo')]);
    await refused(['--output', join(shared, 'fifo')], /it is a FIFO nobody reads|not a regular file/);
  });

  it('a file with another hard link is refused', async () => {
    const target = secret('target-b');
    linkSync(target, join(shared, 'hardlink'));
    await refused(['--output', join(shared, 'hardlink')], /other hard links/);
    assert.equal(readFileSync(target, 'utf8'), 'secret\n');
  });

  it('a new capture is created 0600; an existing one of root is overwritten and made 0600, or appended to', async () => {
    const path = join(shared, 'capture.ndjson');
    const first = await trace('--output', path);
    assert.equal(first.exitCode, 0, String(first.stderr));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assertValidOutput(readFileSync(path, 'utf8'));

    writeFileSync(path, '{"old":1}\n', { mode: 0o644 });
    chmodSync(path, 0o644);
    const over = await trace('--output', path);
    assert.equal(over.exitCode, 0, String(over.stderr));
    assert.equal(statSync(path).mode & 0o777, 0o600, 'no longer readable by others');
    assert.ok(!readFileSync(path, 'utf8').includes('"old"'), 'overwritten');

    writeFileSync(path, '{"old":1}\n');
    const app = await trace('--output', path, '--append');
    assert.equal(app.exitCode, 0, String(app.stderr));
    assert.ok(readFileSync(path, 'utf8').startsWith('{"old":1}\n{"type":'), 'appended after what was there');
  });

  it('/dev/null is fine', async () => {
    const r = await trace('--output', '/dev/null');
    assert.equal(r.exitCode, 0, String(r.stderr));
  });

  it('--log-file follows the same rules', async () => {
    const target = secret('target-c');
    asNobody('ln', '-s', target, 'link-c');
    await refused(['--log-file', join(shared, 'link-c')], /a symbolic link is in its path/);
    assert.equal(readFileSync(target, 'utf8'), 'secret\n');
  });
});

describe('nettracer-compat -l DIR: DIR/oneagent_nettracer_<pid>.log, as root, in a shared directory', () => {
  const BIN = join(ROOT, 'bin', 'nettracer-compat.cjs');
  /**
   * nettracer-compat -l shared, its pid known a second before it opens its
   * log (sh execs it: the pid stays), so that `prepare` can place a file there.
   */
  async function compatWithLog(prepare: (log: string) => void) {
    const run = execa('sh', ['-c', `sleep 1; exec "${process.execPath}" "${BIN}" -l "${shared}" --test`], {
      reject: false,
      cwd: ROOT,
      timeout: 30_000,
    });
    const log = join(shared, `oneagent_nettracer_${run.pid}.log`);
    prepare(log);
    return { r: await run, log };
  }

  it('a symbolic link another user placed at the name is not followed: refused, the target left alone', async () => {
    const target = secret('target-d');
    const { r } = await compatWithLog((log) => asNobody('ln', '-s', target, log));
    assert.equal(r.exitCode, 2, String(r.stderr));
    assert.match(String(r.stderr), /^nettracer-compat: cannot write .*a symbolic link is in its path/);
    assert.equal(readFileSync(target, 'utf8'), 'secret\n');
  });

  it("another user's file at the name is not written into", async () => {
    const { r, log } = await compatWithLog((log) =>
      asNobody('sh', '-c', `umask 0; echo mine > ${log}; chmod 666 ${log}`),
    );
    assert.equal(r.exitCode, 2, String(r.stderr));
    assert.match(String(r.stderr), /belongs to uid 65534, neither root nor you/);
    assert.equal(readFileSync(log, 'utf8'), 'mine\n');
  });

  it("root's own log at the name is appended to (spdlog's file sink); a new one is 0600", async () => {
    const { r, log } = await compatWithLog((log) => writeFileSync(log, 'earlier line\n', { mode: 0o600 }));
    assert.equal(r.exitCode, 0, String(r.stderr));
    const text = readFileSync(log, 'utf8');
    assert.ok(text.startsWith('earlier line\n'), 'what was there stays');
    assert.match(text, /\] info \[nettracer\] Starting NetTracer v/);
    assert.match(text, /\] info \[nettracer\] All checks passed, stopping NetTracer\n.*NetTracer stop reason 0\n$/);
    const fresh = await compatWithLog(() => undefined);
    assert.equal(fresh.r.exitCode, 0, String(fresh.r.stderr));
    assert.equal(statSync(fresh.log).mode & 0o777, 0o600);
  });
});
