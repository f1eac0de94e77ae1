// The command line as a user meets it: bad input, missing privileges, the
// reader going away, one-shot captures. Real processes, real kernel.
import assert from 'node:assert/strict';
import { execa, type Options } from 'execa';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertValidLine, assertValidOutput } from '../helpers/schemas.js';
import { launch } from '../helpers/launch.js';
import { asNobody, killAll, ROOT, RUN } from '../helpers/processes.js';

after(killAll);

const tmp = mkdtempSync(join(tmpdir(), 'nettracer-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function nettracer(args: string[], opts: Options = {}) {
  return execa(process.execPath, [RUN, ...args], { reject: false, cwd: ROOT, timeout: 30_000, ...opts });
}

/** Keeps making short loopback connections until stopped; resolves with how many it made. */
function churn(): { stop: () => Promise<number> } {
  let running = true;
  let made = 0;
  const server = net.createServer((s) => s.end('x'));
  const loop = (async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    while (running) {
      await new Promise<void>((resolve) => {
        const c = net.connect(port, '127.0.0.1');
        c.on('data', () => {});
        c.on('close', () => resolve());
        c.on('error', () => resolve());
      });
      made++;
      await new Promise((r) => setTimeout(r, 20));
    }
    server.close();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return made;
    },
  };
}

