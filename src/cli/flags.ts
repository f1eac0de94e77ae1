// Flag definitions shared by commands. Every value is validated here, before
// anything is loaded into the kernel; a bad value is a usage error (exit 2).
import { Flags, type Interfaces } from '@oclif/core';
import { accessSync, constants, fstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FORMATS } from '../output/format.js';
import { LOG_LEVELS } from '../output/log.js';
import { HOOK_STRATEGIES, HOOK_STRATEGY_NAMES } from '../tracer/hook-strategy.js';
import { dropIdentity } from '../tracer/identity.js';
import type { SessionOptions } from '../tracer/session.js';
import { parseCidr } from './cidr.js';

import { MAP_SIZE_DEFAULT, MAP_SIZE_MAX } from '../tracer/limits.js';
import { FILTER_VALUES, TABLE_SHARE_DEFAULT } from '../generated/wire.js';

/**
 * Plain decimal notation only: Number() would also take " 5 ", 0x10, 0b11,
 * 0o7 and 1e3, so `--pid 0x10` would follow PID 16.
 */
const DECIMAL = { integer: /^-?\d+$/, number: /^-?(\d+\.?\d*|\.\d+)$/ };

function number(name: string, text: string, opts: { min: number; max?: number; integer?: boolean }): number {
  const kind = opts.integer ? 'an integer (decimal digits)' : 'a number (decimal, like 2 or 0.5)';
  const v = Number(text);
  if (!(opts.integer ? DECIMAL.integer : DECIMAL.number).test(text) || !Number.isFinite(v)) {
    throw new Error(`--${name} must be ${kind}, got "${text}"`);
  }
  if (v < opts.min || (opts.max !== undefined && v > opts.max)) {
    const range = opts.max === undefined ? `at least ${opts.min}` : `between ${opts.min} and ${opts.max}`;
    throw new Error(`--${name} must be ${range}, got ${text}`);
  }
  return v;
}

export function numberFlag(name: string, opts: { min: number; max?: number; integer?: boolean }) {
  return Flags.custom<number>({ parse: async (text) => number(name, text, opts) });
}

/** A file that exists and can be read, as an absolute path. */
function readableFile(flag: string) {
  return Flags.custom<string>({
    parse: async (text) => {
      try {
        accessSync(resolve(text), constants.R_OK);
      } catch {
        throw new Error(`${flag}: cannot read ${resolve(text)}`);
      }
      return resolve(text);
    },
  });
}

/** A file we will be able to create: its directory exists and is writable. Nothing is created now. */
export function writableFile(text: string, flag = '--output'): string {
  const path = resolve(text);
  const dir = dirname(path);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`${flag}: directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`${flag}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${flag}: cannot write in ${dir}`);
  }
  try {
    if (statSync(path).isDirectory()) throw new Error(`${flag}: ${path} is a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return path;
}

/** --ready-fd: a descriptor the caller opened for us (a pipe, usually). */
export const readyFd = Flags.custom<number>({
  parse: async (text) => {
    const fd = number('ready-fd', text, { min: 3, max: 1048575, integer: true });
    try {
      fstatSync(fd);
    } catch {
      throw new Error(`--ready-fd ${fd} is not an open file descriptor (open one for nettracer, as 3>file or a pipe)`);
    }
    return fd;
  },
})({
  summary:
    'Once tracing has started (programs attached, output open, privileges dropped), write one JSON line to this open file descriptor and close it: {"ready":true,"pid":N,"hooks":[...],"attach_ms":N,"user":"..."}. For scripts that must not miss a connection.',
  helpValue: 'FD',
});

