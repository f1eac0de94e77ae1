// The load generators in C (bench/churn.c, bench/holdconns.c): compiled into
// bench/.build when their source is newer, and run.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, BUILD, CHURN, HOLD } from './paths.js';
import { run, sh, spawnTracked, type Spawned, waitExit } from './exec.js';
import { arr, num, obj } from './json.js';

export function compile(): void {
  mkdirSync(BUILD, { recursive: true });
  for (const [src, bin, extra] of [
    ['churn.c', CHURN, ['-pthread']],
    ['holdconns.c', HOLD, []],
  ] as const) {
    const s = join(BENCH, src);
    let fresh = false;
    try {
      fresh = statSync(bin).mtimeMs >= statSync(s).mtimeMs;
    } catch {
      // not built yet
    }
    if (!fresh) sh('gcc', ['-O2', '-Wall', '-Wextra', ...extra, '-o', bin, s]);
  }
}

/** What churn prints when done. */
export interface ChurnResult {
  connections: number;
  seconds: number;
  /** Connections per second. */
  rate: number;
  /** The listener's port: the server end of every connection. */
  port: number;
  pid: number;
  /** connect() calls that failed and were retried. */
  retries: number;
}

/** churn's last line of output. */
export function parseChurn(stdout: string): ChurnResult {
  const j = obj(JSON.parse(stdout.trim().split('\n').pop() ?? '') as unknown, 'churn output');
  return {
    connections: num(j, 'connections'),
    seconds: num(j, 'seconds'),
    rate: num(j, 'rate'),
    port: num(j, 'port'),
    pid: num(j, 'pid'),
    retries: num(j, 'retries'),
  };
}

/** N sequential loopback connections (bench/churn.c). */
export async function churn(n: number): Promise<ChurnResult> {
  const r = await run(CHURN, [String(n)], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`churn exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return parseChurn(r.stdout);
}

export interface Holder {
  p: Spawned;
  /** Its listeners' ports. */
  ports: number[];
  /** Closes its connections (a line on its stdin) and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * A holdconns process with n open connections to k listeners on 127.0.0.FIRST...; resolves once all are open.
 * In network namespace `netns` (its name) when given.
 */
export async function hold(n: number, k: number, first: number, netns?: string): Promise<Holder> {
  const args = [String(n), String(k), String(first)];
  const p = netns
    ? spawnTracked('ip', ['netns', 'exec', netns, HOLD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawnTracked(HOLD, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holdconns not ready within 120 s: ${err}`)), 120_000);
    p.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(out.split('\n')[0]));
      }
    });
    void p.exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`holdconns exited (${r.error?.message ?? r.code ?? r.signal}): ${err.trim()}`));
    });
  });
  const listeners = arr(obj(ready, 'holdconns ready line').listeners, 'holdconns listeners');
  return {
    p,
    ports: listeners.map((l) => num(obj(l, 'holdconns listener'), 'port')),
    async close() {
      p.child.stdin?.end('\n');
      await waitExit(p, 60_000);
    },
  };
}
