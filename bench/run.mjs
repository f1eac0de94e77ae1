#!/usr/bin/env node
// nettracer benchmarks: node bench/run.mjs [churn|throughput|bpfstats|ceiling|startup|memory|soak ...]
// Run as root. Every variant is measured side by side in one run, alternating,
// and each target gets a one-line verdict. See bench/README.md.
//
// Everything this script starts or changes (tracers, tcplife, iperf3, the
// holders of open connections, network namespaces, kernel.bpf_stats_enabled,
// a tracefs mount) is undone when it ends, also on error or Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { mean, median, medianInterval, rotate, sandwich, sum } from './stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUN = path.join(ROOT, 'bin', 'run.cjs');
const BENCH = path.join(ROOT, 'bench');
const BUILD = path.join(BENCH, '.build');
const CHURN = path.join(BUILD, 'churn');
/** The same BPF hooks, every program returning at once (make -C bpf hooks-only). */
const HOOKS_ONLY = path.join(ROOT, 'bpf', '.output', 'hooks-only.bpf.o');
const HOLD = path.join(BUILD, 'holdconns');
const NETTRACER_PROGS = ['set_state', 'destroy_sock', 'send_length', 'recv_length', 'metrics'];

// nettracer prints "attached ... tracing" just before it installs its SIGINT
// handler: a SIGINT sent at once sometimes kills it (default action) instead
// of stopping it cleanly. Give it this long after the line.
const SIGINT_GRACE_MS = 300;

const ALL = ['churn', 'throughput', 'bpfstats', 'ceiling', 'startup', 'memory'];
// Run only when named: soak takes several minutes and writes ~1.3 GB to /tmp.
const EXTRA = ['soak'];

// ---------------------------------------------------------------- options

const USAGE = `usage: node bench/run.mjs [BENCH...] [options]     (as root)

BENCH: ${ALL.join(', ')} (default: all, in that order);
       ${EXTRA.join(', ')} (only when named)

options:
  --n N               connections per churn run (default 5000)
  --rounds N          churn rounds, each nettracer / tcplife / hooks only, every one
                      between two untraced runs (default 30)
  --iperf-seconds S   length of each iperf3 run (default 1)
  --tput-rounds N     traced iperf3 runs per path, each between two untraced (default 15)
  --levels L,L,...    concurrent churn generators for ceiling (default 1,2,3)
  --sizes N,N,...     open connections for memory (default 1000,10000,100000)
  --interval S        nettracer --interval for memory (default 10)
  --cpu-prof DIR      run the tracer of the churn rounds under node --cpu-prof,
                      profiles written to DIR
  --decompose         churn: also run nettracer stopped after attaching (records
                      left in a 64 MiB ring) and with --output /dev/null, to
                      show what the BPF work, reading the ring and writing the
                      file each cost (two more runs per round)
  --soak-n N          soak: connections in total under one tracer (default 1000000)
  --soak-chunk N      soak: connections per sequential churn run (default 100000)
  --soak-sample S     soak: seconds between samples (default 5)
  --quick             small sizes for a smoke run (n 2000, 2 rounds, 1 s iperf,
                      sizes 1000,10000, soak-n 100000)
  -h, --help`;

function parseArgs(argv) {
  const o = {
    benches: [],
    n: 5000,
    rounds: 30,
    iperfSeconds: 1,
    tputRounds: 15,
    levels: [1, 2, 3],
    sizes: [1000, 10000, 100000],
    interval: 10,
    cpuProf: undefined,
    decompose: false,
    soakN: 1000000,
    soakChunk: 100000,
    soakSample: 5,
  };
  const num = (v, name) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`${name}: not a positive number: ${v}`);
    return x;
  };
  const list = (v, name) => String(v).split(',').map((x) => Math.round(num(x, name)));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      case '--n': o.n = Math.round(num(val(), a)); break;
      case '--rounds': o.rounds = Math.round(num(val(), a)); break;
      case '--iperf-seconds': o.iperfSeconds = Math.round(num(val(), a)); break;
      case '--tput-rounds': o.tputRounds = Math.round(num(val(), a)); break;
      case '--levels': o.levels = list(val(), a); break;
      case '--sizes': o.sizes = list(val(), a); break;
      case '--interval': o.interval = Math.round(num(val(), a)); break;
      case '--cpu-prof': o.cpuProf = path.resolve(val()); break;
      case '--decompose': o.decompose = true; break;
      case '--soak-n': o.soakN = Math.round(num(val(), a)); break;
      case '--soak-chunk': o.soakChunk = Math.round(num(val(), a)); break;
      case '--soak-sample': o.soakSample = num(val(), a); break;
      case '--quick':
        Object.assign(o, { n: 2000, rounds: 2, iperfSeconds: 1, tputRounds: 2, sizes: [1000, 10000], soakN: 100000 });
        break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
        if (!ALL.includes(a) && !EXTRA.includes(a)) throw new Error(`unknown benchmark ${a} (one of ${[...ALL, ...EXTRA].join(', ')})`);
        o.benches.push(a);
    }
  }
  if (o.benches.length === 0) o.benches = [...ALL];
  return o;
}

// ---------------------------------------------------------------- clean-up

const children = new Set();
const cleanups = []; // {label, fn}: synchronous, run last-registered first

/** Registers an undo step; returns a function that runs it now (once). */
function onCleanup(label, fn) {
  const entry = { label, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    fn();
  };
}

function cleanupAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
  children.clear();
  while (cleanups.length) {
    const { label, fn } = cleanups.pop();
    try {
      fn();
    } catch (err) {
      console.error(`bench: clean-up "${label}" failed: ${err.message}`);
    }
  }
}

process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}: cleaning up`);
    cleanupAll();
    process.exit(130);
  });
}
process.on('unhandledRejection', (err) => {
  console.error('bench: unhandled rejection:', err);
  process.exit(1);
});

// ---------------------------------------------------------------- processes

/** spawn() whose child is killed if the bench ends first; child.exited resolves {code, signal}. */
function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: ROOT, ...opts });
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.once('error', (err) => {
      children.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return child;
}

/** Waits for a child to exit; SIGKILLs it after timeoutMs. */
async function waitExit(child, timeoutMs) {
  let timer;
  const r = await Promise.race([
    child.exited,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (r) return r;
  child.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

/** Runs a command to completion: {code, signal, stdout, stderr}. */
async function run(cmd, args, { timeoutMs = 120000, ...opts } = {}) {
  const child = spawnTracked(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const r = await waitExit(child, timeoutMs);
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { ...r, stdout, stderr };
}

function sh(cmd, args) {
  // maxBuffer: a dump of a table with 100k+ entries runs to hundreds of MB.
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

function which(cmd) {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

async function waitFor(pred, { timeoutMs, intervalMs = 200, what }) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- /proc

let clkTck = 100;
try {
  clkTck = Number(sh('getconf', ['CLK_TCK']).trim()) || 100;
} catch {}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  // Each thread's time on CPU in ns (/proc/PID/task/TID/schedstat): utime and
  // stime count 10 ms ticks, too coarse for a 5,000-connection run (~15 ms).
  // Kernels without CONFIG_SCHED_INFO have no schedstat: ticks, then.
  if (!fs.existsSync(`/proc/${pid}/schedstat`)) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck; // fields 14 and 15
  }
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e9;
}

/** VmRSS and VmHWM in MiB. */
function memStatus(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1] || NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

/** The BPF program and map ids a process holds (its fds, per /proc/PID/fdinfo). */
function bpfIds(pid) {
  const progs = new Set();
  const maps = new Set();
  let fds = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return { progs, maps };
  }
  for (const fd of fds) {
    let info;
    try {
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const p = info.match(/^prog_id:\s+(\d+)/m);
    if (p) progs.add(Number(p[1]));
    const m = info.match(/^map_id:\s+(\d+)/m);
    if (m) maps.add(Number(m[1]));
  }
  return { progs, maps };
}

function fdLinks(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

function bpftool(args) {
  return JSON.parse(sh('bpftool', [...args, '--json']));
}

/** run_cnt / run_time_ns / recursion_misses of the given program ids, keyed by id. */
function progStats(ids) {
  const out = new Map();
  for (const p of bpftool(['prog', 'show'])) {
    if (ids.has(p.id)) out.set(p.id, { name: p.name, cnt: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0, misses: p.recursion_misses ?? 0 });
  }
  return out;
}

/** What ran between two progStats() readings, summed per program name. */
function progDelta(before, after) {
  const d = new Map();
  for (const [id, a] of after) {
    const b = before.get(id) ?? { cnt: 0, ns: 0 };
    const e = d.get(a.name) ?? { cnt: 0, ns: 0 };
    d.set(a.name, { cnt: e.cnt + a.cnt - b.cnt, ns: e.ns + a.ns - b.ns });
  }
  return d;
}

function mapMemory(ids) {
  return bpftool(['map', 'show'])
    .filter((m) => ids.has(m.id))
    .map((m) => ({ id: m.id, name: m.name, type: m.type, bytes: m.bytes_memlock ?? 0, max: m.max_entries }));
}

/** Other tracing/benchmark processes on the host: noise to mention. */
function otherActivity() {
  const mine = new Set([process.pid, ...[...children].map((c) => c.pid)]);
  const found = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || mine.has(Number(d))) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (/run\.c?js trace|tcplife|iperf3|traffic\.py|\bchurn\b|holdconns|node --test|--import tsx/.test(cmd)) {
      found.push(`${d}: ${cmd.slice(0, 90)}`);
    }
  }
  return found;
}

function noiseLine() {
  const others = otherActivity();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return `load average ${load}; ${others.length ? `other tracing/test processes: ${others.length}\n    ${others.join('\n    ')}` : 'no other tracing/test processes seen'}`;
}

// ---------------------------------------------------------------- helpers

/**
 * "median of per-round ratios 0.927 (96% interval of the median 0.90-0.95)";
 * no interval when too few rounds. With a target: says when the interval
 * holds it, i.e. when this run cannot tell whether the target is met.
 */
function medianWithInterval(xs, target) {
  const iv = medianInterval(xs);
  const range = iv ? ` (${Math.floor(iv.coverage * 100)}% interval of the median ${fx(iv.lo, 3)}-${fx(iv.hi, 3)})` : '';
  const undecided = iv && target !== undefined && iv.lo < target && target <= iv.hi;
  return `median of per-round ratios ${fx(median(xs), 3)}${range}` +
    (undecided ? `; the interval holds ${target}: within this run's noise, more rounds would tell` : '');
}
const fx = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const fint = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');

