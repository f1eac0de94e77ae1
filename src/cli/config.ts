// --config FILE: the original's --args_file. One option per line,
// `name=value` (`#` starts a comment); names are our long flag names or the
// original's (time_interval, with_loopback, map_size, ...). A switch is set by
// `name=`, `name=1` or `name=true` and cleared by `name=0` or `name=false`.
// Values go through the same parsers as the command line.
import { readFileSync } from 'node:fs';
import { type TraceFlags, traceFlags } from './flags.js';

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

/** What a change of the file applies while tracing; the rest waits for a restart. */
export const LIVE: readonly FlagName[] = [
  'interval',
  'incremental',
  'header-size',
  'stats-interval',
  'with-loopback',
  'pid',
  'port',
  'comm',
  'addr',
  'netns',
  'family',
  'container',
  'log-level',
];

/** Values checked by the flags' own parsers. */
export type ConfigValues = Partial<TraceFlags>;

interface ConfigurableFlag {
  type: string;
  options?: readonly string[];
  parse?: (v: string, ctx: object, opts: ConfigurableFlag) => Promise<unknown>;
}

export async function readConfig(path: string): Promise<ConfigValues> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--config: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  const out: Record<string, unknown> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*/, '').trim();
    if (!line) continue;
    const where = `${path}:${i + 1}`;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${where}: expected name=value, got "${line}"`);
    const raw = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const name = ALIASES[raw] ?? raw;
    // Any flag of trace, seen through what every kind of flag has.
    const flag = (traceFlags as unknown as Record<string, ConfigurableFlag | undefined>)[name];
    if (!flag || name === 'verbose' || name === 'ready-fd') throw new Error(`${where}: unknown option "${raw}"`);
    try {
      if (flag.type === 'boolean') {
        if (!['', '1', 'true', '0', 'false'].includes(value))
          throw new Error(`${raw} takes no value, 1/true or 0/false, got "${value}"`);
        out[name] = value === '' || value === '1' || value === 'true';
      } else if (flag.options) {
        if (!flag.options.includes(value))
          throw new Error(`${raw} must be one of ${flag.options.join(', ')}, got "${value}"`);
        out[name] = value;
      } else if (flag.parse) {
        out[name] = await flag.parse(value, {}, flag);
      } else {
        out[name] = value;
      }
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}
