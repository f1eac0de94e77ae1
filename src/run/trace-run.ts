// One trace, from attach to exit, for every command that traces (trace,
// summarize --live): a session, its record writer, the output, and the
// reasons to stop (--duration, --count, a signal, the reader going away, an
// output error, a bug of ours), with back-pressure, a watched config file,
// privileges dropped once attached, and the ready signal.
import { closeSync, writeSync } from 'node:fs';
import { NdjsonWriter } from '../encode/ndjson-writer.js';
import { ObjectWriter } from '../encode/writers.js';
import type { OutputFormat } from '../output/format.js';
import { FileWriter, type OutputWriter, StreamWriter } from '../output/writer.js';
import { fromNative, TracerError } from '../tracer/errors.js';
import { loadNative } from '../tracer/native.js';
import { after, type Timer } from '../tracer/timers.js';
import { runIdentity } from '../tracer/identity.js';
import { invokingUid } from './invoking-user.js';
import { type SessionOptions, type SessionOutput, TraceSession } from '../tracer/session.js';

export interface TraceRunOptions {
  session: SessionOptions;
  /** 'ndjson': bytes straight from the kernel's records (the fast path); otherwise a format of record objects. */
  format: 'ndjson' | OutputFormat;
  /** The original's -l: the log format also goes to this file (records as objects); fd: already open. */
  logFile?: { path: string; format: OutputFormat; fd?: number };
  durationS?: number;
  count?: number;
  /** Standard output when not given. */
  outputPath?: string;
  /** Add to an existing --output or --log-file rather than overwrite it. */
  append?: boolean;
  /**
   * --config: polled; poll() gives the session's new options when the file
   * changed (and applies what else it can), undefined when it did not.
   */
  config?: { path: string; poll: () => Promise<{ session: SessionOptions; restartOnly: string[] } | undefined> };
  /** Keep root after attaching (default: drop, see dropPrivileges()). */
  keepPrivileges?: boolean;
  /** Who to become once attached (--user): default, identity.ts's choice. */
  user?: string;
  /** Enter on the terminal asks for a metrics walk now (the table). */
  refreshOnEnter?: boolean;
  /** --ready-fd: one line when tracing has started (see readyLine()). */
  readyFd?: number;
  /** Stops tracing when aborted, like a signal but without a last metrics walk (a view's quit key). */
  stop?: AbortSignal;
  /** Diagnostics for --verbose, on stderr. */
  note?: (line: string) => void;
}

/** What --ready-fd receives, as one JSON line: attached, output open, privileges dropped. */
export function readyLine(hooks: string[], attachMs: number, user: string): string {
  return JSON.stringify({ ready: true, pid: process.pid, hooks, attach_ms: attachMs, user }) + '\n';
}

/** Resolves once tracing has stopped and the output is flushed; failures are thrown as TracerError. */
export function runTrace(opts: TraceRunOptions): Promise<void> {
  return new TraceRun(opts).run();
}

/**
 * The first SIGINT or SIGTERM after tracing stopped, while the output is
 * flushed: it is stopping already. One is ignored (npm exec forwards the
 * terminal's Ctrl-C a second time); the next has its default action, for a
 * person who wants out of a flush that does not end.
 */
function stopping(signal: NodeJS.Signals): void {
  process.off(signal, stopping);
}

/** One trace: run() once. */
class TraceRun {
  private readonly t0 = process.hrtime.bigint();
  private readonly limit: number;
  private readonly format?: OutputFormat;
  private readonly session: TraceSession;
  private readonly count: () => number;
  private out?: OutputWriter;
  private logOut?: OutputWriter;
  /** Nothing more is written (the output failed, or we crashed). */
  private quiet = false;
  private stopped = false;
  private failure?: TracerError;
  private finish: () => void = () => {};
  private readonly timers: NodeJS.Timeout[] = [];
  /** --duration: any length (tracer/timers.ts). */
  private deadline?: Timer;

