// --config FILE: the original's --args_file. One option per line,
// `name=value` (`#` starts a comment); names are our long flag names or the
// original's (time_interval, with_loopback, map_size, ...). A switch is set by
// `name=`, `name=1` or `name=true` and cleared by `name=0` or `name=false`.
// Values go through the same parsers as the command line. The file is read
// by a small root helper (config-reader.ts), which checks who can write it.
import { FILTER_FLAGS, type TraceFlags, traceFlags } from './flags.js';

type FlagName = keyof typeof traceFlags;

/** The original NetTracer's option names, and what they are here. */
const ALIASES: Record<string, FlagName> = {
  time_interval: 'interval',
  with_loopback: 'with-loopback',
  map_size: 'map-size',
  header: 'header-size',
  debug: 'log-level',
  log: 'log-file',
  bpf: 'hook-strategy',
  counters_interval: 'stats-interval',
};

/** The original's keys that have no meaning here, and what to do instead. */
const ORIGINAL_ONLY: Record<string, string> = {
  no_stdout_log:
    "the original's switch to its table; choose the output with --format table or legacy (or run nettracer-compat)",
  noninteractive: "the original's switch to its hex lines; use --format legacy (or run nettracer-compat)",
  clear_probes: 'nettracer pins nothing, so there is nothing to clear (see -c on the command line)',
};

/** What a change of the file applies while tracing; the rest waits for a restart. */
export const LIVE: readonly FlagName[] = [
  'interval',
  'incremental',
  'header-size',
  'stats-interval',
  ...FILTER_FLAGS,
  'log-level',
];

/**
 * Options a config file cannot set: they write files, load code, keep or
 * take privileges, or are about this invocation only. They go on the
 * command line, which only the user who runs nettracer controls.
 */
export const NOT_IN_CONFIG: readonly FlagName[] = [
  'config',
  'output',
  'log-file',
  'append',
  'program',
  'keep-privileges',
  'user',
  'cleanup',
  'ready-fd',
  'verbose',
];

/** Values checked by the flags' own parsers. */
export type ConfigValues = Partial<TraceFlags>;

interface ConfigurableFlag {
  type: string;
  /** Given several times: each line adds a value. */
  multiple?: boolean;
  options?: readonly string[];
  parse?: (v: string, ctx: object, opts: ConfigurableFlag) => Promise<unknown>;
}

/**
 * The options of a config file's text. Errors name the file, the line and
 * the option, never what the file holds (it may be something else than a
 * config: a link to a secret, binary, escape sequences).
 */
export async function parseConfig(text: string, path: string): Promise<ConfigValues> {
  const out: Record<string, unknown> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*/, '').trim();
    if (!line) continue;
    const where = `${path}:${i + 1}`;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${where}: expected name=value`);
    const raw = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const explained = ORIGINAL_ONLY[raw];
    if (explained) throw new Error(`${where}: ${raw}: ${explained}`);
    const name = ALIASES[raw] ?? raw;
    // Any flag of trace, seen through what every kind of flag has.
    const flag = (traceFlags as unknown as Record<string, ConfigurableFlag | undefined>)[name];
    if (!flag) throw new Error(`${where}: not an option of nettracer trace`);
    if (NOT_IN_CONFIG.includes(name)) {
      throw new Error(`${where}: ${raw} cannot be set from a config file (give it on the command line)`);
    }
    try {
      if (flag.type === 'boolean') {
        if (!['', '1', 'true', '0', 'false'].includes(value)) throw new Error('takes no value, 1/true or 0/false');
        out[name] = value === '' || value === '1' || value === 'true';
      } else if (flag.options) {
        if (!flag.options.includes(value)) throw new Error(`must be one of ${flag.options.join(', ')}`);
        out[name] = value;
      } else if (flag.parse) {
        const v = await flag.parse(value, {}, flag);
        out[name] = flag.multiple ? [...((out[name] as unknown[] | undefined) ?? []), v] : v;
      } else {
        out[name] = value;
      }
    } catch (err) {
      // The parsers' messages quote the value: keep what they expected, not what they got.
      const expected = (err as Error).message.replace(/,? got .*$/s, '').replace(/^--\S+ /, '');
      throw new Error(`${where}: ${raw}: ${expected}`, { cause: err });
    }
  }
  return out;
}
