// Starting a real nettracer and waiting until it traces: the one place tests
// and bench do it. The tracer writes one JSON line to --ready-fd once its
// programs are attached, its output is open and its privileges dropped; a
// tracer that exits first, or takes longer than the timeout, fails loudly
// with what it printed on stderr.
import { execa, type ResultPromise } from 'execa';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../src/root.js';

export const RUN = join(ROOT, 'bin', 'run.cjs');

/** What nettracer writes to --ready-fd (src/run/trace-run.ts, readyLine()). */
export interface Ready {
  ready: true;
  pid: number;
  hooks: string[];
  attach_ms: number;
  user: string;
}

export interface LaunchOptions {
  /** Default: trace. */
  command?: 'trace' | 'summarize' | 'agent';
  /** Another build's entry point (bench --baseline): default, this checkout's bin/run.cjs. */
  bin?: string;
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Where the tracer's standard output goes: a pipe (default), nowhere, or a file. */
  stdout?: 'pipe' | 'ignore' | { file: string };
  /** Default 30 s: a loaded machine may take long to verify the programs. */
  timeoutMs?: number;
  /**
   * How to know it traces: the ready descriptor (default), or, for builds
   * older than --ready-fd, the "attached ... tracing" line of --verbose.
   */
  readyBy?: 'fd' | 'verbose';
}

export interface Launched {
  proc: ResultPromise;
  pid: number;
  ready: Ready;
  /** Everything written on stderr so far. */
  stderr: () => string;
  /** With stdout 'pipe': its lines so far (read from the start: execa drops what is not read at once). */
  lines: string[];
  /** Resolves when every line of stdout has been read. */
  drained: Promise<void>;
}

const launched = new Set<ResultPromise>();

/** Kills every tracer launch() started that is still running (a test or bench that failed half-way). */
export function killLaunched(): void {
  for (const p of launched) p.kill('SIGKILL');
  launched.clear();
}

/** Builds older than --ready-fd say this on stderr with --verbose, just before tracing. */
const VERBOSE_READY = /nettracer: attached in ([\d.]+) ms; tracing/;

export async function launch(args: string[], opts: LaunchOptions = {}): Promise<Launched> {
  const byFd = opts.readyBy !== 'verbose';
  const extra = byFd ? ['--ready-fd', '3'] : args.includes('--verbose') ? [] : ['--verbose'];
  const proc = execa(
    process.execPath,
    [...(opts.nodeArgs ?? []), opts.bin ?? RUN, opts.command ?? 'trace', ...args, ...extra],
    {
      reject: false,
      buffer: false,
      cwd: ROOT,
      env: opts.env,
      stdio: byFd ? ['ignore', opts.stdout ?? 'pipe', 'pipe', 'pipe'] : ['ignore', opts.stdout ?? 'pipe', 'pipe'],
    },
  );
  launched.add(proc);
  // The child's exit, not the promise: awaiting an execa promise with
  // buffer: false sets its output flowing, and what the caller has not
  // started reading yet would be lost.
  proc.once('exit', () => launched.delete(proc));
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  let drained = Promise.resolve();
  if (proc.stdout) {
    const rl = createInterface({ input: proc.stdout });
    rl.on('line', (l) => lines.push(l));
    drained = once(rl, 'close').then(() => undefined);
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ready = await new Promise<Ready>((resolve, reject) => {
    // Once ready, a later exit is the caller's to see (proc resolves).
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`nettracer ${why} before it was tracing; stderr: ${stderr.trim() || '(empty)'}`));
    };
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      fail(`took more than ${timeoutMs} ms`);
    }, timeoutMs);
    proc.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    if (byFd) {
      let line = '';
      const fd3 = proc.stdio[3] as NodeJS.ReadableStream;
      fd3.on('data', (d: Buffer) => (line += d.toString()));
      fd3.on('end', () => {
        if (!line) return; // exited without a word: the exit handler says so
        clearTimeout(timer);
        resolve(JSON.parse(line) as Ready);
      });
    } else {
      proc.stderr.on('data', () => {
        const m = VERBOSE_READY.exec(stderr);
        if (!m) return;
        clearTimeout(timer);
        resolve({ ready: true, pid: proc.pid!, hooks: [], attach_ms: Number(m[1]), user: '' });
      });
    }
  });
  return { proc, pid: proc.pid!, ready, stderr: () => stderr, lines, drained };
}