function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const w = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(cells[0]));
  console.log('  ' + w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

const verdicts = [];
function verdict(name, pass, detail) {
  const s = `VERDICT ${name}: ${pass === undefined ? 'N/A ' : pass ? 'PASS' : 'FAIL'} (${detail})`;
  verdicts.push(s);
  console.log(s);
}
function note(s) {
  console.log(`note: ${s}`);
}

let tmpRoot;
function tmpFile(name) {
  if (!tmpRoot) {
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nettracer-bench-'));
    const dir = tmpRoot;
    onCleanup('remove temp dir', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return path.join(tmpRoot, name);
}

function compile() {
  fs.mkdirSync(BUILD, { recursive: true });
  for (const [src, bin, extra] of [
    ['churn.c', CHURN, ['-pthread']],
    ['holdconns.c', HOLD, []],
  ]) {
    const s = path.join(BENCH, src);
    let fresh = false;
    try {
      fresh = fs.statSync(bin).mtimeMs >= fs.statSync(s).mtimeMs;
    } catch {}
    if (!fresh) sh('gcc', ['-O2', '-Wall', '-Wextra', ...extra, '-o', bin, s]);
  }
}

// ---------------------------------------------------------------- NDJSON tail

/**
 * Reads the tracer's output file incrementally and counts the records of the
 * connections whose local or remote port is in `ports` (a Set, may grow).
 */
class RecordTail {
  constructor(file, ports) {
    this.file = file;
    this.ports = ports;
    this.offset = 0;
    this.rest = '';
    this.counts = { connect: 0, accept: 0, close: 0, metrics: 0 };
    this.lost = 0; // sum of records_lost in "lost" records
    this.untracked = 0; // sum of connections_untracked
    this.missed = 0; // sum of hook_misses
    this.stats = undefined; // last "stats" record, if the tracer writes them
    this.lines = 0;
    this.bad = 0;
  }

  /** Reads what was appended since the last call; returns the file size. */
  poll() {
    let fd;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return 0;
    }
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(4 << 20);
      while (this.offset < size) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (n <= 0) break;
        this.offset += n;
        const text = this.rest + buf.toString('utf8', 0, n);
        const lines = text.split('\n');
        this.rest = lines.pop();
        for (const l of lines) this.line(l);
      }
      return size;
    } finally {
      fs.closeSync(fd);
    }
  }

  line(l) {
    if (!l) return;
    this.lines++;
    let r;
    try {
      r = JSON.parse(l);
    } catch {
      this.bad++;
      return;
    }
    if (r.type === 'lost') {
      this.lost += r.records_lost ?? 0;
      this.untracked += r.connections_untracked ?? 0;
      this.missed += r.hook_misses ?? 0;
    } else if (r.type === 'stats') {
      this.stats = r;
    } else if (r.type in this.counts && (this.ports.has(r.sport) || this.ports.has(r.dport))) {
      this.count(r);
    }
  }

  /** A lifecycle record with one of the watched ports. */
  count(r) {
    this.counts[r.type]++;
  }

  get lifecycle() {
    return this.counts.connect + this.counts.accept + this.counts.close;
  }

  /** Polls until pred() holds, or the file stops growing for stallMs. */
  async settle(pred, { stallMs = 1500, timeoutMs = 60000 } = {}) {
    const end = Date.now() + timeoutMs;
    let last = -1;
    let since = Date.now();
    for (;;) {
      const size = this.poll();
      if (pred()) return true;
      if (size !== last) {
        last = size;
        since = Date.now();
      } else if (Date.now() - since >= stallMs) return false;
      if (Date.now() > end) return false;
      await sleep(150);
    }
  }
}

// ---------------------------------------------------------------- tracers

