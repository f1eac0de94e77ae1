// Network namespaces for tests: created with ip(8), always deleted.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

export function netnsExec(ns: string, ...cmd: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: 'pipe' });
}

/** The inode the tracer reports as netns (as `stat -L -c %i /proc/PID/ns/net` shows). */
export function netnsInode(ns: string): number {
  return statSync(`/var/run/netns/${ns}`).ino;
}

export function deleteNetns(...names: string[]): void {
  for (const n of names) {
    try {
      ip('netns', 'del', n);
    } catch {
      // already gone
    }
  }
}

/** A namespace with loopback up. */
export function createNetns(name: string): void {
  deleteNetns(name);
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
}

/** Two namespaces joined by a veth pair: a has addrA, b has addrB (IPv4 /24). */
export function createVethPair(a: string, b: string, addrA: string, addrB: string): void {
  createNetns(a);
  createNetns(b);
  ip('-n', a, 'link', 'add', 'nt0', 'type', 'veth', 'peer', 'name', 'nt1', 'netns', b);
  ip('-n', a, 'addr', 'add', `${addrA}/24`, 'dev', 'nt0');
  ip('-n', b, 'addr', 'add', `${addrB}/24`, 'dev', 'nt1');
  ip('-n', a, 'link', 'set', 'nt0', 'up');
  ip('-n', b, 'link', 'set', 'nt1', 'up');
}
