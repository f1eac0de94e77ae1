// Where nettracer runs: the kernel features it needs besides its hooks
// (whose first versions are in the hook table, native/hooks.cc), when each
// reached mainline Linux, and what the common distributions ship. The man
// page's KERNELS section and the README's table are generated from this
// (scripts/gen/support.ts). Versions and commits come from the kernel's
// history as iovisor/bcc's docs/kernel-versions.md and isovalent's ebpf-docs
// record it; "by date" marks a version read from the commit's merge window.

export interface KernelFeature {
  /** What nettracer uses. */
  name: string;
  /** First mainline release with it. */
  since: string;
  /** The commit that added it (12 hex digits). */
  commit: string;
  /** What nettracer does with it. */
  use: string;
  /** Only counted, not needed: tracing works without it. */
  optional?: true;
}

export const KERNEL_FEATURES: readonly KernelFeature[] = [
  {
    name: 'global data (.data, .bss, .rodata)',
    since: '5.2',
    commit: 'd8eca5bbb2be',
    use: 'filters and settings written before load and while tracing',
  },
  {
    name: '/sys/kernel/btf/vmlinux',
    since: '5.4',
    commit: '341dfcf8d78e',
    use: 'CO-RE relocation, and the types every hook is checked against',
  },
  {
    name: 'BTF-typed raw tracepoints (tp_btf)',
    since: '5.5',
    commit: 'f1b9509c2fb0',
    use: 'every tracepoint program, reading socket fields with direct loads',
  },
  {
    name: 'memory-mapped array maps',
    since: '5.5',
    commit: 'fc9702273e2e',
    use: 'the health counters read without a system call',
  },
  {
    name: 'bpf_probe_read_kernel_str()',
    since: '5.5',
    commit: '6ae08ae3dea2',
    use: "a process's name in a metrics walk",
  },
  {
    name: 'BPF ring buffer',
    since: '5.8',
    commit: '457f44363a88',
    use: 'connect, accept and close records to user space',
  },
  { name: 'BPF iterators', since: '5.8', commit: '180139dca8b3', use: 'metrics walks, run on demand' },
  {
    name: 'bpf_ktime_get_boot_ns()',
    since: '5.8',
    commit: '71d19214776e',
    use: 'timestamps that go on across suspend',
  },
  { name: 'CAP_BPF and CAP_PERFMON', since: '5.8', commit: 'a17b53c4a4b5', use: 'tracing without root' },
  { name: 'bpf_skc_to_tcp_sock()', since: '5.9', commit: '478cfbdf5f13', use: 'the TCP counters of a socket' },
  {
    name: 'bpf_sock_from_file()',
    since: '5.11',
    commit: '4f19cab76136',
    use: 'the sockets among the files a metrics walk visits',
  },
  {
    name: 'bpf_get_current_task_btf()',
    since: '5.11',
    commit: '3ca1032ab7ab',
    use: "the owner's name and cgroup by direct loads",
  },
  {
    name: 'atomic xchg, cmpxchg and fetch-add',
    since: '5.12',
    commit: '5ffa25502b5a',
    use: 'the connection table claimed without a lock (x86-64; other JITs later)',
  },
  {
    name: 'bpf_get_socket_cookie() in tracing (by date)',
    since: '5.12',
    commit: 'c5dbb89fc2ac',
    use: "a connection's id",
  },
  {
    name: 'bpf_prog_info.recursion_misses',
    since: '5.12',
    commit: '9ed9e9ba2337',
    use: 'hook_misses: program runs the kernel skipped',
    optional: true,
  },
];

export interface Distribution {
  name: string;
  /** The kernel its current release ships by default. */
  kernel: string;
  /** What changes the answer the version alone gives. */
  note?: string;
  /** Its kernel has no BTF in sysfs: no path at all. */
  noBtf?: true;
}

export const DISTRIBUTIONS: readonly Distribution[] = [
  { name: 'Debian 12 (bookworm)', kernel: '6.1' },
  { name: 'Debian 13 (trixie)', kernel: '6.12' },
  { name: 'Ubuntu 20.04', kernel: '5.4', note: 'its kernel has no BTF in sysfs', noBtf: true },
  { name: 'Ubuntu 22.04', kernel: '5.15', note: 'the 6.8 HWE kernel of 22.04.5 takes calls' },
  { name: 'Ubuntu 24.04', kernel: '6.8' },
  { name: 'RHEL 8 and rebuilds', kernel: '4.18', note: 'Red Hat backports BPF features: `nettracer check` tells' },
  {
    name: 'RHEL 9 and rebuilds',
    kernel: '5.14',
    note: 'Red Hat backports BPF features, towards 6.5 in later minor releases: `nettracer check` tells',
  },
  { name: 'RHEL 10', kernel: '6.12' },
  { name: 'Amazon Linux 2', kernel: '5.10', note: 'its 5.15 kernel from extras takes counters' },
  { name: 'Amazon Linux 2023', kernel: '6.1' },
];

/** Compares dotted versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const latest = (versions: readonly string[]): string => versions.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));

/**
 * The first version for each path: every needed feature, every required
 * hook, and for calls the send/receive group (hooks: the hook table's rows).
 */
export function minimumVersions(hooks: readonly { since: string; required: boolean; group?: string }[]): {
  counters: string;
  calls: string;
} {
  const base = [
    ...KERNEL_FEATURES.filter((f) => !f.optional).map((f) => f.since),
    ...hooks.filter((h) => h.required).map((h) => h.since),
  ];
  const counters = latest(base);
  return { counters, calls: latest([counters, ...hooks.filter((h) => h.group === 'io').map((h) => h.since)]) };
}

/** The path a distribution's kernel takes, by its version (and its BTF). */
export function pathOf(d: Distribution, min: { counters: string; calls: string }): 'calls' | 'counters' | 'none' {
  const kernel = d.kernel;
  if (d.noBtf) return 'none';
  if (compareVersions(kernel, min.calls) >= 0) return 'calls';
  if (compareVersions(kernel, min.counters) >= 0) return 'counters';
  return 'none';
}
