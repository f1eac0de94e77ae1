// `nettracer-compat` (or `nettracer compat -- ...`): the original NetTracer's
// command line, unchanged. Options and args file as its grammar reads them
// (cli/original-options.ts); what it prints, where, and its exit statuses
// (nettracersrv/nettracer.cpp): the log on standard output (the level
// coloured on a terminal) and with -l DIR appended to
// DIR/oneagent_nettracer_<pid>.log; with -n the table on a terminal, else
// (-r, or no terminal) the legacy lines. Exit 0; 1 for bad usage (after the
// help on standard output); after a failure's log line and "NetTracer stop
// reason N", N: 1 without the privileges to load, 2 for anything else.
import { statSync, accessSync, constants, closeSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { BaseCommand } from '../cli/base.js';
import { ConfigReader } from '../cli/config-reader.js';
import {
  OriginalUsageError,
  type OriginalValues,
  originalHelp,
  originalUnsigned,
  originalValue,
  parseOriginalArgs,
  parseOriginalArgsFile,
} from '../cli/original-options.js';
import { LegacyFormat } from '../output/legacy.js';
import { localTime, LogFormat, type LogLevel, type LogSetup } from '../output/log.js';
import { TableFormat } from '../output/table.js';
import type { OutputFormat } from '../output/format.js';
import { invokingUid } from '../run/invoking-user.js';
import type { SessionOptions } from '../tracer/session.js';
import { runTrace } from '../run/trace-run.js';
import { fromNative, TracerError } from '../tracer/errors.js';
import { HOOK_STRATEGIES } from '../tracer/hook-strategy.js';
import { MAP_SIZE_MAX } from '../tracer/limits.js';
import { loadNative } from '../tracer/native.js';

/**
 * The original's exit statuses: main() returns its stop reason, a
 * ReturnCodes (nettracer.cpp: Success, InsufficientCapabilities,
 * GenericError, in that order); bad usage is parseOptions()' exit(1).
 */
export const ORIGINAL_EXIT = { success: 0, insufficientCapabilities: 1, genericError: 2, usage: 1 } as const;

export default class Compat extends BaseCommand {
  static override summary =
    "The original NetTracer's command line (what nettracer-compat runs): its options, args file and output.";
  static override description = `Takes the original's options exactly (see nettracer-compat --help, and MIGRATING FROM NETTRACER
in the man page): -t/--time_interval, -m/--map_size (clamped to 1048576 as the original does), -d/--debug
(unknown levels mean info), -l/--log DIR (appends to DIR/oneagent_nettracer_<pid>.log), -n, -r, -e, -i, -s,
-f, -c, -b, -p, --counters_interval, --args_file FILE, --test, -v, -h. Give them after "--":
nettracer compat -- -t 10 -n -r.`;
  static override examples = [
    '<%= config.bin %> compat -- --time_interval 10 -n -r',
    'nettracer-compat --args_file /etc/nettracer.args',
  ];
  static override strict = false;

  async run(): Promise<void> {
    const argv = this.argv[0] === '--' ? this.argv.slice(1) : this.argv;
    let vm: OriginalValues;
    let argsFile: ArgsFile | undefined;
    try {
      vm = parseOriginalArgs(argv);
      if (vm.has('help')) {
        process.stdout.write(`${originalHelp()}\n`);
        return;
      }
      const path = vm.get('args_file');
      if (typeof path === 'string') {
        argsFile = new ArgsFile(path);
        vm = parseOriginalArgsFile(await argsFile.read());
      }
    } catch (err) {
      argsFile?.close();
      if (!(err instanceof OriginalUsageError)) throw err;
      // parseOptions(): what() and the help on standard output, exit 1.
      process.stdout.write(`${err.message}\n${originalHelp()}\n`);
      return this.exit(ORIGINAL_EXIT.usage);
    }
    if (vm.has('version')) {
      argsFile?.close();
      // The logger is not set up yet: spdlog's default one logs the stop reason.
      process.stdout.write(
        `version: ${this.config.version}\n[${localTime(Date.now())}] [info] NetTracer stop reason ${ORIGINAL_EXIT.success}\n`,
      );
      return;
    }
    let rc: number;
    try {
      rc = await this.trace(vm, argsFile);
    } finally {
      argsFile?.close();
    }
    if (rc !== 0) this.exit(rc);
  }

  private async trace(vm: OriginalValues, argsFile: ArgsFile | undefined): Promise<number> {
    let now = settings(vm, this.config.version);
    const { level, noStdoutLog, events, headerSize, setup } = now;
    let logFd: number | undefined;
    try {
      logFd = openLogDir(originalValue(vm, 'log'));
    } catch (err) {
      // The original does not catch it (std::terminate); its what() is the message.
      if (!(err instanceof TracerError)) throw err;
      process.stderr.write(`nettracer-compat: ${err.message}\n`);
      return ORIGINAL_EXIT.genericError;
    }
    const stdoutLog = new LogFormat({ level, headerSize, setup, colour: process.stdout.isTTY === true });
    const interactive = noStdoutLog && process.stdin.isTTY === true && !vm.has('noninteractive');
    const legacy = noStdoutLog && !interactive ? new LegacyFormat(vm.has('incremental'), events) : undefined;
    const fileLog = new LogFormat({
      level,
      headerSize,
      setup,
      linesOnly: noStdoutLog,
      sessions: legacy && (() => legacy.sessions),
    });
    stdoutLog.preloadPrinted = fileLog.preloadPrinted = true;
    const say = (text: (f: LogFormat) => string) => {
      if (!noStdoutLog) process.stdout.write(text(stdoutLog));
      if (logFd !== undefined) writeSync(logFd, text(fileLog));
    };
    say((f) => f.preload(Date.now()));

    const strategy = originalValue(vm, 'bpf').toLowerCase();
    const failed = (message: string, rc: number = ORIGINAL_EXIT.genericError): number => {
      say((f) => f.line(Date.now(), 'error', message) + f.stopReason(Date.now(), rc));
      if (logFd !== undefined) closeSync(logFd);
      return rc;
    };
    if (!['auto', 'btf', 'classic'].includes(strategy)) return failed('Unsuported option for bpf');

    let format: OutputFormat;
    if (vm.has('test')) format = new TestRun(stdoutLog, noStdoutLog);
    else if (!noStdoutLog) format = stdoutLog;
    else format = legacy ?? new TableFormat({ columns: process.stdout.columns, headerSize, events });
    try {
      await runTrace({
        session: loopbackAsOriginal(now.session, interactive),
        format,
        // The original restarts when its args file changes (config_watcher, ReturnCodes::Reconfigure):
        // here what can change is applied without losing connections, and the log says what the
        // original's would: its shutdown and start-up lines.
        config: argsFile && {
          path: argsFile.path,
          poll: async () => {
            const text = await argsFile.changed();
            if (text === undefined) return undefined;
            const next = settings(parseOriginalArgsFile(text), this.config.version);
            const ms = Date.now();
            for (const f of [stdoutLog, fileLog]) {
              f.setLevel(next.level);
              f.restart(ms, next.setup);
            }
            const restartOnly = RESTART_ONLY.filter((k) => next.values[k] !== now.values[k]);
            now = next;
            return { session: loopbackAsOriginal(next.session, interactive), restartOnly };
          },
        },
        logFile:
          logFd !== undefined
            ? { path: '', format: vm.has('test') ? new TestRun(fileLog, false) : fileLog, fd: logFd }
            : undefined,
        durationS: vm.has('test') ? 0.001 : undefined,
        refreshOnEnter: interactive,
      });
    } catch (err) {
      if (!(err instanceof TracerError)) throw err;
      return failed(
        err.message,
        err.kind === 'privileges' ? ORIGINAL_EXIT.insufficientCapabilities : ORIGINAL_EXIT.genericError,
      );
    }
    return ORIGINAL_EXIT.success;
  }
}

/** What needs a new start to change (the original restarts for any change). */
const RESTART_ONLY = ['map_size', 'log', 'no_stdout_log', 'noninteractive', 'events', 'bpf', 'program'];

/** The original's options as nettracer's. */
function settings(vm: OriginalValues, version: string) {
  const num = (name: string) => originalUnsigned(originalValue(vm, name)) ?? 0;
  const debug = originalValue(vm, 'debug');
  const level: LogLevel = debug === 'debug' || debug === 'trace' ? debug : 'info';
  const intervalS = num('time_interval');
  const mapSize = num('map_size');
  const events = num('events') === 1;
  const setup: LogSetup = {
    version,
    intervalS,
    mapSize,
    mapSizeMax: MAP_SIZE_MAX,
    countersIntervalS: num('counters_interval'),
    cpus: availableParallelism(),
    events,
    clearProbes: vm.has('clear_probes'),
  };
  const session: SessionOptions = {
    // 0 would spin: the shortest interval nettracer takes.
    intervalS: Math.max(0.1, intervalS),
    incremental: vm.has('incremental'),
    headerSize: vm.has('header'),
    withLoopback: vm.has('with_loopback'),
    mapSize: Math.max(1, Math.min(mapSize, MAP_SIZE_MAX)),
    verbose: false,
    statsIntervalS: num('counters_interval'),
    ...HOOK_STRATEGIES.auto,
  };
  const values: Record<string, string | boolean> = {};
  for (const k of RESTART_ONLY) values[k] = vm.has(k) ? (vm.get(k) ?? '') : originalValue(vm, k);
  return { level, noStdoutLog: vm.has('no_stdout_log'), events, headerSize: vm.has('header'), setup, session, values };
}

/**
 * The original filters loopback connections (unless -f) only in its
 * interactive table (netstat.cpp print_human_readable() and its /proc scan):
 * its log and its legacy lines show them whatever -f says.
 */
function loopbackAsOriginal(session: SessionOptions, table: boolean): SessionOptions {
  return table ? session : { ...session, withLoopback: true };
}

/** --test: load, say so, stop (nettracer.cpp: "All checks passed, stopping NetTracer"). */
class TestRun implements OutputFormat {
  readonly skipFinalCycle = true;
  constructor(
    private readonly log: LogFormat,
    private readonly silent: boolean,
  ) {}
  begin(ms: number): string {
    if (this.silent) return '';
    return (
      this.log.line(ms, 'info', 'BPF program loaded') +
      this.log.line(ms, 'info', 'All checks passed, stopping NetTracer')
    );
  }
  records(): string {
    return '';
  }
  end(ms: number): string {
    return this.silent ? '' : this.log.stopReason(ms, ORIGINAL_EXIT.success);
  }
}

/** The args file, read by the root config reader (only root or the invoking user may write it). */
class ArgsFile {
  private readonly reader: ConfigReader;
  private text?: string;

  constructor(readonly path: string) {
    this.reader = ConfigReader.start(resolve(path), invokingUid());
  }

  async read(): Promise<string> {
    try {
      return (this.text = await this.reader.read());
    } catch {
      throw new OriginalUsageError(`can not read options configuration file '${this.path}'`);
    }
  }

  /** Its text if it changed since the last read, else undefined. */
  async changed(): Promise<string | undefined> {
    const before = this.text;
    const now = await this.read();
    return now === before ? undefined : now;
  }

  close(): void {
    this.reader.close();
  }
}

/**
 * -l DIR: the original's log file, DIR/oneagent_nettracer_<pid>.log, appended
 * to; opened as every file nettracer writes as root (native/output_file.cc:
 * no link followed, a new file 0600, an existing one only if root's or the
 * invoking user's). A DIR that is not a writable directory stops it, as the
 * original's validate_log_path() does.
 */
function openLogDir(dir: string): number | undefined {
  if (!dir) return undefined;
  const fsError = (why: string, code: string) =>
    new TracerError(`filesystem error: ${why}: ${code} [${dir}]`, 'failure');
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw fsError('Failed to stat parent log directory', 'No such file or directory');
  }
  if (!isDir) throw fsError('Log directory does not exist or is not a directory', 'Not a directory');
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw fsError('Log directory access permissions validation failed', 'Permission denied');
  }
  try {
    return loadNative().openOutput(join(resolve(dir), `oneagent_nettracer_${process.pid}.log`), {
      append: true,
      ownerUid: invokingUid(),
    });
  } catch (err) {
    throw fromNative(err);
  }
}
