// Running commands: every child is killed if the bench ends first (cleanup.ts).
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { track } from './cleanup.js';
import { ROOT } from './paths.js';

export interface Exit {
  code: number | null;
  signal: string | null;
  /** It could not be started. */
  error?: Error;
  /** waitExit() had to SIGKILL it. */
  killed?: boolean;
}

/** Something running whose end can be awaited. */
export interface Waitable {
  exited: Promise<Exit>;
  kill(signal: NodeJS.Signals): void;
}

export interface Spawned extends Waitable {
  child: ChildProcess;
  pid: number;
}

/** spawn() in the repository root, tracked for clean-up. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { cwd: ROOT, ...opts });
  const untrack = track(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err) => {
      untrack();
      resolve({ code: null, signal: null, error: err });
    });
    child.once('exit', (code, signal) => {
      untrack();
      resolve({ code, signal });
    });
  });
  return { child, pid: child.pid ?? -1, exited, kill: (s) => void child.kill(s) };
}

/** Waits for it to exit; SIGKILLs it after timeoutMs. */
export async function waitExit(w: Waitable, timeoutMs: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    w.exited,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (r) return r;
  w.kill('SIGKILL');
  return { ...(await w.exited), killed: true };
}

export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after timeoutMs, default 2 min). */
export async function run(
  cmd: string,
  args: string[],
  { timeoutMs = 120_000, ...opts }: SpawnOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  const p = spawnTracked(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let stdout = '';
  let stderr = '';
  p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const r = await waitExit(p, timeoutMs);
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { ...r, stdout, stderr };
}

/** Runs a short command synchronously; its stdout, or throws. */
export function sh(cmd: string, args: string[]): string {
  // maxBuffer: a dump of a table with 100k+ entries runs to hundreds of MB.
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

/** The path of an executable on PATH (or in /usr/sbin, /sbin), or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Polls pred until it returns a truthy value (returned), or throws after timeoutMs. */
export async function waitFor<T>(
  pred: () => T | Promise<T>,
  { timeoutMs, intervalMs = 200, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}
