// Reliability, as root against the real kernel: signals, crashes, slow
// readers, full tables, hostile process names, full disks.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { bpfObjectsOf, pinned, rssKiB, waitUnloaded } from '../helpers/kernel.js';
import { createNetns, deleteNetns, netnsInode } from '../helpers/netns.js';
import { launch } from '../helpers/launch.js';
import { killAll, ROOT, startGenerator, startTracer } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';
import { WALK } from '../../src/generated/wire.js';
import { loadNative } from '../../src/tracer/native.js';

after(killAll);
const tmp = mkdtempSync(join(tmpdir(), 'nettracer-rel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const CHURN = join(ROOT, 'test', 'helpers', 'churn.py');

/** Runs test/helpers/churn.py: COUNT sequential loopback connections; resolves once they are all closed. */
async function churn(count: number): Promise<{ pid: number; port: number; made: number }> {
  const p = execa('python3', [CHURN, String(count)], { stdin: 'pipe', buffer: false, reject: false });
  const rl = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const ready = JSON.parse((await rl.next()).value as string) as { pid: number; port: number };
  p.stdin.write('go\n');
  const done = JSON.parse((await rl.next()).value as string) as { made: number };
  await p;
  return { ...ready, made: done.made };
}

const emptyObjects = { progs: [], maps: [], links: [] };

describe('signals and crashes leave nothing in the kernel', () => {
  it('SIGTERM: pending records and a final stats record are written, everything detached, exit 0', async () => {
    const t = await startTracer(['-f']);
    const held = bpfObjectsOf(t.pid);
    assert.ok(held.progs.length >= 5 && held.maps.length >= 3 && held.links.length >= 5, JSON.stringify(held));
    const c = await churn(20);
    process.kill(t.pid, 'SIGTERM');
    const { exitCode } = await t.exited;
    assert.equal(exitCode, 0);
    const recs = t.lines.map(assertValidLine);
    const closes = recs.filter((r) => r.type === 'close' && (r.sport === c.port || r.dport === c.port));
    assert.equal(closes.length, 40, 'every close of the churn reached the output before exit');
    const last = recs[recs.length - 1];
    assert.equal(last.type, 'stats');
    assert.equal(last.final, true);
    assert.deepEqual(await waitUnloaded(held), emptyObjects);
  });

  it('SIGKILL: the kernel drops every program, map and link; nothing is pinned', async () => {
    const before = pinned();
    const t = await startTracer(['-f']);
    const held = bpfObjectsOf(t.pid);
    process.kill(t.pid, 'SIGKILL');
    await t.exited;
    assert.deepEqual(await waitUnloaded(held), emptyObjects);
    assert.deepEqual(pinned(), before);
  });

  it('an internal error while tracing: one clear message, exit 1, everything detached', async () => {
    const t = await launch(['-f'], { env: { NETTRACER_FAILPOINT: 'deliver' }, stdout: 'ignore' });
    const held = bpfObjectsOf(t.pid);
    await churn(1);
    const r = await t.proc;
    assert.equal(r.exitCode, 1);
    assert.match(t.stderr(), /^nettracer: internal error: failpoint: deliver$/m);
    assert.doesNotMatch(t.stderr(), /\bat .*\.(js|ts):\d+/, 'no stack trace');
    assert.deepEqual(await waitUnloaded(held), emptyObjects);
  });
});

describe('privileges after attaching', () => {
  /** The account npm run setup creates for the tracer. */
  const own = execFileSync('getent', ['passwd', 'nettracer'], { encoding: 'utf8' }).split(':');
  const ownUid = Number(own[2]);
  const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (pid: number, name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status(pid))?.[1];
  const asNobody = (cmd: string[]) =>
    execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], { reject: false });

  it('started as root, it goes on as nettracer with nothing else of root, and still reports metrics', async () => {
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 5, server_bytes: 6 }], hold: 1.5 });
    const t = await startTracer(['-f', '-t', '0.5', '--pid', String(gen.pid)]);
    assert.equal(t.ready.user, `nettracer (uid ${ownUid}), no capabilities`);
    assert.equal(field(t.pid, 'Uid'), `${ownUid}\t${ownUid}\t${ownUid}\t${ownUid}`);
    assert.equal(field(t.pid, 'Groups'), '');
    for (const set of ['CapEff', 'CapPrm', 'CapInh', 'CapBnd', 'CapAmb']) assert.match(field(t.pid, set)!, /^0+$/, set);
    assert.equal(field(t.pid, 'NoNewPrivs'), '1');
    // Every thread, not only the one that dropped root.
    for (const task of readdirSync(`/proc/${t.pid}/task`)) {
      const s = readFileSync(`/proc/${t.pid}/task/${task}/status`, 'utf8');
      assert.match(s, /^NoNewPrivs:\s+1$/m, `thread ${task}`);
      assert.match(s, /^CapEff:\s+0+$/m, `thread ${task}`);
    }
    // Not dumpable: its /proc files stay root's, so the uid it runs as cannot read its memory.
    assert.equal(statSync(`/proc/${t.pid}/environ`).uid, 0);
    // Another user of the host cannot signal it (as it could a tracer running as nobody).
    const kill = await asNobody(['kill', '-TERM', String(t.pid)]);
    assert.notEqual(kill.exitCode, 0);
    assert.match(kill.stderr, /not permitted/);
    await gen.run();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stop(), 0);
    const recs = t.lines.map(assertValidLine);
    assert.ok(recs.filter((r) => r.type === 'metrics').length >= 2, 'metrics walks work without privileges');
    assert.equal(recs.filter((r) => r.type === 'close').length, 2);
  });

  it('--user picks the identity, by name or by an id no account has', async () => {
    const named = await startTracer(['-f', '--user', 'nettracer']);
    assert.match(named.ready.user, new RegExp(`^nettracer \\(uid ${ownUid}\\)`));
    assert.equal(await named.stop(), 0);
    const t = await startTracer(['-f', '--user', '61999']);
    assert.equal(t.ready.user, 'uid 61999, no capabilities');
    assert.match(status(t.pid), /^Uid:\s+61999\s+61999\s+61999\s+61999$/m);
    assert.match(status(t.pid), /^Gid:\s+61999\s+61999\s+61999\s+61999$/m);
    assert.equal(await t.stop(), 0);
  });

  it('on a kernel where bpf() needs CAP_BPF after the drop, it keeps CAP_BPF and nothing else', async () => {
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 7, server_bytes: 8 }], hold: 1.2 });
    const t = await startTracer(['-f', '-t', '0.4', '--pid', String(gen.pid)], {
      env: { NETTRACER_FAILPOINT: 'bpf-needs-cap' },
    });
    assert.match(
      t.ready.user,
      /^nettracer \(uid \d+\), CAP_BPF: bpf\(\) on its own programs and maps fails without it/,
    );
    const capBpf = (1n << 39n).toString(16).padStart(16, '0');
    assert.equal(field(t.pid, 'CapEff'), capBpf);
    assert.equal(field(t.pid, 'CapPrm'), capBpf);
    assert.match(field(t.pid, 'CapBnd')!, /^0+$/, 'not in the bounding set: it cannot be regained');
    assert.equal(field(t.pid, 'NoNewPrivs'), '1');
    await gen.run();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stop(), 0);
    const recs = t.lines.map(assertValidLine);
    assert.ok(recs.filter((r) => r.type === 'metrics').length >= 2, 'metrics walks work with CAP_BPF alone');
  });
});

