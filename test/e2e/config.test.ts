// --config as root on a host others share: the file is trusted only if
// nobody but root or the invoking user can change it, it cannot make root
// write files, load code or keep privileges, errors never show what it
// holds, and a 0600 file is still re-read after the tracer dropped root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { killAll, ROOT, RUN, startGenerator, startTracer } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

after(killAll);
const dir = mkdtempSync(join(tmpdir(), 'nettracer-config-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'hunter2-do-not-print';

const trace = (config: string, ...args: string[]) =>
  execa(process.execPath, [RUN, 'trace', '-f', '--duration', '0.3', '--config', config, ...args], {
    reject: false,
    cwd: ROOT,
    timeout: 30_000,
  });

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

async function refused(config: string, why: RegExp): Promise<void> {
  const r = await trace(config);
  assert.equal(r.exitCode, 2, String(r.stderr));
  const err = String(r.stderr);
  assert.equal(err.trim().split('\n').length, 1, `one line: ${err}`);
  assert.match(err, why);
  assert.ok(!err.includes(SECRET), `the file's content is not shown: ${err}`);
  assert.equal(r.stdout, '', 'nothing traced');
}

describe('--config on a shared host', () => {
  it('a file another user owns is refused, even if only they can write it', async () => {
    const path = file('theirs.conf', 'interval=5\n');
    chownSync(path, 65534, 65534);
    await refused(path, /belongs to uid 65534, neither root nor the user who started nettracer/);
  });

  it('a file others can write is refused', async () => {
    await refused(file('open.conf', 'interval=5\n', 0o666), /others can write it/);
  });

  it('a file in a directory others can write (not sticky) is refused', async () => {
    const open = join(dir, 'open-dir');
    mkdirSync(open);
    chmodSync(open, 0o777);
    writeFileSync(join(open, 'c.conf'), 'interval=5\n', { mode: 0o600 });
    await refused(join(open, 'c.conf'), /open-dir can be written by others \(mode 0777\)/);
  });

  it('a symbolic link is not followed: a link to a secret shows nothing of it', async () => {
    const secret = file('secret', `${SECRET}\n`);
    const link = join(dir, 'link.conf');
    symlinkSync(secret, link);
    await refused(link, /a symbolic link is in its path/);
  });

  it('errors name the line and the option, never the content', async () => {
    await refused(
      file('garbage.conf', `interval=5\n${SECRET} \x1b[2J\x00\n`),
      /garbage\.conf:2: expected name=value$/m,
    );
    await refused(
      file('badvalue.conf', `interval=${SECRET}\n`),
      /badvalue\.conf:1: interval: must be a number \(decimal, like 2 or 0\.5\)$/m,
    );
    // Plain decimal, as on the command line: not PID 16.
    await refused(file('hex.conf', `pid=0x10\n`), /hex\.conf:1: pid: must be an integer \(decimal digits\)$/m);
    await refused(file('exp.conf', `map_size=1e3\n`), /exp\.conf:1: map_size: must be an integer \(decimal digits\)$/m);
    await refused(file('unknown.conf', `${SECRET}=1\n`), /unknown\.conf:1: not an option of nettracer trace$/m);
    await refused(file('huge.conf', `# ${'x'.repeat(5_000_000)}\n`), /larger than 64 KiB/);
  });

  it('cannot make root write a file, load code, keep privileges or clean up bpffs', async () => {
    for (const [key, value] of [
      ['output', join(dir, 'x')],
      ['log', join(dir, 'y')],
      ['program', '/etc/passwd'],
      ['keep-privileges', ''],
      ['cleanup', ''],
    ]) {
      await refused(
        file(`${key}.conf`, `${key}=${value}\n`),
        new RegExp(`:1: ${key} cannot be set from a config file`),
      );
    }
  });

  it('a 0600 file of root is still re-read after the tracer dropped root', async () => {
    const config = file('private.conf', 'time_interval=30\nwith_loopback=\n');
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 10, server_bytes: 20 }], hold: 2.5 });
    const tr = await startTracer(['--config', config, '--pid', String(gen.pid)]);
    assert.match(tr.ready.user, /^nettracer \(uid \d+\), no capabilities$/, 'it does not keep root for the config');
    const status = readFileSync(`/proc/${tr.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+[1-9]/m);
    const done = gen.run();
    await new Promise((r) => setTimeout(r, 600));
    writeFileSync(config, 'interval=0.3\nwith_loopback=\n'); // as root, still 0600
    await done;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await tr.stop(), 0);
    assert.match(tr.stderr(), /private\.conf re-read and applied/);
    const metrics = tr.lines.map(assertValidLine).filter((r) => r.type === 'metrics');
    assert.ok(metrics.length >= 3, `metrics every 0.3 s after the change: ${metrics.length}`);
  });

  it('the config reader goes with the tracer', async () => {
    const config = file('gone.conf', 'interval=5\n');
    const tr = await startTracer(['--config', config]);
    const readers = () =>
      execFileSync('pgrep', ['-f', `nettracer-config-reader ${config}`])
        .toString()
        .trim();
    assert.ok(readers().length > 0, 'running beside the tracer');
    process.kill(tr.pid, 'SIGKILL');
    await tr.exited;
    await new Promise((r) => setTimeout(r, 300));
    assert.throws(readers, 'killed with it');
  });
});
