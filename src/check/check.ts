// `nettracer check`: can the tracer start here, and if not, what to do.
// The original's --test, and more: every item names its fix.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { CheckReport } from '../generated/records.js';
import { MAP_SIZE_DEFAULT, MAP_SIZE_MAX } from '../tracer/limits.js';
import { loadNative } from '../tracer/native.js';

type Item = CheckReport['items'][number];

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capabilities of this process, from /proc/self/status. */
export function effectiveCaps(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s+([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function privilegeItem(euid: number, caps: bigint): Item {
  const has = (c: bigint) => (caps & (1n << c)) !== 0n;
  const ok = (has(CAP_BPF) && has(CAP_PERFMON)) || has(CAP_SYS_ADMIN);
  const who = euid === 0 ? 'root' : `uid ${euid}`;
  const names = [has(CAP_BPF) && 'CAP_BPF', has(CAP_PERFMON) && 'CAP_PERFMON', has(CAP_SYS_ADMIN) && 'CAP_SYS_ADMIN'].filter(Boolean);
  return {
    name: 'privileges',
    ok,
    required: true,
    detail: `${who}; ${names.length ? names.join(', ') : 'none of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN'}`,
    ...(ok ? {} : { fix: 'run as root (sudo nettracer ...), or grant CAP_BPF and CAP_PERFMON' }),
  };
}

interface Probe {
  btf: boolean;
  btfError?: string;
  tracepoints: Record<string, boolean>;
  iterTaskFile: boolean;
}

const TRACEPOINTS: { name: string; hook: string; required: boolean; without: string }[] = [
  { name: 'sock:inet_sock_set_state', hook: 'tp_btf/inet_sock_set_state', required: true, without: 'no connection life cycle: Linux 4.16 or later is needed' },
  { name: 'tcp:tcp_destroy_sock', hook: 'tp_btf/tcp_destroy_sock', required: false, without: 'a socket freed without passing through CLOSE leaves its entry until the table is full' },
  { name: 'sock:sock_send_length', hook: 'tp_btf/sock_send_length', required: false, without: 'bytes come from TCP counters (acknowledged and received bytes) instead of the application\'s calls, and an accepted connection gets its owner when it closes or at the next metrics walk rather than at its first send (Linux 6.3+ has it)' },
  { name: 'sock:sock_recv_length', hook: 'tp_btf/sock_recv_length', required: false, without: 'bytes come from TCP counters instead of the application\'s calls (Linux 6.3+ has it)' },
];

export function runCheck(tryLoad = true): CheckReport {
  const items: Item[] = [];
  const kernel = release();
  items.push({ name: 'kernel', ok: true, required: true, detail: `Linux ${kernel}` });

  let probe: Probe | undefined;
  let native;
  try {
    native = loadNative();
    probe = native.probe() as Probe;
  } catch (err) {
    items.push({ name: 'addon', ok: false, required: true, detail: (err as Error).message.split('\n')[0], fix: 'run the set-up command from the README (npm run setup)' });
  }

  const privileges = privilegeItem(process.geteuid?.() ?? -1, effectiveCaps());
  items.push(privileges);

  const hooks: string[] = [];
  if (probe) {
    items.push({
      name: 'btf',
      ok: probe.btf,
      required: true,
      detail: probe.btf ? '/sys/kernel/btf/vmlinux' : probe.btfError ?? 'missing',
      ...(probe.btf ? {} : { fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2020 are)' }),
    });
    if (probe.btf) {
      for (const tp of TRACEPOINTS) {
        const ok = probe.tracepoints[tp.name] === true;
        if (ok) hooks.push(tp.hook);
        items.push({
          name: tp.name,
          ok,
          required: tp.required,
          detail: ok ? `available: ${tp.hook}` : `missing: ${tp.without}`,
          ...(ok ? {} : { fix: tp.required ? 'upgrade the kernel' : 'nothing needed; upgrade the kernel for full fidelity' }),
        });
      }
      if (probe.iterTaskFile) hooks.push('iter/task_file');
      items.push({
        name: 'iter/task_file',
        ok: probe.iterTaskFile,
        required: true,
        detail: probe.iterTaskFile ? 'available: periodic metrics of every process\'s sockets' : 'missing: Linux 5.8 or later is needed',
        ...(probe.iterTaskFile ? {} : { fix: 'upgrade the kernel' }),
      });
    }
  }

  const blockers = () => items.some((i) => i.required && !i.ok);
  if (native && tryLoad && !blockers()) {
    try {
      const t = new native.Tracer({ mapSize: MAP_SIZE_DEFAULT, withLoopback: false, verbose: false }, () => {});
      const attached = t.hooks();
      t.close();
      items.push({ name: 'load', ok: true, required: true, detail: `loaded and attached ${attached.length} programs, then detached` });
      items.push({ name: 'capacity', ok: true, required: true, detail: `${MAP_SIZE_DEFAULT} connections by default (--map-size up to ${MAP_SIZE_MAX})` });
    } catch (err) {
      items.push({ name: 'load', ok: false, required: true, detail: (err as Error).message, fix: 'run with --verbose to see libbpf\'s messages' });
    }
  } else if (tryLoad) {
    items.push({ name: 'load', ok: false, required: true, detail: 'not tried: a required item above failed', fix: 'fix the items above' });
  }

  const ok = !blockers();
  return { type: 'check', ok, kernel, hook_strategy: probe?.btf ? 'tp_btf' : null, hooks, items };
}