describe('a slow reader', () => {
  it('back-pressure holds memory; the ring overflows into counted loss, and every record sent arrives', async () => {
    const { proc: p, lines, drained: ended } = await launch(['-f', '--ring-size', '16']);
    // Nobody reads stdout while 1500 connections churn: the pipe fills, then the 16 KiB ring.
    p.stdout!.pause();
    const c = await churn(1500);
    const rss = rssKiB(p.pid!);
    p.stdout!.resume();
    await new Promise((r) => setTimeout(r, 1500)); // a loss check runs every second
    p.kill('SIGINT');
    await p;
    await ended;
    const recs = lines.map(assertValidLine);
    const stats = recs.filter((r) => r.type === 'stats').pop()!;
    const lost = recs.filter((r) => r.type === 'lost').reduce((a, r) => a + r.records_lost!, 0);
    const events = recs.filter((r) => ['connect', 'accept', 'close'].includes(r.type));
    const churned = events.filter((r) => r.sport === c.port || r.dport === c.port);
    assert.ok(stats.records_lost! > 0, 'the small ring overflowed');
    assert.equal(lost, stats.records_lost, 'every loss was reported in lost records');
    const missed = recs.filter((r) => r.type === 'lost').reduce((a, r) => a + r.hook_misses!, 0);
    assert.equal(missed, stats.hook_misses, 'every program run the kernel skipped was reported in lost records');
    assert.equal(events.length, stats.records_sent, 'every record the kernel sent was written');
    assert.equal(churned.length + stats.records_lost! >= 1500 * 4, true, 'records seen + lost cover the churn');
    assert.ok(rss < 300 * 1024, `RSS stayed bounded while blocked: ${rss} KiB`);
  });
});