  constructor(private readonly opts: TraceRunOptions) {
    this.limit = opts.count ?? Infinity;
    this.format = opts.format === 'ndjson' ? undefined : opts.format;
    const { output, count } = makeOutput(opts, this.limit, {
      bytes: (b) => this.write(b),
      records: (records) => this.writeRecords(records),
      atLimit: () => this.stop(false),
      cycle: () => {
        const now = Date.now();
        if (this.format?.cycle && this.count() < this.limit && !(this.stopped && this.format.skipFinalCycle))
          this.write(this.format.cycle(now));
        const log = this.opts.logFile?.format;
        if (log?.cycle && !(this.stopped && log.skipFinalCycle)) this.writeLog(log.cycle(now));
      },
    });
    this.count = count;
    this.session = new TraceSession(opts.session, output);
  }

  async run(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    this.listen();
    let hooks: string[];
    try {
      hooks = this.session.start(); // throws TracerError before anything is written
      this.openOutputs();
    } catch (err) {
      this.unlisten();
      throw err;
    }
    const format = this.format;
    this.write(format?.begin?.(Date.now()) ?? '');
    this.writeLog(this.opts.logFile?.format.begin?.(Date.now()) ?? '');
    this.opts.note?.(`hooks: ${hooks.join(', ')}`);
    // Before the first walk: root is needed no longer, and a --count the
    // walk of existing connections reaches ends the run inside it.
    const user = this.dropPrivileges();
    this.session.announceExisting();
    // The original prints at once, then every interval.
    if (format?.cycle) this.write(format.cycle(Date.now()));
    const log = this.opts.logFile?.format;
    if (log?.cycle) this.writeLog(log.cycle(Date.now()));
    if (format?.tick && format.tickMs)
      this.timers.push(setInterval(() => this.write(format.tick!(Date.now())), format.tickMs));
    if (this.opts.durationS) this.deadline = after(this.opts.durationS * 1000, () => this.stop(true));
    const attachMs = Number(process.hrtime.bigint() - this.t0) / 1e6;
    this.opts.note?.(`attached in ${attachMs} ms; tracing`);
    if (this.opts.readyFd !== undefined) signalReady(this.opts.readyFd, readyLine(hooks, attachMs, user));

    await done;
    this.unlisten();
    await this.out?.end();
    await this.logOut?.end();
    if (this.failure) throw this.failure;
  }

  private write(text: string | Uint8Array): void {
    if (this.out && !this.quiet) this.out.write(text);
  }

  private writeLog(text: string): void {
    if (this.logOut && !this.quiet && text) this.logOut.write(text);
  }

  private writeRecords(records: ReturnType<ObjectWriter['take']>): void {
    if (!this.out || this.quiet || records.length === 0) return;
    if (this.format) this.out.write(this.format.records(records));
    const log = this.opts.logFile;
    if (log) this.writeLog(log.format.records(records));
  }

