import { readdirSync } from 'node:fs';
import { BaseCommand } from '../cli/base.js';
import { hiddenLoopbackNote } from '../cli/cidr.js';
import { LIVE, parseConfig } from '../cli/config.js';
import { ConfigReader } from '../cli/config-reader.js';
import { invokingUid } from '../run/invoking-user.js';
import { EXIT } from '../cli/exit-codes.js';
import { filterOptions, tooManyFilterValues, type TraceFlags, traceFlags } from '../cli/flags.js';
import { createFormat, type FormatName } from '../output/format.js';
import { LogFormat, type LogLevel, type LogSetup } from '../output/log.js';
import { MAP_SIZE_MAX } from '../tracer/limits.js';
import { availableParallelism } from 'node:os';
import { runTrace } from '../run/trace-run.js';
import { HOOK_STRATEGIES } from '../tracer/hook-strategy.js';
import type { SessionOptions } from '../tracer/session.js';

/** The kernel wants a power-of-two number of pages. */
function ringBytes(kib: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(4096, kib * 1024)));
}

export default class Trace extends BaseCommand {
  static override summary = 'Trace TCP connections and stream connect, accept, metrics and close records as NDJSON.';
  static override description = `Streams one JSON object per line (schemas/v1, also printed by the man page) for every TCP
connection on the host: a connect or accept record when it is established, a metrics record
every --interval seconds while it is open, and a close record with its final counters.
Loss is never silent: a "lost" record says how many records or connections were dropped.
Needs root (or CAP_BPF and CAP_PERFMON).`;
  static override examples = [
    '<%= config.bin %> trace',
    '<%= config.bin %> trace --with-loopback --interval 5 | jq \'select(.type == "close")\'',
    '<%= config.bin %> trace --duration 60 --output capture.ndjson',
    '<%= config.bin %> trace --port 443 --incremental -t 10',
  ];
  static override flags = traceFlags;

  async run(): Promise<void> {
    const { flags: cli } = await this.parseFlags(Trace);
    // --config: read by a root helper that outlives the privilege drop; the
    // file's options override the command line's, now and on every change.
    const reader = cli.config ? ConfigReader.start(cli.config, invokingUid()) : undefined;
    try {
      await this.trace(cli, reader);
    } finally {
      reader?.close();
    }
  }

  private async trace(cli: TraceFlags, reader: ConfigReader | undefined): Promise<void> {
    let text = reader ? await reader.read().catch((err: Error) => this.fail(err.message, EXIT.usage)) : '';
    const withConfig = async (t: string): Promise<TraceFlags> =>
      reader ? { ...cli, ...(await parseConfig(t, reader.path)) } : cli;
    let flags: TraceFlags;
    try {
      flags = await withConfig(text);
    } catch (err) {
      return this.fail((err as Error).message, EXIT.usage);
    }
    const tooMany = tooManyFilterValues(flags);
    if (tooMany) return this.fail(tooMany, EXIT.usage);
    if (flags.cleanup) {
      const found = pinnedNettracer();
      if (found.length)
        process.stderr.write(
          `nettracer: -c removed nothing: nettracer pins nothing, so ${found.map((p) => JSON.stringify(p)).join(', ')} ${found.length > 1 ? 'are' : 'is'} not its own (rm ${found.length > 1 ? 'them' : 'it'} if no longer needed)\n`,
        );
      else if (flags.verbose) process.stderr.write('nettracer: -c: nothing pinned under /sys/fs/bpf/nettracer*\n');
    }
    const loopback = hiddenLoopbackNote(flags.addr, flags['with-loopback']);
    if (loopback) process.stderr.write(`nettracer: ${loopback}\n`);
    const name = (flags.format ?? (flags.output || !process.stdout.isTTY ? 'ndjson' : 'lines')) as FormatName;
    const logLevel = flags['log-level'] as LogLevel;
    const setup = logSetup(flags, this.config.version);
    const format = createFormat(name, {
      logLevel,
      incremental: flags.incremental,
      headerSize: flags['header-size'],
      columns: process.stdout.columns,
      colour: !flags.output && process.stdout.isTTY === true,
      setup,
    });
    const logFormat = flags['log-file']
      ? new LogFormat({ level: logLevel, headerSize: flags['header-size'], setup })
      : undefined;
    await runTrace({
      session: sessionOptions(flags),
      format: name === 'ndjson' && !logFormat ? 'ndjson' : format,
      logFile: flags['log-file'] && logFormat ? { path: flags['log-file'], format: logFormat } : undefined,
      durationS: flags.duration,
      count: flags.count,
      outputPath: flags.output,
      append: flags.append,
      keepPrivileges: flags['keep-privileges'],
      user: flags.user,
      refreshOnEnter: name === 'table' && process.stdin.isTTY === true,
      readyFd: flags['ready-fd'],
      note: flags.verbose ? (line) => process.stderr.write(`nettracer: ${line}\n`) : undefined,
      config: reader
        ? {
            path: reader.path,
            poll: async () => {
              const now = await reader.read();
              if (now === text) return undefined;
              text = now;
              const next = await withConfig(now);
              const restartOnly = (Object.keys(next) as (keyof TraceFlags)[]).filter(
                (k) => !(LIVE as readonly string[]).includes(k) && JSON.stringify(next[k]) !== JSON.stringify(flags[k]),
              );
              for (const f of [format, logFormat])
                if (f instanceof LogFormat) f.setLevel(next['log-level'] as LogLevel);
              return { session: sessionOptions(next), restartOnly };
            },
          }
        : undefined,
    });
  }
}

/** What the log's start-up lines say, as the original's would for these options. */
function logSetup(flags: TraceFlags, version: string): LogSetup {
  return {
    version,
    intervalS: flags.interval,
    mapSize: flags['map-size'],
    mapSizeMax: MAP_SIZE_MAX,
    countersIntervalS: flags['stats-interval'],
    cpus: availableParallelism(),
    events: true,
  };
}

export function sessionOptions(flags: TraceFlags): SessionOptions {
  return {
    intervalS: flags.interval,
    incremental: flags.incremental,
    statsIntervalS: flags['stats-interval'],
    headerSize: flags['header-size'],
    ...filterOptions(flags),
    mapSize: flags['map-size'],
    tableShare: flags['table-share'],
    ringBytes: ringBytes(flags['ring-size']),
    verbose: flags.verbose,
    program: flags.program,
    ...HOOK_STRATEGIES[flags['hook-strategy']],
  };
}

/**
 * -c, the original's clean-up of its pins. nettracer pins nothing (its
 * objects leave the kernel with the process), so whatever bpffs holds under
 * its name is another program's, or pinned by hand: it is listed, never removed.
 */
function pinnedNettracer(): string[] {
  const root = '/sys/fs/bpf';
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return []; // no bpffs mounted: nothing pinned
  }
  return names.filter((n) => n.startsWith('nettracer')).map((n) => `${root}/${n}`);
}