describe('a reader that stops for 30 s', () => {
  it('memory stays bounded: no draining, walks skipped and counted; written plus lost equals produced', async () => {
    // 3000 idle pairs: every 0.5 s walk would write 6000 metrics records (about 2 MB).
    const pairs = execa('python3', [join(ROOT, 'test', 'helpers', 'idle-pairs.py'), '3000'], {
      stdin: 'pipe',
      buffer: false,
      reject: false,
    });
    try {
      const rl = createInterface({ input: pairs.stdout })[Symbol.asyncIterator]();
      JSON.parse((await rl.next()).value as string);
      const { proc: p, lines, drained } = await launch(['-f', '-t', '0.5', '--stats-interval', '1']);
      await new Promise((r) => setTimeout(r, 1500)); // a few walks written
      p.stdout!.pause();
      const rss: number[] = [];
      const churned = [];
      for (let s = 0; s < 30; s++) {
        if (s % 10 === 5) churned.push(await churn(300)); // connection records arrive too
        await new Promise((r) => setTimeout(r, 1000));
        rss.push(rssKiB(p.pid!));
      }
      p.stdout!.resume();
      await new Promise((r) => setTimeout(r, 2500)); // the writes catch up; a loss check runs
      p.kill('SIGINT');
      await p;
      await drained;
      const recs = lines.map(assertValidLine);
      const stats = recs.filter((r) => r.type === 'stats').pop()!;
      const lostRecs = recs.filter((r) => r.type === 'lost');
      const sum = (k: 'records_lost' | 'metrics_walks_skipped') => lostRecs.reduce((a, r) => a + (r[k] ?? 0), 0);
      const events = recs.filter((r) => ['connect', 'accept', 'close'].includes(r.type));
      // The bound: from 5 s into the block to its end, RSS does not grow with the walks
      // that fell due (about 50 of 2 MB each) nor with the churn.
      const growth = Math.max(...rss.slice(5)) - rss[4];
      assert.ok(growth < 32 * 1024, `RSS grew ${growth} KiB while blocked (samples ${rss.join(' ')})`);
      assert.ok(stats.metrics_walks_skipped! >= 20, `walks skipped: ${stats.metrics_walks_skipped}`);
      assert.equal(sum('metrics_walks_skipped'), stats.metrics_walks_skipped, 'every skipped walk was reported');
      assert.equal(sum('records_lost'), stats.records_lost, 'every lost record was reported');
      assert.equal(events.length, stats.records_sent, 'every record the kernel sent was written');
      for (const c of churned) {
        const mine = events.filter((r) => r.sport === c.port || r.dport === c.port).length;
        assert.ok(mine <= 300 * 4, 'no record twice');
      }
      const walks = new Set(recs.filter((r) => r.type === 'metrics').map((r) => String(r.timestamp).slice(0, 21)));
      assert.ok(walks.size >= 3, 'walks resumed once the reader was back');
    } finally {
      pairs.stdin.end();
      await pairs;
    }
  });
});

