// nettracer-compat: the original's command line and args file, unchanged,
// against what its source prints (nettracersrv/nettracer.cpp) and the
// traffic generator's own counts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { asNobody, killAll, ROOT, startGenerator } from '../helpers/processes.js';

const BIN = join(ROOT, 'bin', 'nettracer-compat.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettracer-compat-'));
after(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});
const compat = (args: string[], opts: { timeout?: number } = {}) =>
  execa(process.execPath, [BIN, ...args], { reject: false, cwd: ROOT, timeout: opts.timeout ?? 120_000 });
/** The message of a log line, without its time and thread. */
const message = (l: string) => l.replace(/^\S+ \S+ \[\d+\] (\w+) \[nettracer\] /, '$1 ');

/**
 * nettracer-compat ARGS, its output read as it comes (the messages of its
 * lines); until() waits for a line (a busy host makes the whole host's log
 * slow: no fixed sleep), stop() sends SIGINT and resolves with the exit.
 */
const running = new Set<{ kill: (s: NodeJS.Signals) => boolean }>();
after(() => {
  for (const r of running) r.kill('SIGKILL');
});

function streamed(args: string[]) {
  const run = execa(process.execPath, [BIN, ...args], { reject: false, cwd: ROOT, buffer: false });
  running.add(run);
  void run.then(() => running.delete(run));
  const lines: string[] = [];
  createInterface({ input: run.stdout }).on('line', (l) => lines.push(message(l)));
  return {
    lines,
    /** Waits until a line from index `from` on satisfies `what` (each line is looked at once). */
    async until(what: (l: string) => boolean, why: string, from = 0): Promise<number> {
      let at = from;
      for (let i = 0; i < 1200; i++) {
        for (; at < lines.length; at++) if (what(lines[at])) return at;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`${why} in ${lines.slice(-20).join('\n')}`);
    },
    async stop() {
      run.kill('SIGINT');
      return (await run).exitCode;
    },
  };
}

