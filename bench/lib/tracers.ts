// Starting and stopping the tracers measured: nettracer (this checkout's or
// --baseline's build, through test/helpers/launch.ts) and tcplife.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch, type Ready } from '../../test/helpers/launch.js';
import { onCleanup } from './cleanup.js';
import { type Exit, sh, spawnTracked, waitExit, waitFor, which } from './exec.js';
import { fdLinks } from './proc.js';
import { note } from './report.js';
import { sum } from './stats.js';

/** A tracer running for a measurement. */
export interface Running {
  pid: number;
  stderr(): string;
  /** Stops it cleanly; throws if it does not. */
  stop(): Promise<void>;
  /** SIGKILL if it still runs (after an error). */
  kill(): void;
}

export interface Nettracer extends Running {
  ready: Ready;
  signal(sig: NodeJS.Signals): void;
}

/** A build of nettracer: this checkout's, or another checkout's (--baseline). */
export interface Build {
  label: 'nettracer' | 'baseline';
  /** Its bin/run.cjs; undefined: this checkout's. */
  bin?: string;
  /** Builds older than --ready-fd say when they trace on --verbose stderr. */
  readyBy: 'fd' | 'verbose';
}

export const THIS_BUILD: Build = { label: 'nettracer', readyBy: 'fd' };

/** The build in checkout dir (built already), which predates --ready-fd. */
export const baselineBuild = (dir: string): Build => ({
  label: 'baseline',
  bin: join(dir, 'bin', 'run.cjs'),
  readyBy: 'verbose',
});

/** Starts `nettracer trace --with-loopback --output FILE ARGS`; resolves once it traces. */
export async function startNettracer(
  outFile: string,
  extra: string[] = [],
  { build = THIS_BUILD, nodeArgs = [] }: { build?: Build; nodeArgs?: string[] } = {},
): Promise<Nettracer> {
  // Killed at clean-up if still running (killLaunched()).
  const t = await launch(['--with-loopback', '--output', outFile, ...extra], {
    bin: build.bin,
    nodeArgs,
    stdout: 'ignore',
    readyBy: build.readyBy,
  });
  const exited = t.proc.then((r): Exit => ({ code: r.exitCode ?? null, signal: r.signal ?? null }));
  const alive = (): boolean => t.proc.exitCode === null && t.proc.signalCode === null;
  return {
    pid: t.pid,
    ready: t.ready,
    stderr: t.stderr,
    signal: (sig) => void t.proc.kill(sig),
    kill: () => {
      if (alive()) t.proc.kill('SIGKILL');
    },
    async stop() {
      t.proc.kill('SIGINT');
      const r = await waitExit({ exited, kill: (s) => void t.proc.kill(s) }, 60_000);
      if (r.killed) throw new Error(`${build.label} did not stop within 60 s of SIGINT (killed)`);
      if (r.code !== 0)
        throw new Error(`${build.label} exited ${r.code ?? r.signal}: ${t.stderr().trim().slice(-500)}`);
    },
  };
}

let tracefsChecked = false;
/** tcplife (libbpf) attaches through tracefs: mount it for the run if it is not. */
function ensureTracefs(): void {
  if (tracefsChecked) return;
  tracefsChecked = true;
  if (existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events')) return;
  sh('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing']);
  note('mounted tracefs on /sys/kernel/tracing for tcplife (unmounted at the end)');
  onCleanup('umount tracefs', () => sh('umount', ['/sys/kernel/tracing']));
}

/** Starts tcplife writing to outFile; resolves once its probe and perf buffers exist. */
export async function startTcplife(outFile: string): Promise<Running> {
  ensureTracefs();
  const fd = openSync(outFile, 'w');
  const t0 = Date.now();
  let p;
  try {
    p = spawnTracked(which('tcplife') ?? 'tcplife', [], { stdio: ['ignore', fd, 'pipe'] });
  } finally {
    closeSync(fd);
  }
  const child = p;
  let stderr = '';
  child.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let dead: Exit | undefined;
  void child.exited.then((r) => (dead = r));
  const ncpu = cpus().length;
  // One perf event for the tracepoint, one per CPU for the perf buffer: the
  // buffer is set up after attaching, just before the header is printed.
  await waitFor(
    () => {
      if (dead)
        throw new Error(`tcplife exited (${dead.error?.message ?? dead.code ?? dead.signal}): ${stderr.trim()}`);
      const perf = fdLinks(child.pid).filter((l) => l.includes('perf_event')).length;
      return perf >= 1 + ncpu && Date.now() - t0 >= 1500;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: 'tcplife to attach' },
  );
  await sleep(200);
  return {
    pid: child.pid,
    stderr: () => stderr,
    kill: () => {
      if (child.child.exitCode === null && child.child.signalCode === null) child.kill('SIGKILL');
    },
    async stop() {
      child.kill('SIGINT');
      const r = await waitExit(child, 20_000);
      if (r.killed) throw new Error('tcplife did not stop within 20 s (killed)');
    },
  };
}

/** tcplife lines whose LPORT or RPORT is in ports; and the perf buffer's reported losses. */
export function countTcplife(
  outFile: string,
  ports: ReadonlySet<number>,
  stderr: string,
): { lines: number; lost: number } {
  let lines = 0;
  for (const l of readFileSync(outFile, 'utf8').split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length < 9) continue;
    const lport = Number(f[f.length - 6]);
    const rport = Number(f[f.length - 4]);
    if (ports.has(lport) || ports.has(rport)) lines++;
  }
  const lost = sum([...stderr.matchAll(/lost (\d+) events/g)].map((m) => Number(m[1])));
  return { lines, lost };
}
