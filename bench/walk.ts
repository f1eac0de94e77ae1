// walk: what the metrics walks cost as the host grows (open files that are
// not ours, tracked connections, the refresh interval), the in-memory refresh
// of a live view, and the per-call cost of the send and receive hooks on
// each kind of socket against an empty program (bench/README.md).
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { launch } from '../test/helpers/launch.js';
import { createNetns, deleteNetns, netnsInode } from '../test/helpers/netns.js';
import { onCleanup } from './lib/cleanup.js';
import { enableBpfStats, mapMemory, progDelta, progStats, requireBpftool, statsOn } from './lib/bpftool.js';
import { run, sh, spawnTracked, type Spawned, waitExit } from './lib/exec.js';
import { hold, type Holder } from './lib/generators.js';
import type { Options } from './lib/options.js';
import { BENCH, BUILD, HOOKS_ONLY, ROOT } from './lib/paths.js';
import { bpfIds, cpuSeconds, hardNofile, mainThreadSeconds, memStatus } from './lib/proc.js';
import { fint, fx, medianWithInterval, note, table, verdict } from './lib/report.js';
import { median, rotate } from './lib/stats.js';
import { baselineBuild, type Build, THIS_BUILD } from './lib/tracers.js';
import { existsSync, statSync } from 'node:fs';

/** A tracer variant measured: a build's `trace` writing NDJSON, or this build's in-memory refresh. */
interface Variant {
  label: string;
  start(interval: number, mapSize: number): Promise<Measured>;
}

interface Measured {
  pid: number;
  stop(): Promise<void>;
  kill(): void;
}

const WINDOW_S = 10;
/**
 * The connections measured live in a namespace of their own, and every tracer
 * follows only that one (--netns): the loopback connections other processes
 * of the host hold (other benchmarks, tests) stay out of the counts.
 */
const NS = `nt-walk-bench-${process.pid}`;
let nsInode = 0;

function benchNetns(): void {
  if (nsInode) return;
  createNetns(NS);
  onCleanup(`delete netns ${NS}`, () => deleteNetns(NS));
  nsInode = netnsInode(NS);
}
const SETTLE_S = 2;

/** The table walk with probe reads (NETTRACER_WALK_READS, native/probe.h): what kernels before 6.2 run. */
const PROBE_READS = 'nettracer probe reads';

function variants(o: Options, probeReads = false): Variant[] {
  const builds: Build[] = o.baseline ? [THIS_BUILD, baselineBuild(o.baseline)] : [THIS_BUILD];
  const out: Variant[] = builds.map((build) => ({
    label: build.label,
    start: (interval, mapSize) => startTrace(build, interval, mapSize),
  }));
  if (probeReads) {
    out.push({
      label: PROBE_READS,
      start: (interval, mapSize) => startTrace(THIS_BUILD, interval, mapSize, { NETTRACER_WALK_READS: 'probe' }),
    });
  }
  out.push({ label: 'in-memory', start: (interval, mapSize) => startDriver(interval, mapSize) });
  return out;
}

/** `trace -f -t INTERVAL -m MAP_SIZE`, its NDJSON to /dev/null (encoded and written all the same). */
async function startTrace(
  build: Build,
  interval: number,
  mapSize: number,
  env?: Record<string, string>,
): Promise<Measured> {
  const args = ['--with-loopback', '--netns', String(nsInode), '-t', String(interval), '-m', String(mapSize)];
  const t = await launch([...args, '--stats-interval', '0'], {
    bin: build.bin,
    stdout: 'ignore',
    readyBy: build.readyBy,
    env,
  });
  const exited = t.proc.then((r) => ({ code: r.exitCode ?? null, signal: r.signal ?? null }));
  return {
    pid: t.pid,
    kill: () => void t.proc.kill('SIGKILL'),
    async stop() {
      t.proc.kill('SIGINT');
      await waitExit({ exited, kill: (s) => void t.proc.kill(s) }, 120_000);
    },
  };
}

