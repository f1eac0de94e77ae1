// The original NetTracer's command line and --args_file, read as its
// boost::program_options grammar reads them (nettracersrv/nettracer.cpp,
// getOptionsDescription() and parseOptions()), in code of our own:
// --name value, --name=value, an unambiguous prefix of a long name (boost
// "guesses"), -x value, -xvalue; a switch takes no value on the
// command line; each option at most once. The args file has name=value
// lines, '#' comments, [section] headers that prefix names, and sets a switch
// whatever its value. With --args_file, the file's options are the only ones:
// the original replaces the command line's with them.
// Errors read as boost's own (po::error::what()), which the original prints
// on standard output with the help before exiting 1.

/** One option of the original, as its options_description declares it. */
export interface OriginalOption {
  long: string;
  short?: string;
  /** undefined: a switch. */
  value?: 'string' | 'unsigned' | 'path';
  default?: string;
  description: string;
}

export const ORIGINAL_OPTIONS: readonly OriginalOption[] = [
  { long: 'clear_probes', short: 'c', description: 'Clear all probes on start' },
  { long: 'debug', short: 'd', value: 'string', default: 'info', description: 'Enable debug logs' },
  { long: 'events', short: 'e', value: 'unsigned', default: '1', description: 'Enable events' },
  {
    long: 'no_stdout_log',
    short: 'n',
    description: 'Disable logging to stdout, print metrics data in tabular format',
  },
  { long: 'log', short: 'l', value: 'string', default: '', description: 'Logger path' },
  {
    long: 'time_interval',
    short: 't',
    value: 'unsigned',
    default: '30',
    description: 'Time interval of printing metrics data',
  },
  {
    long: 'counters_interval',
    value: 'unsigned',
    default: '300',
    description: 'Interval (seconds) for logging BPF debug counters; 0 disables',
  },
  { long: 'incremental', short: 'i', description: 'Enable incremental data' },
  { long: 'noninteractive', short: 'r', description: 'Hex output' },
  { long: 'with_loopback', short: 'f', description: 'With loopback' },
  { long: 'bpf', short: 'b', value: 'string', default: 'auto', description: 'BTF or classic' },
  { long: 'program', short: 'p', value: 'string', default: 'nettracer-bpf.o', description: 'BPF program path' },
  { long: 'header', short: 's', description: 'Add average header size to traffic' },
  { long: 'map_size', short: 'm', value: 'unsigned', default: '4096', description: 'Number of entries in BPF maps' },
  { long: 'args_file', value: 'path', description: 'Arguments file' },
  { long: 'test', description: 'Check if NetTracer can start properly, then exit' },
  { long: 'version', short: 'v', description: 'Print version' },
  { long: 'help', short: 'h', description: 'Print this help screen' },
];

/** What was given: a switch maps to true, a value option to its text (defaults filled in by values()). */
export type OriginalValues = Map<string, string | true>;

/** A boost::program_options error: its what() text. */
export class OriginalUsageError extends Error {}

const byLong = new Map(ORIGINAL_OPTIONS.map((o) => [o.long, o]));
const byShort = new Map(ORIGINAL_OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

/** boost's lexical_cast<unsigned>: decimal digits, an optional sign; a minus wraps modulo 2^32. */
export function originalUnsigned(text: string): number | undefined {
  const m = /^([+-]?)(\d+)$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[2]);
  if (v > 0xffffffff) return undefined;
  return m[1] === '-' && v !== 0 ? 2 ** 32 - v : v;
}

function store(vm: OriginalValues, o: OriginalOption, value: string | undefined, shown: string): void {
  if (vm.has(o.long)) throw new OriginalUsageError(`option '${shown}' cannot be specified more than once`);
  if (o.value === undefined) {
    vm.set(o.long, true);
    return;
  }
  if (o.value === 'unsigned' && originalUnsigned(value ?? '') === undefined)
    throw new OriginalUsageError(`the argument ('${value}') for option '${shown}' is invalid`);
  vm.set(o.long, value ?? '');
}

