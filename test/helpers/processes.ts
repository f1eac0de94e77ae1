// Spawning the real tracer and the traffic generator for end-to-end tests.
// Every child is killed when the test file ends, also when a test fails.
import { execa, type ResultPromise } from 'execa';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../src/root.js';
import { killLaunched, launch, type LaunchOptions, type Ready, RUN } from './launch.js';

export { ROOT, RUN };
const TRAFFIC = join(ROOT, 'test', 'helpers', 'traffic.py');

const children = new Set<ResultPromise>();

/**
 * Runs nettracer ARGS as the user nobody with only the capabilities `caps`
 * (setpriv syntax, default none), as an ordinary user of the host would.
 */
export function asNobody(args: string[], opts: { caps?: string; env?: Record<string, string> } = {}) {
  const caps = opts.caps ?? '-all';
  const ambient = opts.caps ? [`--ambient-caps=${caps}`] : [];
  return execa(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      `--inh-caps=${caps}`,
      ...ambient,
      `--bounding-set=${caps}`,
      process.execPath,
      RUN,
      ...args,
    ],
    { reject: false, cwd: ROOT, timeout: 30_000, env: opts.env ?? { HOME: '/tmp' } },
  );
}

export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  killLaunched();
}

function track<T extends ResultPromise>(p: T): T {
  children.add(p);
  p.finally(() => children.delete(p)).catch(() => {});
  return p;
}

export interface TracerProcess {
  pid: number;
  lines: string[];
  stderr: () => string;
  /** What the tracer said when it was ready (hooks, user, attach time). */
  ready: Ready;
  /** SIGINT, then the exit status once it has flushed and exited. */
  stop(): Promise<number | undefined>;
  exited: Promise<{ exitCode?: number; signal?: string }>;
}

/** Starts `nettracer trace ARGS` and resolves once it is tracing (its ready line). */
export async function startTracer(args: string[], opts: LaunchOptions = {}): Promise<TracerProcess> {
  const { proc, ready, stderr, lines, drained } = await launch(args, opts);
  const exited = proc.then(async (r) => {
    await drained;
    return { exitCode: r.exitCode, signal: r.signal };
  });
  return {
    pid: proc.pid!,
    lines,
    stderr,
    ready,
    exited,
    async stop() {
      proc.kill('SIGINT');
      const r = await exited;
      return r.exitCode;
    },
  };
}

/**
 * The two ways nettracer counts bytes (--hook-strategy), as arguments: the
 * truth tests run under both, side by side on the same traffic.
 */
export const PATHS = { calls: ['-b', 'calls'], counters: ['-b', 'counters'] } as const;
export type PathName = keyof typeof PATHS;

/** A tracer on each path with the same arguments. */
export async function startOnBothPaths(args: string[]): Promise<[PathName, TracerProcess][]> {
  const names = Object.keys(PATHS) as PathName[];
  const tracers = await Promise.all(names.map((p) => startTracer([...args, ...PATHS[p]])));
  return names.map((p, i) => [p, tracers[i]]);
}

export interface Endpoint {
  addr: string;
  port: number;
}
export interface TcpInfo {
  rtt_us: number;
  rttvar_us: number;
  total_retrans: number;
  bytes_acked: number;
  bytes_received: number;
  segs_out: number;
  segs_in: number;
}
export interface GeneratedConnection {
  family: 4 | 6;
  client: Endpoint;
  server: Endpoint;
  client_sent: number;
  client_received: number;
  server_sent: number;
  server_received: number;
  client_tcp_info: TcpInfo;
  server_tcp_info: TcpInfo;
}
export interface TrafficSpec {
  connections: { family: 4 | 6; client_bytes: number; server_bytes: number }[];
  hold: number;
  /** Open and exchange before run(): connections older than the tracers. */
  preopen?: boolean;
}

export interface Generator {
  pid: number;
  ports: Record<string, number>;
  /**
   * Starts the traffic; resolves with what the generator measured, after every
   * connection closed. `onOpen` sees the connections while they are held open
   * (their ends and bytes; no TCP_INFO yet).
   */
  run(onOpen?: (open: GeneratedConnection[]) => void): Promise<GeneratedConnection[]>;
}

/** Starts test/helpers/traffic.py; it binds its listeners and waits for run(). */
export async function startGenerator(spec: TrafficSpec): Promise<Generator> {
  const proc = track(
    execa('python3', [TRAFFIC, JSON.stringify(spec)], { reject: false, buffer: false, stdin: 'pipe' }),
  );
  const rl = createInterface({ input: proc.stdout });
  const messages: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  rl.on('line', (l) => {
    const m = JSON.parse(l) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const m = messages.shift();
      if (m) return resolve(m);
      waiters.push(resolve);
      // Its output's end, not its exit: 'exit' may come before the last lines are read (a slow machine).
      rl.once('close', () => reject(new Error(`traffic generator ended its output (exit ${proc.exitCode})`)));
    });
  const ready = (await next()) as { pid: number; ports: Record<string, number> };
  return {
    pid: ready.pid,
    ports: ready.ports,
    async run(onOpen) {
      proc.stdin.write('go\n');
      const open = await next();
      if (open.phase !== 'open') throw new Error(`unexpected ${JSON.stringify(open)}`);
      onOpen?.(open.connections as GeneratedConnection[]);
      const closed = (await next()) as { connections: GeneratedConnection[] };
      await once(proc, 'exit');
      return closed.connections;
    },
  };
}