/** Starts `nettracer trace --with-loopback --output FILE --verbose ARGS`; resolves once attached. */
async function startNettracer(outFile, extra = [], { nodeArgs = [] } = {}) {
  const t0 = process.hrtime.bigint();
  const child = spawnTracked(
    process.execPath,
    [...nodeArgs, RUN, 'trace', '--with-loopback', '--output', outFile, '--verbose', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nettracer did not attach within 30 s: ${stderr.trim()}`)), 30000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/attached in .* tracing/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.exited.then(({ code, signal, error }) => {
      clearTimeout(timer);
      reject(new Error(`nettracer exited (${error?.message ?? code ?? signal}) before attaching: ${stderr.trim()}`));
    });
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const attachedAt = Date.now();
  return {
    pid: child.pid,
    child,
    wallMs,
    stderr: () => stderr,
    async stop() {
      await sleep(SIGINT_GRACE_MS - (Date.now() - attachedAt));
      child.kill('SIGINT');
      const r = await waitExit(child, 60000);
      if (r.killed) throw new Error('nettracer did not stop within 60 s of SIGINT (killed)');
      if (r.code !== 0) throw new Error(`nettracer exited ${r.code ?? r.signal}: ${stderr.trim().slice(-500)}`);
      return r;
    },
  };
}

let tracefsChecked = false;
/** tcplife (libbpf) attaches through tracefs: mount it for the run if it is not. */
function ensureTracefs() {
  if (tracefsChecked) return;
  tracefsChecked = true;
  if (fs.existsSync('/sys/kernel/tracing/events') || fs.existsSync('/sys/kernel/debug/tracing/events')) return;
  sh('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing']);
  note('mounted tracefs on /sys/kernel/tracing for tcplife (unmounted at the end)');
  onCleanup('umount tracefs', () => sh('umount', ['/sys/kernel/tracing']));
}

/** Starts tcplife writing to outFile; resolves once its probe and perf buffers exist. */
async function startTcplife(outFile) {
  ensureTracefs();
  const fd = fs.openSync(outFile, 'w');
  const t0 = Date.now();
  let child;
  try {
    child = spawnTracked(which('tcplife') ?? 'tcplife', [], { stdio: ['ignore', fd, 'pipe'] });
  } finally {
    fs.closeSync(fd);
  }
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let dead;
  child.exited.then((r) => (dead = r));
  const ncpu = os.cpus().length;
  // One perf event for the tracepoint, one per CPU for the perf buffer: the
  // buffer is set up after attaching, just before the header is printed.
  await waitFor(
    () => {
      if (dead) throw new Error(`tcplife exited (${dead.code ?? dead.signal}): ${stderr.trim()}`);
      const perf = fdLinks(child.pid).filter((l) => l.includes('perf_event')).length;
      return perf >= 1 + ncpu && Date.now() - t0 >= 1500;
    },
    { timeoutMs: 20000, intervalMs: 100, what: 'tcplife to attach' },
  );
  await sleep(200);
  return {
    pid: child.pid,
    child,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGINT');
      const r = await waitExit(child, 20000);
      if (r.killed) throw new Error('tcplife did not stop within 20 s (killed)');
      return r;
    },
  };
}

/** tcplife lines whose LPORT or RPORT is in ports; and the perf buffer's reported losses. */
function countTcplife(outFile, ports, stderr) {
  let lines = 0;
  for (const l of fs.readFileSync(outFile, 'utf8').split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length < 9) continue;
    const lport = Number(f[f.length - 6]);
    const rport = Number(f[f.length - 4]);
    if (ports.has(lport) || ports.has(rport)) lines++;
  }
  const lost = sum([...stderr.matchAll(/lost (\d+) events/g)].map((m) => Number(m[1])));
  return { lines, lost };
}

/** A RecordTail that also keeps the lifecycle records of each connection end (by id). */
class EndsTail extends RecordTail {
  ends = new Map();
  count(r) {
    super.count(r);
    if (r.type === 'metrics') return;
    const kinds = this.ends.get(r.id);
    if (kinds) kinds.push(r.type);
    else this.ends.set(r.id, [r.type]);
  }
}

/**
 * A churn round whose records do not add up: keep its output (the temp dir
 * goes at exit) and say which connection ends are incomplete, so a rare miss
 * can be looked into instead of only counted.
 */
function keepForInspection(file, round, port) {
  const kept = path.join(os.tmpdir(), `nettracer-bench-round-${round + 1}-${process.pid}.ndjson`);
  fs.copyFileSync(file, kept);
  const tail = new EndsTail(file, new Set([port]));
  tail.poll();
  const odd = [...tail.ends].filter(([, k]) => k.length !== 2 || !k.includes('close'));
  note(
    `round ${round + 1}: ${tail.lifecycle} lifecycle records (${JSON.stringify(tail.counts)}) of ${tail.ends.size} connection ends; ` +
      `${odd.length} incomplete, e.g. ${odd.slice(0, 3).map(([id, k]) => `${id}: ${k.join(',')}`).join('; ')}; output kept in ${kept}`,
  );
}

async function churn(n) {
  const r = await run(CHURN, [String(n)], { timeoutMs: 600000 });
  if (r.code !== 0) throw new Error(`churn exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// ---------------------------------------------------------------- churn

async function benchChurn(o) {
  const N = o.n;
  const hasTcplife = !!which('tcplife');
  const variants = hasTcplife ? ['untraced', 'nettracer', 'tcplife'] : ['untraced', 'nettracer'];
  if (!hasTcplife) note('tcplife not found (apt-get install libbpf-tools): compared with untraced only');
  // The floor: nettracer with its hooks attached but doing nothing.
  const hooksOnly = run('make', ['-s', '-C', path.join(ROOT, 'bpf'), 'hooks-only'], { timeoutMs: 120000 })
    .then((r) => r.code === 0 && fs.existsSync(HOOKS_ONLY));
  if (await hooksOnly) variants.push('hooksOnly');
  else note('could not build bpf/.output/hooks-only.bpf.o: the hooks-only floor is not measured');
  if (o.decompose) variants.push('stopped', 'devNull');
  if (o.cpuProf) {
    fs.mkdirSync(o.cpuProf, { recursive: true });
    fs.chmodSync(o.cpuProf, 0o777); // nettracer drops root after attaching and writes the profile at exit
  }
  console.log(`${o.rounds} rounds of ${fint(N)} sequential loopback connections: an untraced run before and after each traced one, order rotated each round`);
  /**
   * The churn's rate under nettracer with these arguments, writing to the
   * temp file `file` (removed after) or, without one, to /dev/null;
   * stopped: SIGSTOP once attached.
   */
  async function rateUnder(file, extra, stopped = false) {
    const t = await startNettracer(file ?? '/dev/null', extra);
    try {
      if (stopped) t.child.kill('SIGSTOP');
      const c = await churn(N);
      if (stopped) t.child.kill('SIGCONT');
      await t.stop();
      return { rate: c.rate };
    } finally {
      if (t.child.exitCode === null) t.child.kill('SIGKILL');
      if (file) fs.rmSync(file, { force: true });
    }
  }
  const once = {
    async untraced() {
      const c = await churn(N);
      return { rate: c.rate };
    },
    async nettracer(r) {
      const out = tmpFile(`churn-nettracer-${r}.ndjson`);
      const nodeArgs = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : [];
      const t = await startNettracer(out, [], { nodeArgs });
      try {
        const cpu0 = cpuSeconds(t.pid);
        const c = await churn(N);
        const ports = new Set([c.port]);
        const tail = new RecordTail(out, ports);
        await tail.settle(() => tail.lifecycle >= 4 * N);
        const cpu = cpuSeconds(t.pid) - cpu0;
        await t.stop();
        tail.poll();
        if (tail.lifecycle !== 4 * N) keepForInspection(out, r, c.port);
        return {
          rate: c.rate,
          cpu10k: (cpu / N) * 1e4,
          expected: 4 * N,
          found: tail.lifecycle,
          missing: 4 * N - tail.lifecycle,
          reportedLost: tail.lost + tail.untracked + tail.missed,
          counts: tail.counts,
        };
      } finally {
        if (t.child.exitCode === null) t.child.kill('SIGKILL');
        fs.rmSync(out, { force: true });
      }
    },
    hooksOnly: (r) => rateUnder(tmpFile(`churn-hooks-only-${r}.ndjson`), ['-p', HOOKS_ONLY]),
    // --decompose: the BPF work alone (the process stopped, nothing read;
    // 64 MiB hold 116k connections' records), then reading and encoding
    // without the file.
    stopped: (r) => rateUnder(tmpFile(`churn-stopped-${r}.ndjson`), ['--ring-size', '65536'], true),
    devNull: () => rateUnder(undefined, []),
    async tcplife(r) {
      const out = tmpFile(`churn-tcplife-${r}.txt`);
      const t = await startTcplife(out);
      try {
        const cpu0 = cpuSeconds(t.pid);
        const c = await churn(N);
        await sleep(1000); // its output is buffered until exit: give it time to drain the perf buffer
        const cpu = cpuSeconds(t.pid) - cpu0;
        await t.stop();
        const { lines, lost } = countTcplife(out, new Set([c.port]), t.stderr());
        return {
          rate: c.rate,
          cpu10k: (cpu / N) * 1e4,
          expected: 2 * N,
          found: lines,
          missing: 2 * N - lines,
          reportedLost: lost,
        };
      } finally {
        if (t.child.exitCode === null) t.child.kill('SIGKILL');
        fs.rmSync(out, { force: true });
      }
    },
  };

  const traced = variants.filter((v) => v !== 'untraced');
  const s = await sandwich(o.rounds, traced, once.untraced, (v, r) => once[v](r), (u) => u.rate);
  const res = { tcplife: [], ...s.res, untraced: s.untraced.map((us) => ({ rate: mean(us.map((u) => u.rate)) })) };
  const ratio = Object.fromEntries(traced.map((v) => [v, res[v].map((x, i) => x.rate / s.base[v][i])]));

  const rows = [];
  for (let r = 0; r < o.rounds; r++) {
    const u = res.untraced[r];
    const n = res.nettracer[r];
    const t = res.tcplife[r];
    rows.push([
      `round ${r + 1}`,
      fint(u.rate),
      fint(n.rate),
      fx(ratio.nettracer[r]),
      t ? fint(t.rate) : '-',
      t ? fx(ratio.tcplife[r]) : '-',
      fx(n.cpu10k, 3),
      t ? fx(t.cpu10k, 3) : '-',
      `${n.missing}/${n.reportedLost}`,
      t ? `${t.missing}/${t.reportedLost}` : '-',
    ]);
  }
  const med = (v, k) => median(res[v].map((x) => x[k]));
  const ratioN = median(ratio.nettracer);
  const ratioT = hasTcplife ? median(ratio.tcplife) : NaN;
  rows.push([
    'median',
    fint(med('untraced', 'rate')),
    fint(med('nettracer', 'rate')),
    fx(ratioN),
    hasTcplife ? fint(med('tcplife', 'rate')) : '-',
    fx(ratioT),
    fx(med('nettracer', 'cpu10k'), 3),
    hasTcplife ? fx(med('tcplife', 'cpu10k'), 3) : '-',
    '',
    '',
  ]);
  table(
    ['', 'untraced/s', 'nettracer/s', 'ratio', 'tcplife/s', 'ratio', 'nt CPU s/10k', 'tl CPU s/10k', 'nt miss/lost', 'tl miss/lost'],
    rows,
  );
  console.log('  (conn/s as the generator measures them; untraced: mean of the round\'s untraced runs;');
  console.log('   ratio: to the mean of the untraced runs just before and just after it;');
  console.log('   CPU: the tracer\'s time on CPU during the run (all threads, /proc/PID/task/*/schedstat) per 10,000 connections;');
  console.log('   miss: expected records absent (nettracer 4/conn, tcplife 2/conn); lost: reported by the tracer)');
  if (ratio.hooksOnly && !ratio.stopped) {
    const floor = median(ratio.hooksOnly);
    const each = ratio.hooksOnly.map((x) => fx(x)).join(' ');
    note(`hooks only (nettracer's tracepoints attached, every program returning at once): ratio ${fx(floor, 3)} (rounds: ${each}): what attaching these hooks costs before any of nettracer's work`);
  }
  if (ratio.stopped) {
    const steps = [
      ['hooks attached, returning at once', ratio.hooksOnly],
      ['+ the BPF work (tracer stopped, nothing read)', ratio.stopped],
      ['+ reading the ring and encoding (--output /dev/null)', ratio.devNull],
      ['+ writing the file (nettracer as above)', ratio.nettracer],
    ].filter(([, xs]) => xs);
    note(`where the churn's slowdown comes from (median ratio of ${o.rounds} rounds each, interval of the median):`);
    for (const [what, xs] of steps) console.log(`  ${what.padEnd(54)} ${medianWithInterval(xs)}`);
  }

  const cpuN = med('nettracer', 'cpu10k');
  const cpuT = hasTcplife ? med('tcplife', 'cpu10k') : NaN;
  verdict(
    'churn nettracer CPU per connection <= tcplife',
    hasTcplife ? cpuN <= cpuT : undefined,
    `median ${fx((cpuN / 1e4) * 1e6, 1)} us/conn vs tcplife ${fx((cpuT / 1e4) * 1e6, 1)} us/conn, ${fx(cpuN / cpuT, 1)}x`,
  );
  verdict(
    'churn rate under nettracer >= 0.90 x untraced',
    ratioN >= 0.9,
    medianWithInterval(ratio.nettracer, 0.9) + (hasTcplife ? `; tcplife ${fx(ratioT, 3)}` : ''),
  );
  const missing = sum(res.nettracer.map((x) => Math.max(0, x.missing)));
  const extra = sum(res.nettracer.map((x) => Math.max(0, -x.missing)));
  const lost = sum(res.nettracer.map((x) => x.reportedLost));
  verdict(
    'churn zero lost events (nettracer)',
    missing === 0 && lost === 0 && extra === 0,
    `${fint(missing)} of ${fint(sum(res.nettracer.map((x) => x.expected)))} records missing, ${fint(lost)} reported lost` +
      (extra ? `, ${extra} unexpected extra` : ''),
  );
  if (o.cpuProf) note(`nettracer CPU profiles in ${o.cpuProf}`);
}

// ---------------------------------------------------------------- throughput

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** [cmd, args] for `iperf3 ARGS`, run inside a network namespace when nsPrefix is given. */
const iperfCmd = (nsPrefix, args) => (nsPrefix.length ? [nsPrefix[0], [...nsPrefix.slice(1), 'iperf3', ...args]] : ['iperf3', args]);

/** An iperf3 server on a free port (inside a namespace when prefix is given); stop() ends it. */
async function startIperfServer(prefix) {
  const port = await freePort();
  const [cmd, args] = iperfCmd(prefix, ['-s', '-p', String(port)]);
  const server = spawnTracked(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  await sleep(300);
  return {
    port,
    async stop() {
      server.kill('SIGTERM');
      await waitExit(server, 5000);
    },
  };
}

/** One iperf3 client run; retries while the server is not ready. Gbit/s received. */
async function iperf(nsPrefix, host, port, secs) {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    const [cmd, args] = iperfCmd(nsPrefix, ['-c', host, '-p', String(port), '-t', String(secs), '-J']);
    const r = await run(cmd, args, { timeoutMs: (secs + 30) * 1000 });
    let j;
    try {
      j = JSON.parse(r.stdout);
    } catch {}
    if (r.code === 0 && j?.end?.sum_received) return j.end.sum_received.bits_per_second / 1e9;
    last = j?.error ?? (r.stderr.trim() || `exit ${r.code}`);
    await sleep(300);
  }
  throw new Error(`iperf3 client failed: ${last}`);
}

async function setupNetns() {
  const tag = `${process.pid}`;
  const nsA = `ntbench-${tag}-a`;
  const nsB = `ntbench-${tag}-b`;
  const vA = `ntb${tag}a`.slice(0, 15);
  const vB = `ntb${tag}b`.slice(0, 15);
  const undo = [];
  const release = () => {
    for (const f of undo.reverse()) {
      try {
        f();
      } catch {}
    }
    undo.length = 0;
  };
  const releaseAll = onCleanup('delete network namespaces', release);
  try {
    sh('ip', ['netns', 'add', nsA]);
    undo.push(() => sh('ip', ['netns', 'del', nsA]));
    sh('ip', ['netns', 'add', nsB]);
    undo.push(() => sh('ip', ['netns', 'del', nsB]));
    sh('ip', ['link', 'add', vA, 'type', 'veth', 'peer', 'name', vB]);
    // Deleting the namespaces deletes the pair once moved; before that it is in ours.
    undo.push(() => {
      try {
        sh('ip', ['link', 'del', vA]);
      } catch {}
    });
    sh('ip', ['link', 'set', vA, 'netns', nsA]);
    sh('ip', ['link', 'set', vB, 'netns', nsB]);
    sh('ip', ['-n', nsA, 'addr', 'add', '10.231.0.1/24', 'dev', vA]);
    sh('ip', ['-n', nsB, 'addr', 'add', '10.231.0.2/24', 'dev', vB]);
    for (const [ns, dev] of [[nsA, vA], [nsB, vB]]) {
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    releaseAll();
    throw err;
  }
  return { nsA, nsB, server: '10.231.0.1', release: releaseAll };
}

async function benchThroughput(o) {
  if (!which('iperf3')) {
    verdict('throughput', undefined, 'iperf3 not installed (apt-get install iperf3)');
    return;
  }
  const secs = o.iperfSeconds;
  const results = [];
  const paths = [
    { name: 'loopback', setup: async () => ({ prefix: [], host: '127.0.0.1', release: () => {} }) },
    {
      name: 'veth (netns)',
      setup: async () => {
        const ns = await setupNetns();
        return { prefix: ['ip', 'netns', 'exec', ns.nsB], serverPrefix: ['ip', 'netns', 'exec', ns.nsA], host: ns.server, release: ns.release };
      },
    },
  ];
  for (const p of paths) {
    const env = await p.setup();
    let server;
    try {
      server = await startIperfServer(env.serverPrefix ?? []);
      const { port } = server;
      const s = await sandwich(
        o.tputRounds,
        ['nettracer'],
        () => iperf(env.prefix, env.host, port, secs),
        async (_, r) => {
          const out = tmpFile(`tput-${r}.ndjson`);
          const t = await startNettracer(out);
          try {
            const cpu0 = cpuSeconds(t.pid);
            const gbps = await iperf(env.prefix, env.host, port, secs);
            const cpu = cpuSeconds(t.pid) - cpu0;
            await t.stop();
            return { gbps, cpu };
          } finally {
            if (t.child.exitCode === null) t.child.kill('SIGKILL');
            fs.rmSync(out, { force: true });
          }
        },
        (x) => x,
      );
      const rows = s.res.nettracer.map((x, i) => ({ untraced: s.base.nettracer[i], nettracer: x.gbps, ratio: x.gbps / s.base.nettracer[i], cpu: x.cpu }));
      results.push({ path: p.name, rows });
    } finally {
      await server?.stop();
      env.release();
    }
  }
  const out = [];
  for (const { path: name, rows } of results) {
    rows.forEach((r, i) => out.push([`${name} #${i + 1}`, fx(r.untraced), fx(r.nettracer), fx(r.ratio, 3), fx(r.cpu, 2)]));
    out.push([`${name} median`, fx(median(rows.map((r) => r.untraced))), fx(median(rows.map((r) => r.nettracer))), fx(median(rows.map((r) => r.ratio)), 3), '']);
  }
  table(['path', 'untraced Gbit/s', 'nettracer Gbit/s', 'ratio', 'nt CPU s'], out);
  console.log(`  (iperf3 -t ${secs}, one stream, received rate; untraced: mean of the untraced runs just before and after`);
  console.log('   the traced one, which the ratio compares it with)');
  for (const { path: name, rows } of results) {
    const ratios = rows.map((r) => r.ratio);
    verdict(`throughput ${name} under nettracer >= 0.97 x untraced`, median(ratios) >= 0.97, medianWithInterval(ratios, 0.97));
  }
}

// ---------------------------------------------------------------- bpfstats

function requireBpftool() {
  if (!which('bpftool')) throw new Error('bpftool not found (apt-get install -y bpftool)');
}

async function benchBpfStats(o) {
  requireBpftool();
  const N = o.n;
  const RUNS = 3;
  const knob = '/proc/sys/kernel/bpf_stats_enabled';
  const prev = fs.readFileSync(knob, 'utf8').trim();
  fs.writeFileSync(knob, '1');
  const restore = onCleanup('restore kernel.bpf_stats_enabled', () => fs.writeFileSync(knob, prev));
  const tools = [['nettracer', startNettracer]];
  if (which('tcplife')) tools.push(['tcplife', startTcplife]);
  const summary = [];
  try {
    for (const [tool, start] of tools) {
      const out = tmpFile(`bpfstats-${tool}.out`);
      const t = await start(out);
      try {
        const ids = bpfIds(t.pid).progs;
        const perRun = []; // Map name -> {cnt, ns} per churn run
        const rates = [];
        for (let i = 0; i < RUNS; i++) {
          const before = progStats(ids);
          const c = await churn(N);
          rates.push(c.rate);
          if (tool === 'nettracer') {
            const tail = new RecordTail(out, new Set([c.port]));
            await tail.settle(() => tail.lifecycle >= 4 * N);
          } else {
            await sleep(500);
          }
          perRun.push(progDelta(before, progStats(ids)));
        }
        const bulk = tool === 'nettracer' && which('iperf3') ? await bulkBpfTime(ids, o.iperfSeconds) : undefined;
        await t.stop();
        const names = tool === 'nettracer' ? [...new Set([...NETTRACER_PROGS, ...perRun[0].keys()])] : [...perRun[0].keys()];
        const rows = [];
        let totNs = 0;
        let totRuns = 0;
        for (const name of names) {
          if (!perRun[0].has(name)) {
            rows.push([name, '(not loaded)', '', '', '']);
            continue;
          }
          const cnt = median(perRun.map((d) => d.get(name).cnt));
          const ns = median(perRun.map((d) => d.get(name).ns));
          totNs += ns;
          totRuns += cnt;
          rows.push([name, fint(cnt), fx(cnt / N, 2), cnt ? fx(ns / cnt, 0) : '-', fx(ns / N, 0)]);
        }
        rows.push(['total', fint(totRuns), fx(totRuns / N, 2), totRuns ? fx(totNs / totRuns, 0) : '-', fx(totNs / N, 0)]);
        console.log(`${tool}: ${RUNS} runs of ${fint(N)} connections (median per run), churn ${fint(median(rates))} conn/s with stats on`);
        table(['program', 'runs', 'runs/conn', 'ns/run', 'ns/conn'], rows);
        summary.push([tool, totNs / N]);
        if (bulk) {
          const each = bulk.progs.filter((x) => x.cnt).map((x) => `${x.name} ${fint(x.cnt / bulk.secs)} runs/s x ${fx(x.ns / x.cnt, 0)} ns`);
          console.log(`  during one iperf3 loopback transfer (${fx(bulk.gbps)} Gbit/s, ${bulk.secs.toFixed(1)} s): ${each.join(', ')}`);
          note(`BPF time during a bulk transfer: ${fx(bulk.msPerSec, 1)} ms per second, ${fx(bulk.msPerSec / 10, 1)}% of one CPU (the throughput ratio's expected cost, which that ratio's noise hides)`);
        }
      } finally {
        if (t.child.exitCode === null) t.child.kill('SIGKILL');
        fs.rmSync(out, { force: true });
      }
    }
  } finally {
    restore();
  }
  console.log('  (run_cnt/run_time_ns deltas of the tracer\'s own programs; hooks fire for every process on the host,');
  console.log('   so concurrent activity adds runs)');
  note(`BPF time per connection: ${summary.map(([t, ns]) => `${t} ${fx(ns, 0)} ns`).join(', ')}`);
}

/** BPF run time of the given programs while one iperf3 loopback transfer runs (stats must be on). */
async function bulkBpfTime(ids, secs) {
  const server = await startIperfServer([]);
  try {
    const before = progStats(ids);
    const t0 = process.hrtime.bigint();
    const gbps = await iperf([], '127.0.0.1', server.port, secs);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const progs = [...progDelta(before, progStats(ids))].map(([name, x]) => ({ name, ...x }));
    return { gbps, secs: wall, progs, msPerSec: sum(progs.map((x) => x.ns)) / 1e6 / wall };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------- ceiling

async function benchCeiling(o) {
  const N = o.n;
  const rows = [];
  const levels = [];
  for (const L of o.levels) {
    // Untraced first, for reference, then under nettracer.
    const u = await Promise.all(Array.from({ length: L }, () => churn(N)));
    const untraced = (L * N) / Math.max(...u.map((c) => c.seconds));
    const out = tmpFile(`ceiling-${L}.ndjson`);
    const t = await startNettracer(out);
    let row;
    try {
      const cpu0 = cpuSeconds(t.pid);
      const cs = await Promise.all(Array.from({ length: L }, () => churn(N)));
      const rate = (L * N) / Math.max(...cs.map((c) => c.seconds));
      const tail = new RecordTail(out, new Set(cs.map((c) => c.port)));
      await tail.settle(() => tail.lifecycle >= 4 * L * N);
      const cpu = cpuSeconds(t.pid) - cpu0;
      // The kernel's own count of skipped runs, to hold the stream's hook_misses against.
      const kernelMissed = sum([...progStats(bpfIds(t.pid).progs).values()].map((p) => p.misses));
      await t.stop();
      tail.poll();
      const expected = 4 * L * N;
      row = { L, untraced, rate, expected, found: tail.lifecycle, lost: tail.lost, untracked: tail.untracked, missed: tail.missed, kernelMissed, cpu, stats: tail.stats };
    } finally {
      if (t.child.exitCode === null) t.child.kill('SIGKILL');
      fs.rmSync(out, { force: true });
    }
    levels.push(row);
    rows.push([
      String(L),
      fint(row.untraced),
      fint(row.rate),
      fx(row.rate / row.untraced),
      fint(row.expected),
      fint(row.expected - row.found),
      fint(row.lost),
      fint(row.untracked),
      fint(row.missed),
      fx(row.cpu, 2),
    ]);
  }
  table(['generators', 'untraced/s', 'nettracer/s', 'ratio', 'expected', 'missing', 'records_lost', 'untracked', 'hook_misses', 'nt CPU s'], rows);
  console.log(`  (${fint(N)} connections per generator; rate: all connections / slowest generator's time;`);
  console.log('   records_lost, untracked, hook_misses: sums of the tracer\'s "lost" records)');
  // A skipped program run (hook_misses) loses a record only if it was one that
  // writes one: the records' count says whether it did.
  const clean = levels.filter((l) => l.expected === l.found && l.lost === 0 && l.untracked === 0);
  const best = clean.length ? clean.reduce((a, b) => (b.rate > a.rate ? b : a)) : undefined;
  const lossy = levels.filter((l) => !clean.includes(l));
  let detail = best ? `highest rate with zero loss ${fint(best.rate)} conn/s (${best.L} generator${best.L > 1 ? 's' : ''})` : 'loss at every level';
  if (lossy.length) {
    detail += '; loss: ' + lossy.map((l) => `${l.L} gen at ${fint(l.rate)}/s: ${fint(l.expected - l.found)} missing (${fx((100 * (l.expected - l.found)) / l.expected, 1)}%), ${fint(l.lost + l.untracked + l.missed)} reported`).join('; ');
  } else {
    detail += '; no loss at any level tested';
  }
  const missed = levels.filter((l) => l.missed > 0 || l.kernelMissed > 0);
  if (missed.length) {
    detail += '; program runs the kernel skipped (hook_misses in the stream; the kernel\'s count): ' + missed.map((l) => `${l.L} gen: ${fint(l.missed)}; ${fint(l.kernelMissed)}`).join(', ');
  }
  note(`ceiling: ${detail}`);
}

// ---------------------------------------------------------------- startup

async function benchStartup() {
  const RUNS = 5;
  const attach = [];
  const self = [];
  const stops = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const child = spawnTracked(RUN, ['trace', '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not attached within 30 s: ${stderr}`)), 30000);
        child.stderr.on('data', (d) => {
          stderr += d;
          if (/attached in .* tracing/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.exited.then((r) => {
          clearTimeout(timer);
          reject(new Error(`nettracer exited (${r.error?.message ?? r.code ?? r.signal}): ${stderr.trim()}`));
        });
      });
      attach.push(Number(process.hrtime.bigint() - t0) / 1e6);
      self.push(Number((stderr.match(/attached in ([\d.]+) ms/) || [])[1]));
      await sleep(SIGINT_GRACE_MS);
      const s0 = process.hrtime.bigint();
      child.kill('SIGINT');
      const r = await waitExit(child, 30000);
      if (r.killed || r.code !== 0) throw new Error(`nettracer did not stop cleanly (${r.code ?? r.signal})`);
      stops.push(Number(process.hrtime.bigint() - s0) / 1e6);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
  // Alternating with Node's own empty start: the floor no CLI can go under
  // (here it includes loading NODE_EXTRA_CA_CERTS when the environment sets it).
  const wallMs = async (cmd, args) => {
    const t0 = process.hrtime.bigint();
    const r = await run(cmd, args, { timeoutMs: 30000 });
    if (r.code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const help = [];
  const bare = [];
  for (let i = 0; i < RUNS; i++) {
    help.push(await wallMs(RUN, ['--help']));
    bare.push(await wallMs(process.execPath, ['-e', '0']));
  }
  const f = (xs) => xs.map((x) => fx(x, 0)).join(' ');
  table(
    ['measure (ms)', 'median', 'runs'],
    [
      ['spawn -> "attached" line', fx(median(attach), 0), f(attach)],
      ['  of which self-reported', fx(median(self), 0), f(self)],
      ['SIGINT -> exit', fx(median(stops), 0), f(stops)],
      ['--help wall time', fx(median(help), 0), f(help)],
      ['  node -e 0 (the floor)', fx(median(bare), 0), f(bare)],
    ],
  );
  console.log('  (./bin/run.cjs spawned directly, as a user runs it; "self-reported": the "attached in X ms" it prints)');
  verdict('startup --help < 300 ms', median(help) < 300, `median ${fx(median(help), 0)} ms`);
  verdict('startup attached < 1 s', median(attach) < 1000, `median ${fx(median(attach), 0)} ms from spawn`);
}

// ---------------------------------------------------------------- memory

function hardNofile() {
  try {
    const v = sh('bash', ['-c', 'ulimit -Hn']).trim();
    return v === 'unlimited' ? 1 << 20 : Number(v);
  } catch {
    return 4096;
  }
}

/** Starts a holdconns process; resolves with its ready line and the child. */
async function hold(n, k, first) {
  const child = spawnTracked(HOLD, [String(n), String(k), String(first)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holdconns not ready within 120 s: ${err}`)), 120000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(out.split('\n')[0]));
      }
    });
    child.exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`holdconns exited (${r.code ?? r.signal}): ${err.trim()}`));
    });
  });
  return {
    child,
    ready,
    async close() {
      child.stdin.end('\n');
      await waitExit(child, 60000);
    },
  };
}

async function benchMemory(o) {
  requireBpftool();
  // Each holder keeps both ends open: 2 fds per connection, and RLIMIT_NOFILE's
  // hard limit may not be raisable (no CAP_SYS_RESOURCE in containers).
  const perHolder = Math.max(100, Math.min(20000, Math.floor((hardNofile() - 100) / 2)));
  const rows = [];
  const mapRows = [];
  const memRows = [];
  let at100k;
  for (const size of o.sizes) {
    const holders = Math.ceil(size / perHolder);
    if (holders > 250) throw new Error(`${size} connections need ${holders} holders (RLIMIT_NOFILE too low)`);
    const out = tmpFile(`memory-${size}.ndjson`);
    const t = await startNettracer(out, ['--interval', String(o.interval)]);
    const held = [];
    try {
      await sleep(1000);
      const ids = bpfIds(t.pid);
      const idle = memStatus(t.pid);
      const mapsIdle = mapMemory(ids.maps);
      const ports = new Set();
      const tail = new RecordTail(out, ports);
      const t0 = Date.now();
      let opened = 0;
      // Holders one after the other, each once the tracer has caught up, so
      // the numbers are about memory, not about ring-buffer loss.
      for (let h = 0; h < holders; h++) {
        const n = Math.ceil((size - opened) / (holders - h));
        const x = await hold(n, 1, 2 + h);
        held.push(x);
        for (const l of x.ready.listeners) ports.add(l.port);
        opened += n;
        await tail.settle(() => tail.counts.connect + tail.counts.accept >= 2 * opened, { stallMs: 2000 });
      }
      const seenS = (Date.now() - t0) / 1000;
      const seen = tail.counts.connect + tail.counts.accept;
      const open = memStatus(t.pid);
      const mapsOpen = mapMemory(ids.maps);
      // One metrics walk over all of them. A walk that began while the last
      // holder was still connecting reports only part of them: let any walk
      // in progress finish (the file stops growing) before counting.
      await tail.settle(() => false, { stallMs: 1500 });
      // Then the next walk: wait for its records, then for the file to stop
      // growing (a walk is written as one batch).
      const m0 = tail.counts.metrics;
      await tail.settle(() => tail.counts.metrics > m0, { stallMs: o.interval * 2000 + 30000, timeoutMs: o.interval * 2000 + 30000 });
      await tail.settle(() => false, { stallMs: 1500 });
      const walk = memStatus(t.pid);
      const metrics = tail.counts.metrics - m0;
      // Close them all at once: a burst of 2 close records per connection.
      for (const x of held) await x.close();
      held.length = 0;
      await tail.settle(() => tail.counts.close >= 2 * size, { stallMs: 2000 });
      await t.stop();
      tail.poll();
      const conns = (m) => m.filter((x) => TABLE_MAPS.includes(x.name)).reduce((a, x) => a + x.bytes, 0);
      const total = (m) => m.reduce((a, x) => a + x.bytes, 0);
      const row = {
        size,
        holders,
        idle: idle.rssMiB,
        open: open.rssMiB,
        walk: walk.rssMiB,
        hwm: walk.hwmMiB,
        seen,
        seenS,
        metrics,
        closes: tail.counts.close,
        lost: tail.lost,
        untracked: tail.untracked,
        mapsIdle: total(mapsIdle),
        mapsOpen: total(mapsOpen),
        connsIdle: conns(mapsIdle),
        connsOpen: conns(mapsOpen),
      };
      memRows.push(row);
      if (size === 100000) at100k = row;
      rows.push([
        fint(size),
        String(holders),
        fx(row.idle, 1),
        fx(row.open, 1),
        fx(row.walk, 1),
        fx(row.hwm, 1),
        `${fint(seen)}/${fint(2 * size)}`,
        fx(seenS, 1),
        `${fint(row.metrics)}/${fint(2 * size)}`,
        `${fint(row.closes)}/${fint(2 * size)}`,
        fint(row.lost),
      ]);
      mapRows.push([
        fint(size),
        fx(row.mapsIdle / 1048576, 2),
        fx(row.mapsOpen / 1048576, 2),
        fx(row.connsOpen / 1048576, 2),
        fx((row.connsOpen - row.connsIdle) / (2 * size), 0),
        mapsOpen.map((m) => `${m.name}=${fx(m.bytes / 1024, 0)}K`).join(' '),
      ]);
    } finally {
      for (const x of held) x.child.kill('SIGKILL');
      if (t.child.exitCode === null) t.child.kill('SIGKILL');
      fs.rmSync(out, { force: true });
    }
  }
  console.log('tracer RSS (MiB) with N open loopback connections (both ends tracked: 2N sockets):');
  table(['N', 'holders', 'idle', 'all seen', 'after walk', 'VmHWM', 'conn+acc seen', 'seen in s', 'metrics', 'closes', 'lost'], rows);
  console.log(`  (idle: attached, nothing open; all seen: once every connect/accept record was written;`);
  console.log(`   after walk: after a metrics walk (--interval ${o.interval}) over all of them; VmHWM: peak so far;`);
  console.log('   closes/lost: closing them all at once, a burst of 2N close records)');
  console.log('kernel map memory (bytes_memlock, MiB):');
  table(['N', 'idle', 'open', 'table maps', 'B/entry', 'per map (open)'], mapRows);
  for (const r of memRows) {
    if (r.metrics < 2 * r.size) note(`N=${fint(r.size)}: the metrics walk reported ${fint(r.metrics)} of ${fint(2 * r.size)} open connection ends (${fint(2 * r.size - r.metrics)} missing)`);
  }
  if (at100k) {
    verdict('memory tracer RSS <= 100 MB at 100k connections', at100k.hwm <= 100, `VmHWM ${fx(at100k.hwm, 1)} MiB, VmRSS ${fx(at100k.open, 1)} all seen / ${fx(at100k.walk, 1)} after walk`);
  } else {
    verdict('memory tracer RSS <= 100 MB at 100k connections', undefined, '100000 not among --sizes');
  }
}

// ---------------------------------------------------------------- soak

/**
 * RecordTail that only counts the lifecycle records of the churn generator
 * itself (comm "churn") among those with a churn port; records with a churn
 * port from other processes (a concurrent test that got the same ephemeral
 * port) are counted apart, in `other`.
 */
class ChurnTail extends RecordTail {
  constructor(file, ports) {
    super(file, ports);
    this.other = 0;
  }

  count(r) {
    if (r.comm === 'churn') super.count(r);
    else this.other++;
  }
}

/** The listening port of process pid (per `ss -ltnp`), or undefined. */
function listenPortOf(pid) {
  let out;
  try {
    out = sh('ss', ['-Hltnp']);
  } catch {
    return undefined;
  }
  for (const l of out.split('\n')) {
    if (!l.includes(`pid=${pid},`)) continue;
    const m = l.trim().split(/\s+/)[3]?.match(/:(\d+)$/);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The maps that make up the connection table (an array part and a hash map; bpf/nettracer.bpf.c). */
const TABLE_MAPS = ['conns', 'fast_keys', 'fast_conns'];

/** Entries in the connection table now: the hash map's, plus the array part's occupied slots. */
function tableEntries(maps) {
  if (!maps) return NaN;
  try {
    const dump = (id) => bpftool(['map', 'dump', 'id', String(id)]);
    const slots = dump(maps.fast_keys).reduce((a, e) => a + e.formatted.value.key.filter((k) => k !== 0).length, 0);
    return dump(maps.conns).length + slots;
  } catch {
    return NaN;
  }
}

async function benchSoak(o) {
  requireBpftool();
  const N = o.soakN;
  const CHUNK = Math.min(o.soakChunk, N);
  const EVERY = o.soakSample * 1000;
  // About 1.3 KB of output per connection (4 records); ask for twice that.
  const dir = os.tmpdir();
  const st = fs.statfsSync(dir);
  const avail = st.bavail * st.bsize;
  const need = N * 1400;
  console.log(
    `${fint(N)} connections (sequential churn runs of ${fint(CHUNK)}) under one nettracer, sampled every ${o.soakSample} s; ` +
      `output ~${fx(need / 2 ** 30, 1)} GiB in ${dir} (${fx(avail / 2 ** 30, 1)} GiB available), deleted at the end`,
  );
  if (avail < 2 * need) throw new Error(`not enough space in ${dir}: ${fx(avail / 2 ** 30, 1)} GiB available, want ${fx((2 * need) / 2 ** 30, 1)}`);
  const haveSs = !!which('ss');
  if (!haveSs) note('ss (iproute2) not found: each run\'s records are counted once it ends (progress is coarser)');

  const out = tmpFile('soak.ndjson');
  const t = await startNettracer(out, ['--interval', '10', '--stats-interval', '10']);
  const samples = [];
  const runs = [];
  let final;
  let fileBytes = 0;
  try {
    const ids = bpfIds(t.pid);
    const own = mapMemory(ids.maps);
    let tableMaps = Object.fromEntries(TABLE_MAPS.map((n) => [n, own.find((m) => m.name === n)?.id]));
    if (Object.values(tableMaps).includes(undefined)) {
      note('the tracer\'s connection table maps were not found: "live" column empty');
      tableMaps = undefined;
    }
    const ports = new Set();
    const tail = new ChurnTail(out, ports);
    const t0 = Date.now();
    let done = 0; // connections of finished churn runs
    let phase = 'churn';
    // While a churn run has started but its port is not known yet, the tail
    // is not read: its records would go uncounted.
    let holdTail = false;
    const sample = () => {
      if (!holdTail) tail.poll();
      const m = memStatus(t.pid);
      const s = {
        s: (Date.now() - t0) / 1000,
        phase,
        done,
        seen: tail.counts.connect,
        rss: m.rssMiB,
        hwm: m.hwmMiB,
        cpu: cpuSeconds(t.pid),
        tracked: tail.stats?.connections_tracked,
        statsAt: tail.stats ? Date.parse(tail.stats.timestamp) : NaN,
        live: tableEntries(tableMaps),
        records: tail.lines,
        bytes: tail.offset,
      };
      samples.push(s);
      console.error(
        `  soak ${fx(s.s, 0)} s: ${fint(s.seen)} conns seen, ${fint(done)} done, RSS ${fx(s.rss, 1)} MiB, CPU ${fx(s.cpu, 1)} s, tracked ${fint(s.tracked)} (live ${fint(s.live)}), ${fint(s.records)} records`,
      );
    };
    let stopSampler = false;
    let samplerError;
    const sampler = (async () => {
      let next = Date.now();
      while (!stopSampler) {
        try {
          sample();
        } catch (err) {
          samplerError = err;
          return;
        }
        next += EVERY;
        while (!stopSampler && Date.now() < next) await sleep(Math.min(100, next - Date.now()));
      }
    })();

    try {
      while (done < N) {
        if (samplerError) throw samplerError;
        const n = Math.min(CHUNK, N - done);
        holdTail = true;
        const child = spawnTracked(CHURN, [String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        if (haveSs) {
          while (child.exitCode === null && child.signalCode === null) {
            const p = listenPortOf(child.pid);
            if (p) {
              ports.add(p);
              holdTail = false;
              break;
            }
            await sleep(10);
          }
        }
        const r = await waitExit(child, 15 * 60000);
        if (r.error || r.code !== 0) throw new Error(`churn exited ${r.error?.message ?? r.code ?? r.signal}: ${stderr.trim()}`);
        const c = JSON.parse(stdout.trim().split('\n').pop());
        if (holdTail) ports.add(c.port);
        else if (!ports.has(c.port)) throw new Error(`churn reported port ${c.port}, ss said otherwise`);
        holdTail = false;
        runs.push(c);
        done += c.connections;
      }
      const churnEnd = Date.now();
      phase = 'after';
      // The tracer catches up, then a periodic stats record taken after the
      // churn shows the table with nothing open.
      await tail.settle(() => tail.lifecycle >= 4 * N, { stallMs: 5000, timeoutMs: 180000 });
      await waitFor(
        () => {
          tail.poll();
          return tail.stats && Date.parse(tail.stats.timestamp) > churnEnd + 1000;
        },
        { timeoutMs: 30000, intervalMs: 500, what: 'a stats record after the churn' },
      ).catch((err) => note(err.message));
      if (Date.now() - t0 - samples[samples.length - 1].s * 1000 > 1000) sample();
    } finally {
      stopSampler = true;
      await sampler;
    }
    if (samplerError) throw samplerError;
    const hwm = memStatus(t.pid).hwmMiB;
    const cpuEnd = cpuSeconds(t.pid);
    await t.stop();
    tail.poll();
    final = tail.stats?.final ? tail.stats : undefined;
    fileBytes = tail.offset;

    // ---- table
    let shown = samples.map((_, i) => i);
    if (samples.length > 40) {
      const k = Math.ceil(samples.length / 40);
      shown = shown.filter((i) => i % k === 0 || i === samples.length - 1);
    }
    const rows = shown.map((i) => {
      const s = samples[i];
      return [
        fx(s.s, 0),
        s.phase,
        fint(s.done),
        fint(s.seen),
        fx(s.rss, 1),
        fx(s.cpu, 1),
        Number.isFinite(s.tracked) ? `${fint(s.tracked)} @${fx((s.statsAt - t0) / 1000, 0)}` : '-',
        fint(s.live),
        fint(s.records),
        fx(s.bytes / 2 ** 20, 0),
      ];
    });
    rows.push([
      'final',
      'stopped',
      fint(done),
      fint(tail.counts.connect),
      '-',
      fx(cpuEnd, 1),
      final ? fint(final.connections_tracked) : '(none)',
      '-',
      fint(tail.lines),
      fx(fileBytes / 2 ** 20, 0),
    ]);
    table(['t s', 'phase', 'conns done', 'conns seen', 'RSS MiB', 'CPU s', 'tracked @t', 'live', 'records', 'file MiB'], rows);
    if (shown.length < samples.length) console.log(`  (${shown.length} of ${samples.length} samples shown, evenly spaced)`);
    console.log('  (conns done: connections of the churn runs finished so far (runs of ' + fint(CHUNK) + ');');
    console.log('   conns seen: connect records of the churn read from the output so far; CPU: the tracer\'s time on CPU since it started;');
    console.log('   tracked @t: connections_tracked of the latest "stats" record (--stats-interval 10) and when it was');
    console.log('   written; live: entries in the tracer\'s connection table (bpftool map dump) at the sample; records: lines written)');
    const rates = runs.map((c) => c.rate);
    const churnS = sum(runs.map((c) => c.seconds));
    note(
      `soak: ${runs.length} churn runs, ${fint(sum(runs.map((c) => c.connections)))} connections in ${fx(churnS, 0)} s of churn, ` +
        `rate median ${fint(median(rates))}/s (min ${fint(Math.min(...rates))}, max ${fint(Math.max(...rates))}), ` +
        `${fint(sum(runs.map((c) => c.retries)))} connect retries; tracer CPU ${fx(cpuEnd, 1)} s, ${fx(((cpuEnd - samples[0].cpu) / N) * 1e6, 1)} us/conn after attaching; ` +
        `VmHWM ${fx(hwm, 1)} MiB; output ${fx(fileBytes / 2 ** 30, 2)} GiB (${fint(fileBytes / N)} B/conn)`,
    );

    // ---- verdicts
    // RSS: the garbage collector makes it a sawtooth, so single samples say
    // little; compare the peaks of the two halves of the run (by connections
    // seen). A leak of L bytes per connection raises the second half's peak
    // by about L x N/2.
    const first = samples.filter((s) => s.phase === 'churn' && s.seen < N / 2).map((s) => s.rss);
    const second = samples.filter((s) => s.seen >= N / 2 || s.phase !== 'churn').map((s) => s.rss);
    if (first.length < 2 || second.length < 2) {
      verdict('soak: RSS flat', undefined, `too few samples (${first.length} in the first half, ${second.length} in the second): raise --soak-n or lower --soak-sample`);
    } else {
      const m1 = Math.max(...first);
      const m2 = Math.max(...second);
      const detectable = (0.15 * m1 * 2 ** 20) / (N / 2);
      verdict(
        'soak: RSS flat',
        m2 <= 1.15 * m1,
        `max RSS second half ${fx(m2, 1)} MiB <= 1.15 x first half ${fx(m1, 1)} MiB (ratio ${fx(m2 / m1, 3)}; ` +
          `${first.length}+${second.length} samples; a leak of ~${fx(detectable, 0)} B/conn would fail)`,
      );
    }
    const live = samples[samples.length - 1].live;
    verdict(
      'soak: table occupancy returns to ~0 after churn',
      final ? final.connections_tracked <= 100 : false,
      final
        ? `connections_tracked ${fint(final.connections_tracked)} in the final stats record (<= 100), ${fint(live)} entries in the connection table after the churn`
        : 'no final stats record',
    );
    const found = tail.lifecycle;
    verdict(
      'soak: nothing lost',
      // As for the ceiling: a skipped program run is a loss only if a record is missing.
      found === 4 * N && final?.records_lost === 0,
      `${fint(found)} of ${fint(4 * N)} connect/accept/close records of the churn (${fint(tail.counts.connect)}/${fint(tail.counts.accept)}/${fint(tail.counts.close)}), ` +
        `records_lost ${final ? fint(final.records_lost) : '?'}, connections_untracked ${final ? fint(final.connections_untracked) : '?'} and hook_misses ${final ? fint(final.hook_misses) : '?'} in the final stats record` +
        (tail.other ? `; ${fint(tail.other)} records of other processes on the churn ports not counted` : '') +
        (tail.bad ? `; ${tail.bad} unparsable lines` : ''),
    );
  } finally {
    if (t.child.exitCode === null) t.child.kill('SIGKILL');
    fs.rmSync(out, { force: true });
  }
}

// ---------------------------------------------------------------- main

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    console.error('bench: run as root (loading BPF programs needs it)');
    process.exit(3);
  }
  compile();
  const started = Date.now();
  console.log(`nettracer bench: ${new Date().toISOString()}, ${os.cpus().length} CPUs, kernel ${os.release()}, node ${process.version}`);
  console.log(`noise at start: ${noiseLine()}`);
  const benches = {
    churn: benchChurn,
    throughput: benchThroughput,
    bpfstats: benchBpfStats,
    ceiling: benchCeiling,
    startup: benchStartup,
    memory: benchMemory,
    soak: benchSoak,
  };
  let failed = 0;
  for (const name of o.benches) {
    const t0 = Date.now();
    console.log(`\n== ${name} ==`);
    try {
      await benches[name](o);
    } catch (err) {
      failed++;
      console.log(`ERROR ${name}: ${err.message}`);
      verdicts.push(`ERROR ${name}: ${err.message.split('\n')[0]}`);
    }
    console.log(`(${name}: ${fx((Date.now() - t0) / 1000, 0)} s)`);
  }
  console.log(`\n== verdicts ==`);
  for (const v of verdicts) console.log(v);
  console.log(`noise at end: ${noiseLine()}`);
  console.log(`total ${fx((Date.now() - started) / 1000, 0)} s`);
  cleanupAll();
  process.exitCode = failed ? 1 : 0;
}

await main();