describe('a walk suspended by a blocked reader', () => {
  it('resumes after what the ring holds: a connection opened meanwhile has its opening record before its metrics', async () => {
    const idle = (n: number) =>
      execa('python3', [join(ROOT, 'test', 'helpers', 'idle-pairs.py'), String(n)], {
        stdin: 'pipe',
        buffer: false,
        reject: false,
      });
    const first = async (p: ReturnType<typeof idle>) =>
      JSON.parse((await createInterface({ input: p.stdout })[Symbol.asyncIterator]().next()).value as string) as {
        port: number;
      };
    // 2000 idle pairs: a walk writes about 1.5 MB, so a blocked reader suspends it after its first page.
    const before = idle(2000);
    let during: ReturnType<typeof idle> | undefined;
    try {
      await first(before);
      const { proc: p, lines, drained } = await launch(['-f', '-t', '0.5']);
      await new Promise((r) => setTimeout(r, 1500));
      p.stdout!.pause();
      await new Promise((r) => setTimeout(r, 1500)); // a walk falls due, fills the pipe and is suspended
      // Opened while the walk waits: their opening records wait in the ring, and the walk's next
      // page (made when the reader is back) reads about half of them.
      during = idle(300);
      const { port } = await first(during);
      await new Promise((r) => setTimeout(r, 1000));
      p.stdout!.resume();
      await new Promise((r) => setTimeout(r, 2500));
      p.kill('SIGINT');
      await p;
      await drained;
      const recs = lines.map(assertValidLine);
      const mine = recs.filter((r) => r.sport === port || r.dport === port);
      const ids = new Set(mine.map((r) => r.id));
      assert.equal(ids.size, 600, 'every end of the pairs opened meanwhile');
      const out: string[] = [];
      for (const id of ids) {
        const of = mine.filter((r) => r.id === id);
        if (of[0].type === 'metrics') out.push(`${id}: ${of.map((r) => r.type).join(' ')}`);
      }
      assert.deepEqual(out, [], 'metrics before the opening record');
      assert.ok(
        mine.filter((r) => r.type === 'metrics').length >= 600,
        'the walks after the block read every one of them',
      );
    } finally {
      for (const x of [before, during]) if (x) x.stdin.end();
      await Promise.all([before, during]);
    }
  });
});

describe('hooks racing walks', () => {
  it('tracers starting in the middle of a churn on both CPUs: every end followed closes once, no entry is left', async () => {
    // The start-up walk inserts connections it finds while the hooks insert the ones
    // being established (two inserts of one key), and softirqs interrupt
    // connect()s on the same CPU (nested use of the scratch entry).
    const start = (count: number) => {
      const p = execa('python3', [CHURN, String(count)], { stdin: 'pipe', buffer: false, reject: false });
      const rl = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
      return { p, rl, ready: rl.next().then((l) => JSON.parse(l.value as string) as { port: number }) };
    };
    const traced = start(20_000);
    const load = start(20_000); // the other CPU, filtered out by port
    const { port } = await traced.ready;
    await load.ready;
    const first = await startTracer(['-f', '--port', String(port), '--stats-interval', '0']);
    traced.p.stdin.write('go\n');
    load.p.stdin.write('go\n');
    const tracers = [first];
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      tracers.push(await startTracer(['-f', '--port', String(port), '--stats-interval', '0']));
    }
    await Promise.all([traced.p, load.p]);
    await new Promise((r) => setTimeout(r, 300));
    for (const [i, t] of tracers.entries()) {
      assert.equal(await t.stop(), 0);
      const recs = t.lines.map(assertValidLine);
      const stats = recs.filter((r) => r.type === 'stats').pop()!;
      const count = (type: string) => recs.filter((r) => r.type === type).length;
      assert.equal(stats.records_lost, 0, `tracer ${i}`);
      assert.equal(stats.connections_untracked, 0, `tracer ${i}`);
      assert.equal(stats.connections_tracked, 0, `tracer ${i}: no entry left once every connection closed`);
      // Each end followed: one opening record (connect, accept or existing) and one close.
      const ends = new Map<number, string[]>();
      for (const r of recs)
        if (['connect', 'accept', 'existing', 'close'].includes(r.type))
          ends.set(r.id!, [...(ends.get(r.id!) ?? []), r.type]);
      const odd = [...ends].filter(([, types]) => types.length !== 2 || types[1] !== 'close');
      assert.deepEqual(
        odd.map(([id]) => recs.filter((r) => r.id === id)),
        [],
        `tracer ${i}: ends without exactly an opening and a close`,
      );
      if (i === 0) assert.equal(count('close'), 40_000, 'the first tracer saw every end');
    }
  });
});