/** bench/refresh-driver.ts: sampleMetrics() every interval, nothing written. */
async function startDriver(interval: number, mapSize: number): Promise<Measured> {
  const p = spawnTracked(
    process.execPath,
    ['--import', 'tsx', join(BENCH, 'refresh-driver.ts'), String(interval), String(mapSize), String(nsInode)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const rl = createInterface({ input: p.child.stdout! });
  const [line] = (await Promise.race([
    once(rl, 'line'),
    sleep(300_000).then(() => {
      throw new Error('refresh driver not ready within 300 s');
    }),
  ])) as [string];
  if (!line.includes('"ready"')) throw new Error(`refresh driver: ${line}`);
  return {
    pid: p.pid,
    kill: () => p.kill('SIGKILL'),
    async stop() {
      p.kill('SIGINT');
      await waitExit(p, 120_000);
      rl.close();
    },
  };
}

interface Share {
  /** CPU seconds per second, all threads (user and kernel). */
  share: number;
  /** The same, the main thread only (the event loop: walks, timers, reading the ring). */
  main: number;
  rssMiB: number;
  maps: number;
  /** With bpf_stats on: the window's runs and ns of each of the tracer's programs, by name. */
  progs?: Map<string, { cnt: number; ns: number }>;
  /** With a settling longer than SETTLE_S: the window the others use, SETTLE_S to settleS after ready (all threads, main thread). */
  early?: { share: number; main: number };
}

/**
 * The variant's CPU (all threads, user and kernel) over a window once it has
 * settled: seconds of CPU per second. `settleS` after it is ready: a fresh
 * Node process collects the garbage of its start-up once, a few seconds in
 * (about 20 ms of V8's background threads at 7-9 s here), which is no walk's cost.
 */
async function cpuShare(
  v: Variant,
  interval: number,
  mapSize: number,
  windowS = WINDOW_S,
  settleS = SETTLE_S,
): Promise<Share> {
  const m = await v.start(interval, mapSize);
  try {
    let early: Share['early'];
    if (settleS > SETTLE_S) {
      await sleep(SETTLE_S * 1000);
      const [a0, m0, t0] = [cpuSeconds(m.pid), mainThreadSeconds(m.pid), process.hrtime.bigint()];
      await sleep((settleS - SETTLE_S) * 1000);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      early = { share: (cpuSeconds(m.pid) - a0) / dt, main: (mainThreadSeconds(m.pid) - m0) / dt };
    } else await sleep(settleS * 1000);
    const progIds = bpfIds(m.pid).progs;
    const p0 = statsOn() ? progStats(progIds) : undefined;
    const c0 = cpuSeconds(m.pid);
    const main0 = mainThreadSeconds(m.pid);
    const t0 = process.hrtime.bigint();
    await sleep(windowS * 1000);
    const c1 = cpuSeconds(m.pid);
    const main1 = mainThreadSeconds(m.pid);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const progs = p0 ? progDelta(p0, progStats(progIds)) : undefined;
    const rssMiB = memStatus(m.pid).rssMiB;
    const maps = mapMemory(bpfIds(m.pid).maps).reduce((a, x) => a + x.bytes, 0);
    await m.stop();
    return { share: (c1 - c0) / dt, main: (main1 - main0) / dt, rssMiB, maps, progs, early };
  } finally {
    m.kill();
  }
}

/**
 * Processes holding `total` descriptors of /dev/null (not sockets: files the
 * walk should not pay for), as many as RLIMIT_NOFILE's hard limit allows each
 * (it may not be raisable: no CAP_SYS_RESOURCE in containers). Returns how many.
 */
async function holdFiles(total: number): Promise<{ procs: number; release: () => Promise<void> }> {
  const procs = Math.ceil(total / Math.max(1000, hardNofile() - 100));
  const each = Math.ceil(total / procs);
  const script = `
import os, resource, sys
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
print("ready", flush=True)
sys.stdin.read()
`;
  const held: Spawned[] = [];
  for (let i = 0; i < procs; i++) {
    const p = spawnTracked('python3', ['-c', script, String(each)], { stdio: ['pipe', 'pipe', 'inherit'] });
    held.push(p);
    const rl = createInterface({ input: p.child.stdout! });
    await once(rl, 'line');
    rl.close();
  }
  return {
    procs,
    release: async () => {
      for (const p of held) p.child.stdin?.end();
      for (const p of held) await waitExit(p, 30_000);
    },
  };
}

/** Settling before a window of the files part: past the start-up garbage collection (see cpuShare()). */
const FILES_SETTLE_S = 12;
const FILES_ROUNDS = 4;

/**
 * Walk cost on an idle host and with `files` unrelated open files, each build
 * side by side: per round, each variant idle and then loaded (a fresh tracer
 * each time), their ratio per round, the median over the rounds. With
 * bpf_stats on: the kernel time of the table walk per walk, and how many
 * files the file walk (`metrics`, iter/task_file) visited in the window,
 * which is 0 unless a connection without an owner made it run.
 */
async function benchFiles(o: Options): Promise<void> {
  const files = o.walkFiles;
  const vs = variants(o).filter((v) => v.label !== 'in-memory');
  const restore = enableBpfStats();
  const runs = new Map<string, { idle: Share; loaded: Share }[]>();
  let procs = 0;
  try {
    for (let r = 0; r < FILES_ROUNDS; r++) {
      const idle = new Map<string, Share>();
      for (const v of rotate(vs, r)) idle.set(v.label, await cpuShare(v, 1, 65536, WINDOW_S, FILES_SETTLE_S));
      const { procs: n, release } = await holdFiles(files);
      procs = n;
      try {
        for (const v of rotate(vs, r)) {
          const loaded = await cpuShare(v, 1, 65536, WINDOW_S, FILES_SETTLE_S);
          runs.set(v.label, [...(runs.get(v.label) ?? []), { idle: idle.get(v.label)!, loaded }]);
        }
      } finally {
        await release();
      }
    }
  } finally {
    restore();
  }
  const perWalkUs = (s: Share): number => {
    const p = tableWalk(s);
    return p && p.cnt ? p.ns / p.cnt / 1e3 : NaN;
  };
  const visits = (s: Share): number => s.progs?.get('metrics')?.cnt ?? NaN;
  const rows: string[][] = [];
  const ratios = new Map<string, number[]>();
  const earlyRows: string[][] = [];
  for (const v of vs) {
    const xs = runs.get(v.label) ?? [];
    const m = (f: (x: { idle: Share; loaded: Share }) => number): number => median(xs.map(f));
    const ratio = xs.map((x) => x.loaded.share / x.idle.share);
    ratios.set(v.label, ratio);
    rows.push([
      v.label,
      fx(m((x) => x.idle.share) * 1000, 2),
      fx(m((x) => x.loaded.share) * 1000, 2),
      fx(median(ratio), 2),
      fx(m((x) => x.idle.main) * 1000, 2),
      fx(m((x) => x.loaded.main) * 1000, 2),
      fx(
        m((x) => perWalkUs(x.idle)),
        0,
      ),
      fx(
        m((x) => perWalkUs(x.loaded)),
        0,
      ),
      fint(m((x) => visits(x.idle))),
      fint(m((x) => visits(x.loaded))),
    ]);
    const e = (s: Share, k: 'share' | 'main'): number => (s.early?.[k] ?? NaN) * 1000;
    earlyRows.push([
      v.label,
      fx(
        m((x) => e(x.idle, 'share')),
        2,
      ),
      fx(
        m((x) => e(x.loaded, 'share')),
        2,
      ),
      fx(median(xs.map((x) => e(x.loaded, 'share') / e(x.idle, 'share'))), 2),
      fx(
        m((x) => e(x.idle, 'main')),
        2,
      ),
      fx(
        m((x) => e(x.loaded, 'main')),
        2,
      ),
      xs.map((x) => `${fx(e(x.idle, 'share'), 1)}/${fx(e(x.loaded, 'share'), 1)}`).join(' '),
    ]);
  }
  console.log(
    `tracer CPU at -t 1 (about one walk a second), idle host and with ${fint(files)} open /dev/null files in ${procs} processes` +
      ` (a fresh tracer per window, ${FILES_SETTLE_S} s after ready, ${WINDOW_S} s; medians of ${FILES_ROUNDS} rounds):`,
  );
  table(
    [
      'build',
      'ms/s idle',
      'ms/s files',
      'ratio',
      'main thread idle',
      'main files',
      'walk prog us/walk idle',
      'files',
      'file-walk visits idle',
      'files',
    ],
    rows,
  );
  console.log('  (ms/s: all threads, user and kernel; ratio: median of the per-round ratios, files / idle;');
  console.log('   walk prog: the kernel run time of the table walk per run; file-walk visits: runs of the');
  console.log('   task_file iterator in the window, one per open file it went over: 0 when no file walk ran)');
  console.log(
    `the same tracers from ${SETTLE_S} to ${FILES_SETTLE_S} s after ready (the window other parts use), which holds V8's start-up garbage collection:`,
  );
  table(['build', 'ms/s idle', 'ms/s files', 'ratio', 'main idle', 'main files', 'per round idle/files'], earlyRows);
  console.log("  (the difference between all threads and the main thread is V8's background threads: the start-up");
  console.log("   collection, about 20 ms once, in some windows and not others; it is no walk's cost and does not");
  console.log("   follow the host's files, so the verdict reads the settled window)");
  const mine = ratios.get(vs[0].label) ?? [];
  const base = vs[1] ? median(ratios.get(vs[1].label) ?? []) : undefined;
  verdict(
    `walk cost with ${fint(files)} unrelated open files <= 1.2 x idle host`,
    median(mine) <= 1.2,
    `${medianWithInterval(mine)}; per round ${mine.map((x) => fx(x, 2)).join(' ')}; all threads, ${FILES_SETTLE_S}-${FILES_SETTLE_S + WINDOW_S} s after ready${base === undefined ? '' : `; baseline ${fx(base, 2)}x`}`,
  );
}

/** The table walk's runs and kernel time in a window: whichever of its programs loaded (walk, walk_direct). */
function tableWalk(s: Share): { cnt: number; ns: number } | undefined {
  const ps = ['walk', 'walk_direct'].map((n) => s.progs?.get(n)).filter((p) => p !== undefined);
  return ps.length ? { cnt: ps.reduce((a, p) => a + p.cnt, 0), ns: ps.reduce((a, p) => a + p.ns, 0) } : undefined;
}

/**
 * Tracer CPU with N loopback pairs open (2N tracked ends), at -t 1 and, for
 * the largest, -t 30; this build also with the table walk's probe reads, and
 * with bpf_stats on, the walk program's kernel time per end per walk.
 */
async function benchConns(o: Options): Promise<void> {
  const vs = variants(o, true);
  const rows: string[][] = [];
  const perEnd = new Map<string, number>();
  let share100k: number | undefined;
  const restore = enableBpfStats();
  try {
    await measureConns(o, vs, rows, perEnd, (s) => (share100k = s));
  } finally {
    restore();
  }
  printConns(o, rows, perEnd, share100k);
}

async function measureConns(
  o: Options,
  vs: Variant[],
  rows: string[][],
  perEnd: Map<string, number>,
  at100k: (share: number) => void,
): Promise<void> {
  for (const pairs of o.walkSizes) {
    const holders = await holdPairs(pairs);
    const mapSize = Math.min(1048576, Math.max(65536, 2 * pairs + 4096));
    try {
      const shares = new Map<string, number[]>();
      const walkUs = new Map<string, number[]>();
      const rss = new Map<string, number>();
      for (let r = 0; r < 2; r++) {
        for (const v of rotate(vs, r)) {
          const x = await cpuShare(v, 1, mapSize);
          shares.set(v.label, [...(shares.get(v.label) ?? []), x.share]);
          // Kernel time of the window's walks (one a second) per end.
          const w = tableWalk(x);
          walkUs.set(v.label, [...(walkUs.get(v.label) ?? []), w ? w.ns / 1e3 / WINDOW_S / (2 * pairs) : NaN]);
          rss.set(v.label, x.rssMiB);
        }
      }
      for (const v of vs) {
        const s = median(shares.get(v.label) ?? []);
        const us = (s * 1e6) / (2 * pairs); // one walk per second
        const prog = fx(median(walkUs.get(v.label) ?? []), 3);
        rows.push([fint(pairs), fint(2 * pairs), v.label, fx(s * 100, 1), fx(us, 2), prog, fx(rss.get(v.label), 0)]);
        perEnd.set(`${pairs} ${v.label}`, us);
        if (2 * pairs === 100000 && v.label === 'nettracer') at100k(s);
      }
      if (pairs === Math.max(...o.walkSizes)) {
        for (const v of vs) {
          const x = await cpuShare(v, 30, mapSize, 32);
          rows.push([fint(pairs), fint(2 * pairs), `${v.label} -t 30`, fx(x.share * 100, 2), '', '', fx(x.rssMiB, 0)]);
        }
      }
    } finally {
      for (const h of holders) await h.close();
    }
  }
}

function printConns(o: Options, rows: string[][], perEnd: Map<string, number>, share100k: number | undefined): void {
  console.log(
    `tracer CPU with N loopback pairs held open (2N tracked ends), -t 1 unless said (median of 2 runs of ${WINDOW_S} s):`,
  );
  table(['pairs', 'ends', 'variant', '% of a CPU', 'us/end/walk', 'walk prog us/end', 'RSS MiB'], rows);
  console.log('  (all the tracer does in the window over the walks in it: reading the ring, stats, the walks;');
  console.log('   in-memory: TraceSession.sampleMetrics() into LiveRates, as top, no record made; walk prog:');
  console.log('   the kernel time of the table walk program (bpf_stats) per tracked end per walk; probe');
  console.log('   reads: this build with NETTRACER_WALK_READS=probe, the table walk kernels before 6.2 run)');
  const largest = Math.max(...o.walkSizes);
  const nd = perEnd.get(`${largest} nettracer`);
  const mem = perEnd.get(`${largest} in-memory`);
  const base = perEnd.get(`${largest} baseline`);
  verdict(
    'tracer CPU per tracked end per walk with NDJSON <= 1.5 us',
    nd === undefined ? undefined : nd <= 1.5,
    `${fx(nd, 2)} us at ${fint(2 * largest)} ends${base === undefined ? '' : ` (baseline ${fx(base, 2)} us)`}`,
  );
  verdict(
    'tracer CPU per tracked end per walk in memory <= 0.5 us',
    mem === undefined ? undefined : mem <= 0.5,
    `${fx(mem, 2)} us at ${fint(2 * largest)} ends`,
  );
  verdict(
    '100,000 tracked connections at -t 1 < 15% of one CPU',
    share100k === undefined ? undefined : share100k < 0.15,
    share100k === undefined
      ? '50000 pairs not among --walk-sizes'
      : `${fx(share100k * 100, 1)}% (50,000 pairs: 100,000 tracked ends)`,
  );
}

/** holdconns processes with `pairs` loopback pairs in all (2 descriptors each: as many a process as RLIMIT_NOFILE allows), over enough addresses. */
async function holdPairs(pairs: number): Promise<Holder[]> {
  const PER = Math.max(500, Math.floor((hardNofile() - 100) / 2));
  const out: Holder[] = [];
  let first = 2;
  try {
    for (let left = pairs; left > 0;) {
      const n = Math.min(PER, left);
      const k = Math.ceil(n / 20000);
      out.push(await hold(n, k, first, NS));
      first += k;
      left -= n;
    }
  } catch (err) {
    for (const h of out) await h.close();
    throw err;
  }
  return out;
}

/** The send/receive hooks' kernel time per call for each stream, against the empty program on the same tracepoints. */
async function benchStreams(o: Options): Promise<void> {
  requireBpftool();
  if (!existsSync(HOOKS_ONLY) || statSync(HOOKS_ONLY).mtimeMs < statSync(join(ROOT, 'bpf', 'nettracer.bpf.c')).mtimeMs)
    sh('make', ['-C', join(ROOT, 'bpf'), 'hooks-only']);
  const STREAMS = join(BUILD, 'streams');
  sh('gcc', ['-O2', '-Wall', '-Wextra', '-o', STREAMS, join(BENCH, 'streams.c')]);
  const restore = enableBpfStats();
  // All at once, so that every call runs each of them: the floor (hooks only),
  // this build tracing loopback (TCP streams traced), the same without
  // loopback (TCP untraced), and the baseline.
  const tracers: { label: string; pid: number; stop: () => Promise<void>; kill: () => void }[] = [];
  const startOne = async (label: string, args: string[], build: Build = THIS_BUILD) => {
    const t = await launch([...args, '--netns', String(nsInode), '-t', '30', '--stats-interval', '0'], {
      bin: build.bin,
      stdout: 'ignore',
      readyBy: build.readyBy,
    });
    const exited = t.proc.then((r) => ({ code: r.exitCode ?? null, signal: r.signal ?? null }));
    tracers.push({
      label,
      pid: t.pid,
      kill: () => void t.proc.kill('SIGKILL'),
      stop: async () => {
        t.proc.kill('SIGINT');
        await waitExit({ exited, kill: (s) => void t.proc.kill(s) }, 60_000);
      },
    });
  };
  try {
    await startOne('empty program', ['-f', '-p', HOOKS_ONLY]);
    await startOne('nettracer -f', ['-f']);
    await startOne('nettracer', []);
    if (o.baseline) await startOne('baseline -f', ['-f'], baselineBuild(o.baseline));
    const ids = tracers.map((t) => bpfIds(t.pid).progs);
    const modes: [string, number][] = [
      ['tcp', 400000],
      ['unix', 400000],
      ['udp', 400000],
      ['pingpong', 60000],
    ];
    const rows: string[][] = [];
    const perCall = new Map<string, number>();
    for (const [mode, n] of modes) {
      const ns: number[][] = tracers.map(() => []);
      for (let r = 0; r < 3; r++) {
        const before = ids.map((x) => progStats(x));
        const res = await run('ip', ['netns', 'exec', NS, STREAMS, mode, String(n)], { timeoutMs: 300_000 });
        if (res.code !== 0) throw new Error(`streams ${mode}: ${res.stderr}`);
        ids.forEach((x, i) => {
          const d = progDelta(before[i], progStats(x));
          const s = d.get('send_length');
          const v = d.get('recv_length');
          const cnt = (s?.cnt ?? 0) + (v?.cnt ?? 0);
          ns[i].push(cnt ? ((s?.ns ?? 0) + (v?.ns ?? 0)) / cnt : NaN);
        });
      }
      const floor = median(ns[0]);
      tracers.forEach((t, i) => {
        const x = median(ns[i]);
        perCall.set(`${mode} ${t.label}`, x / floor);
        rows.push([mode, t.label, fx(x, 1), fx(x / floor, 2)]);
      });
    }
    console.log(
      'send_length + recv_length: kernel run time per call (bpf_stats, median of 3 runs), all tracers attached at once:',
    );
    table(['stream', 'tracer', 'ns/call', 'x empty'], rows);
    console.log(
      '  (nettracer -f traces loopback TCP; nettracer without -f leaves it untraced; UNIX and UDP are never traced)',
    );
    for (const mode of ['unix', 'udp']) {
      const x = perCall.get(`${mode} nettracer`);
      const b = perCall.get(`${mode} baseline -f`);
      verdict(
        `${mode.toUpperCase()} send/receive hook cost within 10% of an empty program`,
        x === undefined ? undefined : x <= 1.1,
        `${fx(x, 2)}x${b === undefined ? '' : ` (baseline ${fx(b, 2)}x)`}`,
      );
    }
  } finally {
    for (const t of tracers) {
      try {
        await t.stop();
      } catch {
        t.kill();
      }
    }
    restore();
  }
}

export async function benchWalk(o: Options): Promise<void> {
  benchNetns();
  if (o.walkParts.includes('streams')) await benchStreams(o);
  if (o.walkParts.includes('files')) await benchFiles(o);
  if (o.walkParts.includes('conns')) await benchConns(o);
  note('walk: the 1,000,000-connection run is `npm run bench -- million`');
}

/** The most tracked connections this machine holds, at -t 30: CPU, RSS, kernel map memory. */
export async function benchMillion(o: Options): Promise<void> {
  requireBpftool();
  benchNetns();
  const ends = o.millionEnds;
  const pairs = Math.ceil(ends / 2);
  const t0 = Date.now();
  const holders = await holdPairs(pairs);
  console.log(
    `${fint(pairs)} loopback pairs held (${fint(2 * pairs)} ends) in ${holders.length} processes, ${fx((Date.now() - t0) / 1000, 0)} s`,
  );
  try {
    const mapSize = Math.min(1048576, 2 * pairs + 4096);
    const rows: string[][] = [];
    const results = new Map<string, { share: number; rssMiB: number; maps: number }>();
    for (const v of variants(o)) {
      const x = await cpuShare(v, 30, mapSize, 62);
      results.set(v.label, x);
      rows.push([v.label, fx(x.share * 100, 2), fx(x.rssMiB, 0), fx(x.maps / 1048576, 0)]);
    }
    console.log(`-t 30 with ${fint(2 * pairs)} tracked ends (-m ${fint(mapSize)}), one 62 s window (two walks):`);
    table(['variant', '% of a CPU', 'RSS MiB', 'BPF maps MiB'], rows);
    const mine = results.get('nettracer');
    verdict(
      `${fint(2 * pairs)} tracked connections at -t 30 < 5% of one CPU, RSS < 300 MB`,
      mine === undefined ? undefined : mine.share < 0.05 && mine.rssMiB < 300,
      mine === undefined
        ? ''
        : `${fx(mine.share * 100, 2)}%, RSS ${fx(mine.rssMiB, 0)} MiB, kernel maps ${fx(mine.maps / 1048576, 0)} MiB`,
    );
  } finally {
    for (const h of holders) await h.close();
  }
}