export const traceFlags = {
  config: readableFile('--config')({
    summary:
      "Read options from FILE (name=value lines; the original's --args_file), over the command line's; re-read when it changes: interval, incremental, header size, stats interval, filters and log level apply at once, without losing tracked connections.",
    helpValue: 'FILE',
  }),
  format: Flags.string({
    options: [...FORMATS],
    summary:
      "Output format: ndjson (schemas/v1), lines (one aligned line per event, for people), table (the original's interactive view), log (its log lines) or legacy (its machine format). Default: lines on a terminal, ndjson otherwise.",
  }),
  'log-level': Flags.string({
    char: 'd',
    options: [...LOG_LEVELS],
    default: 'info',
    summary: "Lowest level the log format writes (the original's -d).",
  }),
  'log-file': Flags.custom<string>({ parse: async (text) => writableFile(text, '--log-file') })({
    char: 'l',
    summary: "Also write the log format to FILE, while the chosen format goes to standard output (the original's -l).",
    helpValue: 'FILE',
  }),
  interval: numberFlag('interval', { min: 0.1, max: 86400 })({
    char: 't',
    default: 30,
    summary: 'Seconds between metrics records for each open connection, 0.1 to 86400.',
    helpValue: 'SECONDS',
  }),
  incremental: Flags.boolean({
    char: 'i',
    default: false,
    summary: 'Metrics records carry deltas since the previous report instead of totals.',
  }),
  'header-size': Flags.boolean({
    char: 's',
    default: false,
    summary: 'Add the average header size per packet to byte counts: 66 B for IPv4, 77 B for IPv6 (as the original).',
  }),
  'with-loopback': Flags.boolean({
    char: 'f',
    default: false,
    summary: 'Include loopback connections (127.0.0.0/8, ::1), hidden by default.',
  }),
  duration: numberFlag('duration', { min: 0.001 })({
    summary:
      'Stop after this many seconds and exit 0. Any length: past the 24.8 days a single Node.js timer can wait, timers are chained.',
    helpValue: 'SECONDS',
  }),
  count: numberFlag('count', { min: 1, integer: true })({
    summary: 'Stop after writing this many records and exit 0.',
    helpValue: 'N',
  }),
  output: Flags.custom<string>({ parse: async (text) => writableFile(text) })({
    char: 'w',
    summary:
      'Write the stream to FILE instead of standard output: a new file is created with mode 0600; an existing one must be a regular file with one link, owned by root or by you, and is overwritten (see --append) and made 0600; no symbolic link is followed, and FIFOs and devices other than /dev/null are refused.',
    helpValue: 'FILE',
  }),
  append: Flags.boolean({
    default: false,
    summary: 'Add to an existing --output or --log-file instead of overwriting it.',
  }),
  pid: numberFlag('pid', { min: 1, max: 4194304, integer: true })({
    multiple: true,
    summary: `Only connections owned by this process id; given several times (at most ${FILTER_VALUES}), by any of them.`,
    helpValue: 'PID',
  }),
  port: numberFlag('port', { min: 0, max: 65535, integer: true })({
    multiple: true,
    summary: `Only connections with this local or remote port; given several times (at most ${FILTER_VALUES}), any of them.`,
    helpValue: 'PORT',
  }),
  comm: Flags.custom<string>({
    parse: async (text) => {
      if (text.length === 0 || Buffer.byteLength(text) > 15)
        throw new Error(`--comm must be a process name of 1 to 15 bytes (the kernel's comm), got "${text}"`);
      return text;
    },
  })({
    summary: 'Only connections owned by processes with this name (exact, as ps -o comm shows it).',
    helpValue: 'NAME',
  }),
  addr: Flags.custom({ parse: async (text: string) => parseCidr(text) })({
    summary: 'Only connections whose local or remote address is in this CIDR (10.0.0.0/8, fd00::/8, or one address).',
    helpValue: 'CIDR',
  }),
  netns: numberFlag('netns', { min: 1, max: 4294967295, integer: true })({
    summary: 'Only connections in this network namespace (its inode: stat -L -c %i /proc/PID/ns/net).',
    helpValue: 'INODE',
  }),
  family: Flags.custom<4 | 6>({
    parse: async (text) => {
      if (text !== '4' && text !== '6') throw new Error(`--family must be 4 or 6, got "${text}"`);
      return Number(text) as 4 | 6;
    },
  })({ summary: 'Only IPv4 (4) or IPv6 (6) connections; IPv4-mapped IPv6 counts as IPv4.', helpValue: '4|6' }),
  container: Flags.custom<string>({
    parse: async (text) => {
      if (!/^[0-9a-f]{6,64}$/.test(text))
        throw new Error(`--container must be a container id or its prefix (6 to 64 hex digits), got "${text}"`);
      return text;
    },
  })({ summary: 'Only connections of processes in this container (id or id prefix).', helpValue: 'ID' }),
  'map-size': numberFlag('map-size', { min: 1, max: MAP_SIZE_MAX, integer: true })({
    char: 'm',
    default: MAP_SIZE_DEFAULT,
    summary: `Most connections tracked at once (1 to ${MAP_SIZE_MAX}); more are counted in "lost" records.`,
    helpValue: 'N',
  }),
  'table-share': numberFlag('table-share', { min: 1, max: 100, integer: true })({
    default: TABLE_SHARE_DEFAULT,
    summary:
      "Percent of the connection table one network namespace (other than nettracer's own) or one user (other than root) may hold; what they open beyond is counted per namespace and user in stats records. 100: no limit.",
    helpValue: 'PERCENT',
  }),
  'ring-size': numberFlag('ring-size', { min: 16, max: 1048576, integer: true })({
    default: 4096,
    summary:
      'KiB of kernel ring buffer between the kernel and nettracer (rounded up to a power of two); what overflows is counted in "lost" records.',
    helpValue: 'KIB',
  }),
  'stats-interval': numberFlag('stats-interval', { min: 0, max: 86400 })({
    default: 300,
    summary:
      'Seconds between "stats" records (the tracer\'s own health counters), at most 86400; 0: only the final one at exit.',
    helpValue: 'SECONDS',
  }),
  'hook-strategy': Flags.option({
    char: 'b',
    default: 'auto',
    options: HOOK_STRATEGY_NAMES,
    summary: `Where byte counts come from: ${HOOK_STRATEGY_NAMES.map((n) => `${n}: ${HOOK_STRATEGIES[n].summary}`).join('; ')}. The man page's ACCURACY section says what each counts.`,
  })(),
  program: readableFile('--program')({
    char: 'p',
    summary:
      'Load this BPF object file instead of the one built in (it must have the same programs and maps, as bpf/nettracer.bpf.c builds): a regular, non-empty file of at most 16 MiB; no symbolic link is followed.',
    helpValue: 'FILE',
  }),
  cleanup: Flags.boolean({
    char: 'c',
    default: false,
    summary:
      "The original's clean-up of its pins in bpffs. nettracer pins nothing: its programs and maps leave the kernel with the process, so whatever is under /sys/fs/bpf/nettracer* is another program's or pinned by hand. -c removes nothing: it lists those paths on standard error, for you to judge.",
  }),
  user: Flags.custom<string>({
    parse: async (text) => {
      if (!/^[a-z_][a-z0-9_-]{0,31}\$?$|^\d+$/.test(text))
        throw new Error(`--user must be a user name or a uid, got "${text}"`);
      dropIdentity(text); // an unknown name is a usage error now, not after attaching
      return text;
    },
  })({
    summary:
      'Once attached, run as this user (name or uid). Default: the nettracer system user (npm run setup creates it), else an id no account or running process has; never a user other processes share, such as nobody.',
    helpValue: 'USER',
  }),
  'keep-privileges': Flags.boolean({
    default: false,
    summary:
      'Stay root after attaching. By default nettracer started as root continues as --user once its programs are attached and its output is open, with no capability it can do without.',
  }),
  verbose: Flags.boolean({
    default: false,
    summary: 'Say on standard error which hooks are used and when tracing starts; show libbpf messages.',
  }),
  'ready-fd': readyFd,
};