describe('a full connection table', () => {
  // The table is an array of 8-slot buckets in front of a hash map (bpf/nettracer.bpf.c).
  // --map-size 8 fits in the array; --map-size 64 gets 8 buckets, and 64 entries
  // spread over 8 buckets of 8 spill into the hash map unless spread perfectly
  // evenly (a chance of about 3e-6): both parts, and the limit across them.
  for (const [size, open] of [
    [8, 20],
    [64, 40],
  ] as const) {
    const untracked = open * 2 - size;
    it(`--map-size ${size} with ${open} open loopback connections: ${untracked} ends counted as untracked, the ${size} tracked ones exact`, async () => {
      const spec = {
        connections: Array.from({ length: open }, (_, i) => ({
          family: 4 as const,
          client_bytes: 100 + i,
          server_bytes: 7 * i,
        })),
        hold: 0.5,
      };
      const gen = await startGenerator(spec);
      // --port, not --pid: the owner of an incoming connection is known only at accept(), after the insert.
      const t = await startTracer(['-f', '--map-size', String(size), '--port', String(gen.ports['4'])]);
      const truth = await gen.run();
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(await t.stop(), 0);
      const recs = t.lines.map(assertValidLine);
      const stats = recs.filter((r) => r.type === 'stats').pop()!;
      assert.equal(stats.connections_untracked, untracked);
      assert.equal(
        recs.filter((r) => r.type === 'lost').reduce((a, r) => a + r.connections_untracked!, 0),
        untracked,
      );
      const closes = recs.filter((r) => r.type === 'close');
      assert.equal(closes.length, size);
      for (const cl of closes) {
        const client = cl.direction === 'outgoing';
        const c = truth.find((x) => x.client.port === (client ? cl.sport : cl.dport))!;
        assert.equal(cl.bytes_sent, client ? c.client_sent : c.server_sent);
        assert.equal(cl.bytes_received, client ? c.client_received : c.server_received);
      }
      assert.equal(stats.connections_tracked, 0, 'every entry left the table');
    });
  }
});

describe('hostile process names', () => {
  it('a comm with a newline, an escape sequence and invalid UTF-8 stays one valid, escaped JSON line', async () => {
    const name = Buffer.from([0x65, 0x76, 0x0a, 0x69, 0x6c, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x22]); // ev\nil ESC[2J \xff "
    const gen = await startGenerator({
      connections: [{ family: 4, client_bytes: 10, server_bytes: 10 }],
      hold: 0,
      comm_hex: name.toString('hex'),
    } as never);
    const t = await startTracer(['-f', '--pid', String(gen.pid)]);
    await gen.run();
    await new Promise((r) => setTimeout(r, 300));
    await t.stop();
    const recs = t.lines.map(assertValidLine).filter((r) => 'comm' in r);
    assert.ok(recs.length >= 4);
    for (const r of recs) assert.equal(r.comm, 'ev\\x0ail\\x1b[2J\\xff"');
    assert.ok(
      t.lines.every((l) => !/[\u0000-\u001f]/.test(l)),
      'no raw control characters on the wire',
    );
  });
});

