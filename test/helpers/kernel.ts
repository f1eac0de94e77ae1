// What a process holds in the kernel, read from outside it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface BpfObjects {
  progs: number[];
  maps: number[];
  links: number[];
}

/** BPF programs, maps and links a process holds, from /proc/PID/fdinfo; none once it is gone. */
export function bpfObjectsOf(pid: number): BpfObjects {
  const out: BpfObjects = { progs: [], maps: [], links: [] };
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const link = /^link_id:\s+(\d+)/m.exec(info);
    const prog = /^prog_id:\s+(\d+)/m.exec(info);
    const map = /^map_id:\s+(\d+)/m.exec(info);
    if (link) out.links.push(Number(link[1]));
    else if (prog) out.progs.push(Number(prog[1]));
    else if (map) out.maps.push(Number(map[1]));
  }
  return out;
}

function ids(kind: 'prog' | 'map' | 'link'): Set<number> {
  const list = JSON.parse(execFileSync('bpftool', [kind, 'show', '--json'], { encoding: 'utf8' })) as { id: number }[];
  return new Set(list.map((x) => x.id));
}

/** Which of these objects still exist in the kernel. */
export function stillLoaded(o: BpfObjects): BpfObjects {
  const progs = ids('prog');
  const maps = ids('map');
  const links = ids('link');
  return {
    progs: o.progs.filter((i) => progs.has(i)),
    maps: o.maps.filter((i) => maps.has(i)),
    links: o.links.filter((i) => links.has(i)),
  };
}

/** Waits (the kernel frees after an RCU grace period) until none of them exist; returns what is left. */
export async function waitUnloaded(o: BpfObjects, ms = 5000): Promise<BpfObjects> {
  const until = Date.now() + ms;
  let left = stillLoaded(o);
  while (left.progs.length + left.maps.length + left.links.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = stillLoaded(o);
  }
  return left;
}

/** Anything pinned in bpffs. */
export function pinned(): string[] {
  try {
    return readdirSync('/sys/fs/bpf', { recursive: true }) as string[];
  } catch {
    return [];
  }
}

export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