describe('nettracer-compat', () => {
  it('bad usage: what boost says, then the help, on standard output; exit 1', async () => {
    for (const [args, what] of [
      [['--time_interval', 'ten'], "the argument ('ten') for option '--time_interval' is invalid"],
      [['--nope'], "unrecognised option '--nope'"],
      [['-t'], "the required argument for option '--time_interval' is missing"],
      [['--test=1'], "option '--test' does not take any arguments"],
    ] as const) {
      const r = await compat([...args]);
      assert.equal(r.exitCode, 1, args.join(' '));
      assert.ok(String(r.stdout).startsWith(`${what}\nOptions:\n  -c [ --clear_probes ]`), String(r.stdout));
    }
    const help = await compat(['-h']);
    assert.equal(help.exitCode, 0);
    assert.match(String(help.stdout), /^Options:\n[\s\S]* {2}-t \[ --time_interval \] arg \(=30\)\s+Time interval/);
  });

  it('an args file and -l DIR: the start-up lines, events and stats, appended to DIR/oneagent_nettracer_<pid>.log', async () => {
    const logs = join(tmp, 'logs');
    mkdirSync(logs, { mode: 0o755 });
    const args = join(tmp, 'nettracer.args');
    // As an OneAgent installation writes it: name=value, a comment, a switch with a value.
    writeFileSync(
      args,
      `# nettracer\ntime_interval=1\nmap_size=2000000\nwith_loopback=1\ndebug=warn\nlog=${logs}\ncounters_interval=0\n`,
    );
    const gen = await startGenerator({
      connections: [{ family: 4, client_bytes: 4321, server_bytes: 765 }],
      hold: 1.5,
    });
    const t = streamed(['--args_file', args]);
    await t.until((l) => l === 'info Starting TCP IPv4 events', 'tracing');
    const truth = await gen.run();
    const c = truth[0];
    const tuple = `127.0.0.1:${c.client.port} -> 127.0.0.1:${c.server.port}`;
    // The final stats of the closed connection come at the next interval, with the generator's bytes.
    const final = `- stats: Bytes sent=${c.client_sent} Bytes received=${c.client_received}`;
    const closeAt = await t.until(
      (l) => l.startsWith(`info event close 127.0.0.1:${c.client.port} -- `),
      'the close event',
    );
    const isFinal = (l: string) => l.includes(`${tuple} NS:`) && l.endsWith(final);
    await t.until(isFinal, `stats with ${final} after the close`, closeAt + 1);
    assert.equal(await t.stop(), 0);
    const lines = t.lines;
    assert.deepEqual(lines.slice(0, 7), [
      'info Starting NetTracer v0.1.0',
      'info time_interval: 1',
      'info map_size: 2000000',
      'info map_size too large: 2000000, using maximum value allowed: 1048576',
      'info BPF program loaded',
      'info Starting TCP IPv4 events',
      'info Starting TCP IPv6 events',
    ]);
    assert.deepEqual(lines.slice(-2), ['info Events stopped', 'info NetTracer stop reason 0']);
    assert.ok(
      lines.some((l) => l.startsWith(`info event connect ${tuple} NS:`)),
      'the connect event',
    );

    const files = readdirSync(logs);
    assert.equal(files.length, 1);
    assert.match(files[0], /^oneagent_nettracer_\d+\.log$/);
    const file = readFileSync(join(logs, files[0]), 'utf8').split('\n').filter(Boolean).map(message);
    assert.deepEqual(file, lines, 'the file has what standard output has');
  });

  it('the args file changed: the shutdown and start-up lines the original logs as it restarts, and the new interval', async () => {
    const args = join(tmp, 'reload.args');
    writeFileSync(args, 'time_interval=30\nwith_loopback=1\n');
    const run = execa(process.execPath, [BIN, '--args_file', args], { reject: false, cwd: ROOT, buffer: false });
    const lines: string[] = [];
    createInterface({ input: run.stdout }).on('line', (l) => lines.push(message(l)));
    const until = async (what: string) => {
      for (let i = 0; i < 300 && !lines.includes(what); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(lines.includes(what), `${what} in ${lines.join('\n')}`);
    };
    await until('info BPF program loaded');
    writeFileSync(args, 'time_interval=1\nwith_loopback=1\nmap_size=64\n');
    await until('info NetTracer stop reason 3');
    // A connection held open over the new interval of a second: its stats lines after the restart.
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 10, server_bytes: 20 }], hold: 2.5 });
    const [c] = await gen.run();
    await new Promise((r) => setTimeout(r, 1500));
    run.kill('SIGINT');
    const r = await run;
    assert.equal(r.exitCode, 0);
    const at = lines.indexOf('info NetTracer stop reason 3');
    assert.deepEqual(lines.slice(at - 1, at + 5), [
      'info Events stopped',
      'info NetTracer stop reason 3',
      'info Starting NetTracer v0.1.0',
      'info time_interval: 1',
      'info map_size: 64',
      'info BPF program loaded',
    ]);
    const mine = lines.slice(at).filter((l) => l.includes(`:${c.client.port} -> `) && / - stats: /.test(l));
    assert.ok(mine.length >= 2, `the new interval: stats lines every second while it was open (${mine.length})`);
    assert.deepEqual(lines.slice(-2), ['info Events stopped', 'info NetTracer stop reason 0']);
  });

  it('--test: loads, says so, exits 0; -n -r prints legacy lines, no log on standard output', async () => {
    const t = await compat(['--test']);
    assert.equal(t.exitCode, 0, String(t.stderr));
    const lines = String(t.stdout).split('\n').filter(Boolean).map(message);
    assert.deepEqual(lines.slice(-3), [
      'info BPF program loaded',
      'info All checks passed, stopping NetTracer',
      'info NetTracer stop reason 0',
    ]);
    const n = compat(['-n', '-r', '-t1', '-f']);
    await new Promise((r) => setTimeout(r, 2500));
    n.kill('SIGINT');
    const out = String((await n).stdout);
    assert.ok(!out.includes('[nettracer]'), 'no log lines with -n');
    assert.ok(out.split('\n').includes(' '), 'each interval ends with a line holding one space');
  });

  it('without -f the log still shows loopback connections: the original filters them in its table only', async () => {
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 7, server_bytes: 8 }], hold: 0.5 });
    const run = execa(process.execPath, [BIN, '-t', '1'], { reject: false, cwd: ROOT, buffer: false });
    const lines: string[] = [];
    createInterface({ input: run.stdout }).on('line', (l) => lines.push(message(l)));
    for (let i = 0; i < 300 && !lines.includes('info Starting TCP IPv4 events'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const [c] = await gen.run();
    await new Promise((r) => setTimeout(r, 1200));
    run.kill('SIGINT');
    await run;
    assert.ok(
      lines.some((l) => l.startsWith(`info event connect 127.0.0.1:${c.client.port} -> 127.0.0.1:${c.server.port} `)),
      'the loopback connection is logged',
    );
  });

  it('a -l that is not a directory stops it with the filesystem error; exit 2 (GenericError)', async () => {
    const file = join(tmp, 'plain');
    writeFileSync(file, '');
    const r = await compat(['-l', file]);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /Log directory does not exist or is not a directory: Not a directory \[/);
  });

  it('without the privileges to load: the error, "NetTracer stop reason 1", exit 1 (InsufficientCapabilities)', async () => {
    const r = await asNobody(['compat', '--', '-t', '1', '-m', '64']);
    assert.equal(r.exitCode, 1, String(r.stderr));
    const lines = String(r.stdout).split('\n').filter(Boolean).map(message);
    assert.deepEqual(lines.slice(0, 3), [
      'info Starting NetTracer v0.1.0',
      'info time_interval: 1',
      'info map_size: 64',
    ]);
    assert.match(lines[3], /^error /);
    assert.deepEqual(lines.slice(4), ['info NetTracer stop reason 1']);
  });

  it("trace given one of the original's options names its new form and the drop-in", async () => {
    const r = await execa(process.execPath, [join(ROOT, 'bin', 'run.cjs'), 'trace', '--time_interval', '10'], {
      reject: false,
    });
    assert.equal(r.exitCode, 2);
    assert.equal(
      String(r.stderr),
      "nettracer: Nonexistent flag: --time_interval (did you mean -t/--interval, or nettracer-compat for the original's command line?)",
    );
  });
});