describe('look-alike process names', () => {
  it('a literal \\x7f and the byte 0x7f differ; bidi overrides and zero-width spaces are escaped; nothing invisible in the table', async () => {
    // Names set by the processes themselves (prctl(PR_SET_NAME)), and what every format must show.
    const names: [Buffer, string][] = [
      [Buffer.from('n\\x7f', 'latin1'), 'n\\x5cx7f'], // backslash, x, 7, f
      [Buffer.from([0x6e, 0x7f]), 'n\\x7f'], // n, DEL
      [Buffer.from('ab\u202ecd', 'utf8'), 'ab\\xe2\\x80\\xaecd'], // shows as "abdc"
      [Buffer.from('x\u200by', 'utf8'), 'x\\xe2\\x80\\x8by'], // shows as "xy"
    ];
    const gens = await Promise.all(
      names.map(([name]) =>
        startGenerator({
          connections: [{ family: 4, client_bytes: 10, server_bytes: 10 }],
          hold: 1,
          comm_hex: name.toString('hex'),
        } as never),
      ),
    );
    const ndjson = await startTracer(['-f']);
    const table = await startTracer(['-f', '-t', '0.3', '--format', 'table']);
    await Promise.all(gens.map((g) => g.run()));
    await new Promise((r) => setTimeout(r, 300));
    await ndjson.stop();
    await table.stop();
    const recs = ndjson.lines.map(assertValidLine);
    gens.forEach((g, i) => {
      const comms = new Set(recs.filter((r) => 'comm' in r && r.pid === g.pid).map((r) => r.comm));
      assert.deepEqual([...comms], [names[i][1]], `generator ${i}`);
    });
    // The table is the original's, which has no process name column: their rows, and nothing invisible.
    const text = table.lines.join('\n');
    for (const g of gens) assert.ok(new RegExp(` ${g.pid} +\\d+ +\\d+ +\\d+ *$`, 'm').test(text), `a row of ${g.pid}`);
    const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.exec(text);
    assert.equal(bad, null, `U+${bad?.[0].codePointAt(0)?.toString(16)} in the table at ${bad?.index}`);
  });
});

describe('a walk whose callback throws', () => {
  it('closes its iterator: twenty failed walks leave no descriptor behind', async () => {
    // The addon in this process: its descriptors are ours to count.
    const iterators = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:bpf_iter';
        } catch {
          return false; // the descriptor readdir itself used
        }
      }).length;
    const server = net.createServer().listen(0, '127.0.0.1'); // a listener: the listeners walk has a record
    await once(server, 'listening');
    const tracer = new (loadNative().Tracer)({ mapSize: 1024, withLoopback: true, verbose: false }, () => {});
    try {
      const before = iterators();
      for (let i = 0; i < 20; i++) {
        assert.throws(
          () =>
            tracer.walk(WALK.listeners, () => {
              throw new Error('failpoint: walk');
            }),
          /failpoint: walk/,
        );
      }
      assert.equal(iterators(), before, 'no iterator left open');
    } finally {
      tracer.close();
      server.close();
    }
  });
});