describe('bad input: one line on stderr, exit 2, nothing loaded or written', () => {
  const cases: [string[], RegExp][] = [
    [['--interval', '-1'], /--interval must be between/],
    [['--interval', 'abc'], /--interval must be a number/],
    [['-t', '0'], /--interval must be between/],
    [['--count', '0'], /--count must be at least 1/],
    [['--count', '2.5'], /--count must be an integer/],
    [['--duration', '-3'], /--duration must be at least/],
    [['--port', '65536'], /--port must be between 0 and 65535/],
    [['--port', '-1'], /--port must be between 0 and 65535/],
    [['--pid', 'abc'], /--pid must be an integer/],
    // Plain decimal only: Number() takes all of these.
    [['--pid', '0x10'], /--pid must be an integer \(decimal digits\), got "0x10"/],
    [['--port', '0b11'], /--port must be an integer \(decimal digits\), got "0b11"/],
    [['--map-size', '0o7'], /--map-size must be an integer \(decimal digits\), got "0o7"/],
    [['--count', '1e3'], /--count must be an integer \(decimal digits\), got "1e3"/],
    [['--pid', ' 5 '], /--pid must be an integer \(decimal digits\), got " 5 "/],
    [['--netns', '+4026531840'], /--netns must be an integer \(decimal digits\)/],
    [['--ring-size', '64.0'], /--ring-size must be an integer \(decimal digits\)/],
    [['--ready-fd', '0x3'], /--ready-fd must be an integer \(decimal digits\)/],
    [['--interval', '1e1'], /--interval must be a number \(decimal, like 2 or 0\.5\), got "1e1"/],
    [['--duration', '0x10'], /--duration must be a number \(decimal/],
    [['--stats-interval', ' 5'], /--stats-interval must be a number \(decimal/],
    [['--map-size', '0'], /--map-size must be between 1 and 1048576/],
    [['--map-size', '2000000'], /--map-size must be between 1 and 1048576/],
    [['--no-such-flag'], /Nonexistent flag: --no-such-flag/],
    [['--user', 'no-such-user-here'], /--user no-such-user-here: no such user/],
    [['--user', 'root:x'], /--user must be a user name or a uid, got "root:x"/],
    [['--output', '/nonexistent-dir/capture.ndjson'], /directory \/nonexistent-dir does not exist/],
  ];
  for (const [args, message] of cases) {
    it(`trace ${args.join(' ')}`, async () => {
      const r = await nettracer(['trace', ...args]);
      assert.equal(r.exitCode, 2, String(r.stderr));
      assert.equal(r.stdout, '');
      const lines = String(r.stderr).trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${String(r.stderr)}`);
      assert.match(lines[0], /^nettracer: /);
      assert.match(lines[0], message);
      assert.doesNotMatch(String(r.stderr), /\bat .*\.(js|ts):\d+/, 'no stack trace');
    });
  }
});

describe('bad input to summarize: one line on stderr, exit 2', () => {
  for (const [args, message] of [
    [['--window', '10000000000'], /--window must be between 0.001 and 1000000000/],
    [['--live', '--window', '2000000000'], /--window must be between 0.001 and 1000000000/],
    [['--window', '1e3'], /--window must be a number \(decimal, like 2 or 0\.5\), got "1e3"/],
  ] as const) {
    it(`summarize ${args.join(' ')}`, async () => {
      const r = await nettracer(['summarize', ...args, join(ROOT, 'test', 'fixtures', 'capture-v1.ndjson')]);
      assert.equal(r.exitCode, 2, String(r.stderr));
      assert.equal(r.stdout, '');
      assert.match(String(r.stderr), new RegExp(`^nettracer: .*${message.source}`));
      assert.equal(String(r.stderr).trim().split('\n').length, 1);
    });
  }
});

describe('privileges', () => {
  it('without root: a plain message naming what is missing, exit 3, no output file', async () => {
    const home = join(tmp, 'nobody');
    mkdirSync(home, { mode: 0o777 });
    chmodSync(tmp, 0o755);
    chmodSync(home, 0o777);
    const out = join(home, 'unprivileged.ndjson');
    const r = await asNobody(['trace', '--output', out], { env: { HOME: home } });
    assert.equal(r.exitCode, 3, String(r.stderr));
    assert.match(
      String(r.stderr),
      /^nettracer: not allowed to load BPF programs: run as root \(sudo\), or with the capabilities CAP_BPF and CAP_PERFMON$/,
    );
    assert.equal(String(r.stderr).trim().split('\n').length, 1);
    assert.equal(existsSync(out), false, 'nothing written');
  });
});

describe('the minimal privileges', () => {
  it('CAP_BPF and CAP_PERFMON alone, as an ordinary user, are enough to trace; it sheds them once attached', async () => {
    const caps = '-all,+bpf,+perfmon';
    const traffic = churn();
    const r = await asNobody(['trace', '-f', '--count', '4', '--verbose'], { caps });
    await traffic.stop();
    assert.equal(r.exitCode, 0, String(r.stderr));
    assertValidOutput(r.stdout);
    assert.match(String(r.stderr), /^nettracer: running as uid 65534, no capabilities$/m);
  });

  it('sheds them before the walk of existing connections, even when that walk reaches --count', async () => {
    // A connection open before tracing starts: the walk's first record is the count.
    const server = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    try {
      const r = await asNobody(['trace', '-f', '--count', '1', '--verbose'], { caps: '-all,+bpf,+perfmon' });
      assert.equal(r.exitCode, 0, String(r.stderr));
      assert.match(String(r.stdout), /"type":"existing"/);
      assert.match(String(r.stderr), /^nettracer: running as uid 65534, no capabilities$/m);
    } finally {
      client.destroy();
      server.close();
    }
  });
});

describe('-b, the hook strategy', () => {
  it('counters leaves out the send and receive hooks and says so; an unknown strategy is a clear usage error', async () => {
    const traffic = churn();
    const r = await nettracer(['trace', '-f', '-b', 'counters', '--duration', '1.5']);
    await traffic.stop();
    assert.equal(r.exitCode, 0, String(r.stderr));
    const stats = assertValidOutput(r.stdout).filter((x) => x.type === 'stats');
    assert.equal(stats.at(-1)?.bytes_from, 'counters');
    assert.ok(
      !stats.at(-1)?.hooks?.some((h) => /sock_(send|recv)_length/.test(h)),
      JSON.stringify(stats.at(-1)?.hooks),
    );
    const bad = await nettracer(['trace', '-b', 'kprobe']);
    assert.equal(bad.exitCode, 2);
    assert.match(String(bad.stderr), /^nettracer: Expected --hook-strategy=kprobe to be one of: auto, calls, counters/);
  });
});

describe('one-shot captures', () => {
  it('--count N writes exactly N valid records and exits 0', async () => {
    const traffic = churn();
    const r = await nettracer(['trace', '-f', '--count', '5']);
    await traffic.stop();
    assert.equal(r.exitCode, 0, String(r.stderr));
    const lines = String(r.stdout).trim().split('\n');
    assert.equal(lines.length, 5);
    lines.forEach((l) => assertValidLine(l));
  });

  it('--count reached in the middle of a burst exits cleanly, every time (20 runs under fast churn)', async () => {
    const fast = execa('python3', [join(ROOT, 'test', 'helpers', 'churn.py'), '1000000'], {
      input: 'go\n',
      reject: false,
    });
    try {
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 20; i++) {
        const r = await nettracer(['trace', '-f', '--count', '2']);
        assert.equal(r.exitCode, 0, `run ${i}: ${r.signal ?? ''} ${String(r.stderr)}`);
        assert.equal(String(r.stdout).trim().split('\n').length, 2);
      }
    } finally {
      fast.kill('SIGKILL');
    }
  });

  it('--duration stops by itself with exit 0, and --output writes the stream to the file only', async () => {
    const out = join(tmp, 'capture.ndjson');
    const traffic = churn();
    const r = await nettracer(['trace', '-f', '--duration', '2', '--output', out]);
    const made = await traffic.stop();
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.stdout, '');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const recs = lines.map((l) => assertValidLine(l));
    assert.ok(made > 0);
    assert.ok(recs.filter((x) => x.type === 'close').length > 0, 'closes were captured');
  });

  for (const command of ['trace', 'summarize'] as const) {
    it(`${command}: a --duration past the 24.8 days of a Node.js timer does not stop it at once`, async () => {
      // 30 days; the tracer keeps going until it has written three periodic
      // records (stats records every 0.1 s, summaries every 0.1 s window).
      const args =
        command === 'trace' ? ['--stats-interval', '0.1'] : ['--live', '--window', '0.1', '--format', 'ndjson'];
      const t = await launch([...args, '--duration', String(30 * 86400)], { command });
      let exited = false;
      t.proc.once('exit', () => (exited = true));
      const periodic = () =>
        t.lines.filter((l) => (JSON.parse(l) as { type: string }).type === (command === 'trace' ? 'stats' : 'summary'))
          .length;
      while (!exited && periodic() < 3) await new Promise((r) => setTimeout(r, 50));
      assert.equal(exited, false, `it stopped by itself: ${t.stderr()}`);
      t.proc.kill('SIGINT');
      const r = await t.proc;
      assert.equal(r.exitCode, 0, t.stderr());
      assert.doesNotMatch(t.stderr(), /TimeoutOverflowWarning/);
    });
  }

  it('summarize --live: a window past the 24.8 days of a Node.js timer is one window, not a walk every 1 ms', async () => {
    const r = await nettracer(['summarize', '--live', '--window', String(30 * 86400), '--duration', '0.5']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(String(r.stderr), '', 'no TimeoutOverflowWarning');
  });

  it('the reader going away (| head -n 1) stops the tracer with exit 0 and no stack trace', async () => {
    const traffic = churn();
    const r = await execa('bash', ['-c', `set -o pipefail; "${process.execPath}" "${RUN}" trace -f | head -n 1`], {
      reject: false,
      timeout: 30_000,
    });
    await traffic.stop();
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(String(r.stdout).trim().split('\n').length, 1);
    assertValidLine(String(r.stdout).trim());
    assert.equal(String(r.stderr), '');
  });
});

describe("the original's -p and -c", () => {
  it('-p loads a BPF object file instead of the built-in one; a file that is not one is a clear usage error', async () => {
    const traffic = churn();
    const r = await nettracer(['trace', '-f', '-p', join(ROOT, 'bpf', '.output', 'nettracer.bpf.o'), '--count', '3']);
    await traffic.stop();
    assert.equal(r.exitCode, 0, String(r.stderr));
    assertValidOutput(r.stdout);
    const bad = await nettracer(['trace', '-p', join(ROOT, 'package.json')]);
    assert.equal(bad.exitCode, 2);
    assert.match(String(bad.stderr), /^nettracer: the BPF object .*package\.json is not one this nettracer can use/);
  });

  it('libbpf\'s own errors are said in words, not as strerror\'s "Unknown error 4001"', async () => {
    const truncated = join(tmp, 'truncated.o');
    writeFileSync(truncated, readFileSync(join(ROOT, 'bpf', '.output', 'nettracer.bpf.o')).subarray(0, 4096));
    for (const path of [join(ROOT, 'package.json'), truncated]) {
      const r = await nettracer(['trace', '-p', path]);
      assert.equal(r.exitCode, 2);
      assert.equal(String(r.stderr).trim().split('\n').length, 1, String(r.stderr));
      assert.match(
        String(r.stderr),
        /is not one this nettracer can use: BPF object format invalid \(libbpf error 4001\)$/m,
      );
      assert.doesNotMatch(String(r.stderr), /Unknown error/);
    }
  });

  it('-p takes a regular, non-empty file of at most 16 MiB, by a path without symbolic links; else one line, exit 2', async () => {
    const object = join(ROOT, 'bpf', '.output', 'nettracer.bpf.o');
    const empty = join(tmp, 'empty.o');
    writeFileSync(empty, '');
    const huge = join(tmp, 'huge.o');
    writeFileSync(huge, '');
    truncateSync(huge, 17 * 1024 * 1024);
    const link = join(tmp, 'link.o');
    symlinkSync(object, link);
    const fifo = join(tmp, 'fifo.o');
    execFileSync('mkfifo', [fifo]);
    for (const [path, why] of [
      ['/dev/null', /it is not a regular file/], // it loaded the built-in object
      [empty, /it is empty/], // the same
      [huge, /it is larger than 16 MiB/],
      [link, /a symbolic link is in its path/],
      [fifo, /it is not a regular file/], // it waited for a writer
      [tmp, /it is not a regular file/],
    ] as const) {
      const r = await nettracer(['trace', '-p', path, '--count', '1']);
      assert.equal(r.exitCode, 2, `${path}: ${String(r.stderr)}`);
      assert.equal(r.stdout, '');
      const lines = String(r.stderr).trim().split('\n');
      assert.equal(lines.length, 1, String(r.stderr));
      assert.match(lines[0], new RegExp(`^nettracer: cannot use the BPF object ${path}: ${why.source}`));
    }
  });

  it("-c removes nothing from bpffs: what is pinned under nettracer* is another program's, and is listed", async () => {
    // bpffs, mounted for the test when it is not (and unmounted after).
    const mounted = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf');
    if (!mounted) execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
    // A real map another tool pinned, and a directory someone made.
    const map = '/sys/fs/bpf/nettracer_x';
    const dir = '/sys/fs/bpf/nettracer-test-dir';
    try {
      execFileSync('bpftool', [
        'map',
        'create',
        map,
        'type',
        'hash',
        'key',
        '4',
        'value',
        '4',
        'entries',
        '1',
        'name',
        'other',
      ]);
      mkdirSync(dir);
      const r = await nettracer(['trace', '-c', '--duration', '0.2']);
      assert.equal(r.exitCode, 0, String(r.stderr));
      assertValidOutput(r.stdout);
      assert.ok(existsSync(map), "the other program's map is still pinned");
      assert.ok(existsSync(dir), 'the directory is still there');
      const shown = JSON.parse(
        execFileSync('bpftool', ['map', 'show', 'pinned', map, '--json'], { encoding: 'utf8' }),
      ) as {
        name: string;
      };
      assert.equal(shown.name, 'other');
      const lines = String(r.stderr).trim().split('\n');
      assert.equal(lines.length, 1, String(r.stderr));
      assert.match(lines[0], /^nettracer: -c removed nothing: nettracer pins nothing, so /);
      assert.match(lines[0], /"\/sys\/fs\/bpf\/nettracer_x"/);
      assert.match(lines[0], /"\/sys\/fs\/bpf\/nettracer-test-dir"/);
    } finally {
      rmSync(map, { force: true });
      rmSync(dir, { recursive: true, force: true });
      if (!mounted) execFileSync('umount', ['/sys/fs/bpf']);
    }
  });
});
