// Readers of /proc: a process's CPU time, memory, BPF objects, open files; other activity on the host.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { bpfObjectsOf } from '../../test/helpers/kernel.js';
import { sh } from './exec.js';

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(sh('getconf', ['CLK_TCK']).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** A process's time on CPU so far, all threads, in seconds. */
export function cpuSeconds(pid: number): number {
  // Each thread's time on CPU in ns (/proc/PID/task/TID/schedstat): utime and
  // stime count 10 ms ticks, too coarse for a 5,000-connection run (~15 ms).
  // Kernels without CONFIG_SCHED_INFO have no schedstat: ticks, then.
  if (!existsSync(`/proc/${pid}/schedstat`)) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / ticksPerSecond(); // fields 14 and 15
  }
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e9;
}

/** The time on CPU of a process's main thread (the one that runs its event loop: walks, timers), in seconds. */
export function mainThreadSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
}

/** VmRSS and VmHWM in MiB. */
export function memStatus(pid: number): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

/** The BPF program and map ids a process holds (its fds, per /proc/PID/fdinfo); none once it is gone. */
export function bpfIds(pid: number): { progs: Set<number>; maps: Set<number> } {
  const held = bpfObjectsOf(pid);
  return { progs: new Set(held.progs), maps: new Set(held.maps) };
}

/** What a process's descriptors point to (readlink of /proc/PID/fd/*). */
export function fdLinks(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

/** This process and its ancestors (npm's `sh -c node --import tsx ...` is not another test). */
function lineage(): Set<number> {
  const pids = new Set<number>();
  for (let pid = process.pid; pid > 1 && !pids.has(pid);) {
    pids.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // field 4: ppid
    } catch {
      break;
    }
  }
  return pids;
}

/** Other tracing/benchmark processes on the host (not ours: these pids, this process and its parents): noise to mention. */
export function otherActivity(children: readonly number[]): string[] {
  const mine = new Set([...lineage(), ...children]);
  const found: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || mine.has(Number(d))) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (/run\.c?js trace|tcplife|iperf3|traffic\.py|\bchurn\b|holdconns|node --test|--import tsx/.test(cmd)) {
      found.push(`${d}: ${cmd.slice(0, 90)}`);
    }
  }
  return found;
}

/** RLIMIT_NOFILE's hard limit (4096 when unknown). */
export function hardNofile(): number {
  try {
    const v = sh('bash', ['-c', 'ulimit -Hn']).trim();
    return v === 'unlimited' ? 1 << 20 : Number(v);
  } catch {
    return 4096;
  }
}
