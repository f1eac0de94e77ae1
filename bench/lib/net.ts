// Networking for the benchmarks: iperf3 servers and clients, a veth pair
// between two network namespaces, ports.
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './cleanup.js';
import { run, sh, spawnTracked, waitExit } from './exec.js';
import { isObj } from './json.js';
import { freePort } from '../../test/helpers/ports.js';

export { freePort };

/** [cmd, args] for `iperf3 ARGS`, run inside a network namespace when nsPrefix (ip netns exec NS) is given. */
const iperfCmd = (nsPrefix: string[], args: string[]): [string, string[]] =>
  nsPrefix.length ? [nsPrefix[0], [...nsPrefix.slice(1), 'iperf3', ...args]] : ['iperf3', args];

export interface IperfServer {
  port: number;
  stop(): Promise<void>;
}

/** An iperf3 server on a free port (inside a namespace when a prefix is given). */
export async function startIperfServer(nsPrefix: string[]): Promise<IperfServer> {
  const port = await freePort();
  const [cmd, args] = iperfCmd(nsPrefix, ['-s', '-p', String(port)]);
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
export async function iperf(nsPrefix: string[], host: string, port: number, secs: number): Promise<number> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    const [cmd, args] = iperfCmd(nsPrefix, ['-c', host, '-p', String(port), '-t', String(secs), '-J']);
    const r = await run(cmd, args, { timeoutMs: (secs + 30) * 1000 });
    let j: unknown;
    try {
      j = JSON.parse(r.stdout);
    } catch {
      // no JSON: the error is on stderr
    }
    const end = isObj(j) && isObj(j.end) ? j.end : undefined;
    const received = end && isObj(end.sum_received) ? end.sum_received : undefined;
    if (r.code === 0 && received && typeof received.bits_per_second === 'number') return received.bits_per_second / 1e9;
    last = isObj(j) && typeof j.error === 'string' ? j.error : r.stderr.trim() || `exit ${r.code}`;
    await sleep(300);
  }
  throw new Error(`iperf3 client failed: ${last}`);
}

export interface Netns {
  nsA: string;
  nsB: string;
  /** The address of the server's end, in nsA. */
  server: string;
  /** Deletes them (also done at clean-up). */
  release: () => void;
}

/** Two network namespaces (ntbench-PID-a/b) joined by a veth pair, 10.231.0.1 and .2/24. */
export function setupNetns(): Netns {
  const tag = `${process.pid}`;
  const nsA = `ntbench-${tag}-a`;
  const nsB = `ntbench-${tag}-b`;
  const vA = `ntb${tag}a`.slice(0, 15);
  const vB = `ntb${tag}b`.slice(0, 15);
  const undo: (() => void)[] = [];
  const release = (): void => {
    for (let f = undo.pop(); f; f = undo.pop()) {
      try {
        f();
      } catch {
        // already gone
      }
    }
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
      } catch {
        // moved, or gone
      }
    });
    sh('ip', ['link', 'set', vA, 'netns', nsA]);
    sh('ip', ['link', 'set', vB, 'netns', nsB]);
    sh('ip', ['-n', nsA, 'addr', 'add', '10.231.0.1/24', 'dev', vA]);
    sh('ip', ['-n', nsB, 'addr', 'add', '10.231.0.2/24', 'dev', vB]);
    for (const [ns, dev] of [
      [nsA, vA],
      [nsB, vB],
    ]) {
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    releaseAll();
    throw err;
  }
  return { nsA, nsB, server: '10.231.0.1', release: releaseAll };
}

/** The listening port of process pid (per `ss -ltnp`), or undefined. */
export function listenPortOf(pid: number): number | undefined {
  let out: string;
  try {
    out = sh('ss', ['-Hltnp']);
  } catch {
    return undefined;
  }
  for (const l of out.split('\n')) {
    if (!l.includes(`pid=${pid},`)) continue;
    const m = l
      .trim()
      .split(/\s+/)[3]
      ?.match(/:(\d+)$/);
    if (m) return Number(m[1]);
  }
  return undefined;
}