/** The long option a name given after -- stands for: itself, or the only one it begins. */
function guess(name: string): OriginalOption {
  const exact = byLong.get(name);
  if (exact) return exact;
  const matches = ORIGINAL_OPTIONS.filter((o) => o.long.startsWith(name));
  if (matches.length === 1 && name.length > 0) return matches[0];
  if (matches.length > 1 && name.length > 0) {
    const list = matches.map((o) => `'--${o.long}'`);
    throw new OriginalUsageError(
      `option '--${name}' is ambiguous and matches ${list.slice(0, -1).join(', ')}, and ${list[list.length - 1]}`,
    );
  }
  throw new OriginalUsageError(`unrecognised option '--${name}'`);
}

/** The original's command line (without the program name). */
export function parseOriginalArgs(argv: readonly string[]): OriginalValues {
  const vm: OriginalValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const nextValue = (shown: string): string => {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next.length > 1))
        throw new OriginalUsageError(`the required argument for option '${shown}' is missing`);
      i++;
      return next;
    };
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const o = guess(name);
      const shown = `--${o.long}`;
      if (o.value === undefined) {
        if (eq >= 0) throw new OriginalUsageError(`option '${shown}' does not take any arguments`);
        store(vm, o, undefined, shown);
      } else {
        store(vm, o, eq >= 0 ? arg.slice(eq + 1) : nextValue(shown), shown);
      }
    } else if (arg.startsWith('-') && arg.length > 1 && arg !== '--') {
      // -x, -xVALUE, -x VALUE; switches may be grouped (-fi).
      let j = 1;
      while (j < arg.length) {
        const c = arg[j];
        const o = byShort.get(c);
        if (!o) throw new OriginalUsageError(`unrecognised option '-${c}'`);
        const shown = `--${o.long}`;
        if (o.value === undefined) {
          store(vm, o, undefined, shown);
          j++;
          continue;
        }
        const rest = arg.slice(j + 1);
        // boost takes what follows the letter as the value, '=' included: -t=10 is "=10", invalid.
        store(vm, o, rest || nextValue(shown), shown);
        break;
      }
    } else {
      // No positional arguments are declared.
      throw new OriginalUsageError(`too many positional options have been specified on the command line`);
    }
  }
  return vm;
}

/** The original's args file (boost parse_config_file). */
export function parseOriginalArgsFile(text: string): OriginalValues {
  const vm: OriginalValues = new Map();
  let prefix = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      prefix = `${line.slice(1, -1).trim()}.`;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new OriginalUsageError(`the options configuration file contains an invalid line '${line}'`);
    const name = prefix + line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const o = byLong.get(name);
    if (!o) throw new OriginalUsageError(`unrecognised option '${name}'`);
    // A switch is set by its line, whatever the value says (test=0 sets it).
    store(vm, o, o.value === undefined ? undefined : value, name);
  }
  return vm;
}

/** A value option's text, or its default. */
export function originalValue(vm: OriginalValues, long: string): string {
  const v = vm.get(long);
  if (typeof v === 'string') return v;
  return byLong.get(long)?.default ?? '';
}

/** The help the original prints (boost's options_description layout: 80 columns). */
export function originalHelp(): string {
  const first = ORIGINAL_OPTIONS.map((o) => {
    const name = o.short ? `-${o.short} [ --${o.long} ]` : `--${o.long}`;
    const param = o.value === undefined ? '' : o.default !== undefined ? `arg (=${o.default})` : 'arg';
    return `  ${name} ${param}`;
  });
  // boost: the widest first column (at least 23), at most 80 - 40 - 1, plus one space.
  let widest = 23;
  for (const f of first) widest = Math.max(widest, f.length);
  const width = Math.min(widest, 80 - 40 - 1) + 1;
  let out = 'Options:\n';
  ORIGINAL_OPTIONS.forEach((o, i) => {
    const lines = wrap(o.description, 80 - width);
    out += first[i].length >= width ? `${first[i]}\n${' '.repeat(width)}` : first[i].padEnd(width);
    out += lines.join(`\n${' '.repeat(width)}`) + '\n';
  });
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