/** --pid and --port take at most FILTER_VALUES values each (the kernel's filter holds that many); else what is wrong. */
export function tooManyFilterValues(flags: { pid?: readonly number[]; port?: readonly number[] }): string | undefined {
  for (const name of ['pid', 'port'] as const) {
    const n = flags[name]?.length ?? 0;
    if (n > FILTER_VALUES) return `--${name} is given ${n} times: at most ${FILTER_VALUES} values are followed at once`;
  }
  return undefined;
}

/** Some of trace's flags, as they are: for commands that trace too (top, agent). */
export function pickTraceFlags<K extends keyof typeof traceFlags>(names: readonly K[]): Pick<typeof traceFlags, K> {
  const out: Partial<Pick<typeof traceFlags, K>> = {};
  for (const n of names) out[n] = traceFlags[n];
  return out as Pick<typeof traceFlags, K>;
}

/** The values of trace's flags, after parsing. */
export type TraceFlags = Omit<Interfaces.InferredFlags<typeof traceFlags>, 'json'>;

/** The flags that choose what is traced: every command that traces takes them, and a config file changes them live. */
export const FILTER_FLAGS = ['with-loopback', 'pid', 'port', 'comm', 'addr', 'netns', 'family', 'container'] as const;

/** The session's options those flags make (trace, top, agent alike). */
export function filterOptions(
  flags: Pick<TraceFlags, (typeof FILTER_FLAGS)[number]>,
): Pick<SessionOptions, 'withLoopback' | 'pid' | 'port' | 'comm' | 'addr' | 'netns' | 'family' | 'containerPrefix'> {
  return {
    withLoopback: flags['with-loopback'],
    pid: flags.pid,
    port: flags.port,
    comm: flags.comm,
    addr: flags.addr,
    netns: flags.netns,
    family: flags.family,
    containerPrefix: flags.container,
  };
}