describe('output errors', () => {
  it('a full disk: a clear message, exit 1, everything detached', async () => {
    const mnt = join(tmp, 'tiny');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const t = await launch(['-f', '--output', join(mnt, 'capture.ndjson')]);
      const held = bpfObjectsOf(t.pid);
      for (let i = 0; i < 20 && t.proc.exitCode === null; i++) await churn(200);
      const r = await t.proc;
      assert.equal(r.exitCode, 1);
      assert.match(t.stderr(), /^nettracer: cannot write the output: ENOSPC: no space left on device/m);
      assert.deepEqual(await waitUnloaded(held), emptyObjects);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('owners', () => {
  it("a connection outliving the process that opened it keeps that owner's PID", async () => {
    // The parent connects, forks a child that keeps the socket, and exits; the child closes later.
    const script = `
import os, socket, sys, time, json
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(json.dumps({"pid": os.getpid(), "port": l.getsockname()[1]}), flush=True)
sys.stdin.readline()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
if os.fork() == 0:
    time.sleep(0.5); c.sendall(b"late"); c.close(); s.close(); os._exit(0)
os._exit(0)
`;
    const p = execa('python3', ['-c', script], { stdin: 'pipe', buffer: false, reject: false });
    const rl = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
    const ready = JSON.parse((await rl.next()).value as string) as { pid: number; port: number };
    const t = await startTracer(['-f', '--port', String(ready.port)]);
    p.stdin.write('go\n');
    await p;
    await new Promise((r) => setTimeout(r, 1200));
    await t.stop();
    const recs = t.lines.map(assertValidLine).filter((r) => r.type !== 'stats');
    const connect = recs.find((r) => r.type === 'connect')!;
    const close = recs.find((r) => r.type === 'close' && r.direction === 'outgoing')!;
    assert.equal(connect.pid, ready.pid);
    assert.equal(close.pid, ready.pid, 'the owner is the process that connected, not the child that closed');
    assert.equal(close.bytes_sent, 4, 'bytes written by the child are counted on the same connection');
  });
});

describe('namespaces and PIDs that go away', () => {
  it('a network namespace deleted while its connections are open: their records keep its inode and exact bytes', async () => {
    const ns = 'nt-test-gone';
    createNetns(ns);
    try {
      const inode = netnsInode(ns);
      const gen = await startGenerator({
        connections: [{ family: 4, client_bytes: 4444, server_bytes: 55 }],
        hold: 1.5,
        server_netns: ns,
        client_netns: ns,
      } as never);
      const t = await startTracer(['-f', '-t', '0.4', '--pid', String(gen.pid)]);
      const done = gen.run();
      await new Promise((r) => setTimeout(r, 500));
      deleteNetns(ns); // the name goes; the namespace lives on while its sockets do
      assert.throws(() => netnsInode(ns));
      await done;
      await new Promise((r) => setTimeout(r, 300));
      await t.stop();
      const recs = t.lines.map(assertValidLine).filter((r) => 'saddr' in r);
      assert.ok(recs.length >= 6);
      assert.ok(
        recs.every((r) => r.netns === inode),
        'every record keeps the namespace',
      );
      const closes = recs.filter((r) => r.type === 'close');
      assert.deepEqual(
        closes.map((r) => r.bytes_sent!).sort((a, b) => a - b),
        [55, 4444],
      );
    } finally {
      deleteNetns(ns);
    }
  });

  it("PID reuse: a later process with the same PID does not take over an earlier process's connection", async () => {
    // A connects, hands the socket to a child that holds it, and exits. B is
    // then started with A's PID (ns_last_pid) under another name and makes
    // its own connection. The tracer follows that PID (--pid).
    const holder = `
import os, socket, sys, json
sys.stdout.write(json.dumps({"pid": os.getpid()}) + "\\n"); sys.stdout.flush()
sys.stdin.readline()
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
if os.fork() == 0:
    sys.stdin.readline(); c.sendall(b"x" * 77); c.close(); s.close(); os._exit(0)
sys.stdout.write("forked\\n"); sys.stdout.flush()
os._exit(0)
`;
    const a = execa('python3', ['-c', holder], { stdin: 'pipe', buffer: false, reject: false });
    const rl = createInterface({ input: a.stdout })[Symbol.asyncIterator]();
    const { pid: pidA } = JSON.parse((await rl.next()).value as string) as { pid: number };
    const t = await startTracer(['-f', '--pid', String(pidA)]);
    a.stdin.write('go\n');
    await rl.next(); // forked; A exits, its child holds the socket
    await new Promise((r) => setTimeout(r, 200));
    let pidB = 0;
    for (let attempt = 0; attempt < 50 && pidB !== pidA; attempt++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pidA - 1));
      const b = execa(
        'python3',
        [
          '-c',
          `
import ctypes, os, socket
ctypes.CDLL(None).prctl(15, b"reuser", 0, 0, 0)
print(os.getpid(), flush=True)
if os.getpid() == ${pidA}:
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
    c = socket.create_connection(l.getsockname()); s, _ = l.accept(); c.close(); s.close()
`,
        ],
        { reject: false },
      );
      pidB = Number(String((await b).stdout).trim());
    }
    a.stdin.write('close\n');
    await a;
    await new Promise((r) => setTimeout(r, 500));
    await t.stop();
    const recs = t.lines.map(assertValidLine).filter((r) => 'saddr' in r);
    assert.equal(pidB, pidA, "B ran with A's PID");
    const aConnect = recs.find((r) => r.type === 'connect' && r.comm === 'python3')!;
    const bConnect = recs.find((r) => r.type === 'connect' && r.comm === 'reuser')!;
    assert.ok(aConnect && bConnect, JSON.stringify(recs.map((r) => [r.type, r.pid, r.comm])));
    assert.deepEqual([aConnect.pid, bConnect.pid], [pidA, pidA]);
    assert.notEqual(aConnect.id, bConnect.id);
    const aClose = recs.find((r) => r.type === 'close' && r.id === aConnect.id)!;
    assert.deepEqual(
      [aClose.pid, aClose.comm, aClose.bytes_sent],
      [pidA, 'python3', 77],
      "still A's, with the bytes its child sent after B came and went",
    );
    assert.ok(recs.filter((r) => r.id === bConnect.id).every((r) => r.comm === 'reuser'));
  });
});