  private stop(finalMetrics: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.session.stop(finalMetrics && !this.format?.skipFinalWalk);
      if (this.format?.end) this.write(this.format.end(Date.now()));
      this.writeLog(this.opts.logFile?.format.end?.(Date.now()) ?? '');
    } catch (err) {
      this.failure ??= new TracerError(`while stopping: ${(err as Error).message}`, 'failure');
    }
    this.finish();
  }

  private readonly onSignal = (): void => this.stop(true);

  private readonly onAbort = (): void => this.stop(false);

  /** A bug of ours while tracing: detach, say what happened, exit 1. */
  private readonly onCrash = (err: unknown): void => {
    this.failure ??= new TracerError(`internal error: ${(err as Error)?.message ?? String(err)}`, 'failure');
    this.quiet = true;
    this.stop(false);
  };

  /** Enter on the terminal: a metrics walk now. */
  private readonly onKey = (): void => this.session.collectMetrics();

  /** The last problem with the config file said, so a file that stays bad is said once. */
  private configProblem = '';

  /** A poll of the config file: apply what can change while tracing. */
  private readonly onConfig = (): void => {
    const config = this.opts.config!;
    config
      .poll()
      .then((changed) => {
        this.configProblem = '';
        if (!changed) return;
        this.session.reconfigure(changed.session);
        const later = changed.restartOnly.length ? `; ${changed.restartOnly.join(', ')} change at the next start` : '';
        process.stderr.write(`nettracer: ${config.path} re-read and applied${later}\n`);
      })
      .catch((err: Error) => {
        if (err.message === this.configProblem) return;
        this.configProblem = err.message;
        process.stderr.write(`nettracer: ${err.message}; keeping the previous configuration\n`);
      });
  };

  private listen(): void {
    // on, not once: a second Ctrl-C while stopping must not kill the process
    // (npm exec and npx forward the terminal's SIGINT to us a second time: a
    // default action then ended us by the signal, and npx exited 130).
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    process.on('uncaughtException', this.onCrash);
    this.opts.stop?.addEventListener('abort', this.onAbort);
    if (this.opts.refreshOnEnter) process.stdin.on('data', this.onKey);
    // Polled through the root config reader: it sees the file whoever we run as,
    // and editors that replace the file rather than write it in place.
    if (this.opts.config) this.timers.push(setInterval(this.onConfig, 500));
  }

  private unlisten(): void {
    for (const t of this.timers) clearTimeout(t);
    this.deadline?.cancel();
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    // Stopped: what is left is flushing the output and exiting, which a late
    // signal must not cut short.
    for (const s of ['SIGINT', 'SIGTERM'] as const) if (process.listenerCount(s) === 0) process.on(s, stopping);
    process.off('uncaughtException', this.onCrash);
    this.opts.stop?.removeEventListener('abort', this.onAbort);
    process.stdin.off('data', this.onKey);
    if (process.stdin.isTTY) process.stdin.pause();
  }

  /** Opened now, synchronously, while root: privileges are dropped right after. */
  private openOutputs(): void {
    const events = {
      pause: () => this.session.pause(),
      resume: () => this.session.resume(),
      gone: (err?: NodeJS.ErrnoException) => {
        if (err) this.failure ??= new TracerError(`cannot write the output: ${err.message}`, 'failure');
        this.quiet = true; // nothing more can be written
        this.stop(false);
      },
    };
    try {
      const path = this.opts.outputPath;
      const append = this.opts.append === true;
      this.out = path ? new FileWriter(openOutput(path, append), events) : new StreamWriter(process.stdout, events);
      const log = this.opts.logFile;
      if (log) this.logOut = new FileWriter(log.fd ?? openOutput(log.path, append), events);
    } catch (err) {
      this.session.stop(false);
      throw err;
    }
  }

  /** Continues as an identity of its own unless asked not to; returns who it runs as, with what. */
  private dropPrivileges(): string {
    if (this.opts.keepPrivileges === true) return 'unchanged';
    const identity = runIdentity(this.opts.user);
    const kept = this.session.dropPrivileges(identity) ?? 'unchanged';
    const user = `${identity.name}, ${kept}`;
    this.opts.note?.(`running as ${user}`);
    return user;
  }
}

interface OutputSinks {
  bytes: (b: Uint8Array) => void;
  records: (records: ReturnType<ObjectWriter['take']>) => void;
  atLimit: () => void;
  cycle: () => void;
}

/** The session's writer, what happens after each batch, and the records written so far. */
function makeOutput(
  opts: TraceRunOptions,
  limit: number,
  to: OutputSinks,
): { output: SessionOutput; count: () => number } {
  const encoding = opts.session;
  // NDJSON alone is written as bytes, straight from the kernel's records;
  // other formats (and -l) read records as objects.
  if (opts.format === 'ndjson' && !opts.logFile) {
    const writer = new NdjsonWriter(encoding, { limit });
    const flush = (): void => {
      to.bytes(writer.take());
      if (writer.count >= limit) to.atLimit();
    };
    return { output: { writer, flush, cycle: to.cycle }, count: () => writer.count };
  }
  const writer = new ObjectWriter(encoding, { limit });
  const flush = (): void => {
    to.records(writer.take());
    if (writer.count >= limit) to.atLimit();
  };
  // A format that reads walks in memory gets them so (only the main output: -l wants records).
  const sampler = opts.format === 'ndjson' ? undefined : opts.format.metrics;
  return { output: { writer, flush, cycle: to.cycle, sampler }, count: () => writer.count };
}

/** Opens --output or --log-file the way a root process must on a shared host (native/output_file.h). */
function openOutput(path: string, append: boolean): number {
  try {
    return loadNative().openOutput(path, { append, ownerUid: invokingUid() });
  } catch (err) {
    throw fromNative(err);
  }
}

/** One line to the ready descriptor, then it is closed: the reader sees the line and end of file. */
function signalReady(fd: number, line: string): void {
  try {
    writeSync(fd, line);
    closeSync(fd);
  } catch (err) {
    process.stderr.write(`nettracer: --ready-fd ${fd}: ${(err as Error).message}\n`);
  }
}
