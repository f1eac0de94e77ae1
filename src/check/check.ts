// `nettracer check`: can the tracer start here, and if not, what to do.
// The original's --test, and more: every item names its fix.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { CheckReport } from '../generated/records.js';
import { MAP_SIZE_DEFAULT, MAP_SIZE_MAX } from '../tracer/limits.js';
import { type BytesFrom, bytesFrom, HOOK_STRATEGIES } from '../tracer/hook-strategy.js';
import { type Identity, runIdentity } from '../tracer/identity.js';
import {
  type KernelProbe,
  loadNative,
  type NativeModule,
  type NativeTracer,
  type WalkReads,
} from '../tracer/native.js';

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
  const names = [
    has(CAP_BPF) && 'CAP_BPF',
    has(CAP_PERFMON) && 'CAP_PERFMON',
    has(CAP_SYS_ADMIN) && 'CAP_SYS_ADMIN',
  ].filter(Boolean);
  return {
    name: 'privileges',
    ok,
    required: true,
    detail: `${who}; ${names.length ? names.join(', ') : 'none of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN'}`,
    ...(ok ? {} : { fix: 'run as root (sudo nettracer ...), or grant CAP_BPF and CAP_PERFMON' }),
  };
}

/**
 * What a run keeps once attached: check drops as a run would (it is its
 * last step) and makes the running tracer's bpf() calls in that state.
 */
function afterAttaching(t: NativeTracer): Item {
  let identity: Identity;
  try {
    identity = runIdentity(undefined);
    return {
      name: 'after attaching',
      ok: true,
      required: true,
      detail: `runs as ${identity.name}, ${t.dropPrivileges(identity)}`,
    };
  } catch (err) {
    return {
      name: 'after attaching',
      ok: false,
      required: true,
      detail: (err as Error).message,
      fix: 'create the nettracer user (npm run setup does), or run with --keep-privileges',
    };
  }
}

/** What is wrong with the addon, in a person's words where the cause is the usual one. */
function addonProblem(err: NodeJS.ErrnoException): string {
  if (err.code === 'MODULE_NOT_FOUND') return 'the native addon is not built (build/Release/nettracer.node is missing)';
  return err.message.split('\n')[0];
}

/** How the loaded table walk reads sockets (NETTRACER_WALK_READS chooses; native/probe.h). */
export function walkReadsItem(reads: WalkReads): Item {
  const detail = {
    direct: 'direct loads (bpf_rdonly_cast, Linux 6.2+); NETTRACER_WALK_READS=probe takes probe reads',
    probe:
      'probe reads, one bpf_probe_read_kernel() per field (the same records, about twice the kernel time per connection)',
    none: 'no table walk (bpf_loop, Linux 5.17+, is missing): metrics walks go over every open file',
  }[reads];
  return { name: 'walk reads', ok: true, required: false, detail };
}

export function runCheck(tryLoad = true): CheckReport {
  const items: Item[] = [];
  const kernel = release();
  items.push({ name: 'kernel', ok: true, required: true, detail: `Linux ${kernel}` });

  let probe: KernelProbe | undefined;
  let native: NativeModule | undefined;
  try {
    native = loadNative();
    probe = native.probe();
  } catch (err) {
    items.push({
      name: 'addon',
      ok: false,
      required: true,
      detail: addonProblem(err as NodeJS.ErrnoException),
      fix: 'run the set-up command from the README (npm run setup)',
    });
  }

  const privileges = privilegeItem(process.geteuid?.() ?? -1, effectiveCaps());
  items.push(privileges);

  const hooks: string[] = [];
  let path: BytesFrom | null = null;
  if (probe) {
    items.push({
      name: 'btf',
      ok: probe.btf,
      required: true,
      detail: probe.btf ? '/sys/kernel/btf/vmlinux' : (probe.btfError ?? 'missing'),
      ...(probe.btf
        ? {}
        : {
            fix: "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.4+; most distribution kernels since 2020 are). An external BTF file (BTFHub) cannot stand in: nettracer's BTF-typed tracepoints and task_file iterator are checked against the kernel's own BTF when they load",
          }),
    });
    if (probe.btf) {
      // One item per row of the hook table (native/hooks.cc).
      for (const h of probe.hooks) {
        if (h.used && !hooks.includes(h.section)) hooks.push(h.section);
        const standIn = probe.hooks.find((x) => x.insteadOf === h.program && x.used);
        const ok = h.used || standIn !== undefined;
        // A stand-in the user turned off (native/probe.h): available, unused by choice.
        const declined = h.available && !h.used && h.insteadOf !== undefined && probe.walkReadsAsked === 'probe';
        const detail = standIn
          ? `available: ${h.section}, ${standIn.program} in its place`
          : declined
            ? 'available, unused: NETTRACER_WALK_READS=probe'
            : h.available
              ? h.used
                ? `available: ${h.section}`
                : `available, unused: the other ${h.group ?? ''} hooks are missing`
              : `missing (Linux ${h.since}+ has it): ${h.without}`;
        const fix = declined
          ? 'unset NETTRACER_WALK_READS for direct loads'
          : h.required
            ? 'upgrade the kernel'
            : 'nothing needed; upgrade the kernel for full fidelity';
        items.push({ name: h.kernelName, ok, required: h.required, detail, ...(ok ? {} : { fix }) });
      }
      path = bytesFrom(hooks, probe.hooks);
      items.push({
        name: 'byte counts',
        ok: true,
        required: false,
        detail:
          path === 'calls'
            ? `--hook-strategy auto takes calls here: ${HOOK_STRATEGIES.calls.summary}; counters is there too`
            : `--hook-strategy auto takes counters here, as the send and receive tracepoints are missing: ${HOOK_STRATEGIES.counters.summary}`,
      });
    }
  }

  const blockers = () => items.some((i) => i.required && !i.ok);
  if (native && tryLoad && !blockers()) {
    try {
      const t = new native.Tracer({ mapSize: MAP_SIZE_DEFAULT, withLoopback: false, verbose: false }, () => {});
      const attached = t.hooks();
      items.push({
        name: 'load',
        ok: true,
        required: true,
        detail: `loaded and attached ${attached.length} programs`,
      });
      items.push(walkReadsItem(t.walkReads()));
      items.push(afterAttaching(t));
      t.close();
      items.push({
        name: 'capacity',
        ok: true,
        required: true,
        detail: `${MAP_SIZE_DEFAULT} connections by default (--map-size up to ${MAP_SIZE_MAX})`,
      });
    } catch (err) {
      items.push({
        name: 'load',
        ok: false,
        required: true,
        detail: (err as Error).message,
        fix: "run with --verbose to see libbpf's messages",
      });
    }
  } else if (tryLoad) {
    items.push({
      name: 'load',
      ok: false,
      required: true,
      detail: 'not tried: a required item above failed',
      fix: 'fix the items above',
    });
  }

  const ok = !blockers();
  return { type: 'check', ok, kernel, hook_strategy: path, hooks, items };
}
