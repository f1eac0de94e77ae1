// One trace, from attach to exit, for every command that traces (trace,
// summarize --live): a session, its record writer, the output, and the
// reasons to stop (--duration, --count, a signal, the reader going away, an
// output error, a bug of ours), with back-pressure, a watched config file,
// privileges dropped once attached, and the ready signal.
import { closeSync, openSync, statSync, unwatchFile, watchFile, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { NdjsonWriter } from '../encode/ndjson-writer.js';
import { ObjectWriter } from '../encode/writers.js';
import type { OutputFormat } from '../output/format.js';
import { FileWriter, type OutputWriter, StreamWriter } from '../output/writer.js';
import { TracerError } from '../tracer/errors.js';
import { type SessionOptions, type SessionOutput, TraceSession } from '../tracer/session.js';

export interface TraceRunOptions {
  session: SessionOptions;
  /** 'ndjson': bytes straight from the kernel's records (the fast path); otherwise a format of record objects. */
  format: 'ndjson' | OutputFormat;
  /** The original's -l: the log format also goes to this file (records as objects). */
  logFile?: { path: string; format: OutputFormat };
  durationS?: number;
  count?: number;
  /** Standard output when not given. */
  outputPath?: string;
  /** --config: watched; reload() applies what it can and gives the session's new options. */
  config?: { path: string; reload: () => Promise<{ session: SessionOptions; restartOnly: string[] }> };
  /** Keep root after attaching (default: drop to nobody). */
  keepPrivileges?: boolean;
  /** Enter on the terminal asks for a metrics walk now (the table). */
  refreshOnEnter?: boolean;
  /** --ready-fd: one line when tracing has started (see readyLine()). */
  readyFd?: number;
  /** Diagnostics for --verbose, on stderr. */
  note?: (line: string) => void;
}

/** What --ready-fd receives, as one JSON line: attached, output open, privileges dropped. */
export function readyLine(hooks: string[], attachMs: number, user: string): string {
  return JSON.stringify({ ready: true, pid: process.pid, hooks, attach_ms: attachMs, user }) + '\n';
}

/** Resolves once tracing has stopped and the output is flushed; failures are thrown as TracerError. */
export async function runTrace(opts: TraceRunOptions): Promise<void> {
  const t0 = process.hrtime.bigint();
  const limit = opts.count ?? Infinity;
  let out: OutputWriter | undefined;
  let logOut: OutputWriter | undefined;
  /** Nothing more is written (the output failed, or we crashed). */
  let quiet = false;
  let stopped = false;
  let failure: TracerError | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const format = opts.format === 'ndjson' ? undefined : opts.format;
  const logFormat = opts.logFile?.format;
  const write = (text: string | Uint8Array): void => {
    if (out && !quiet) out.write(text);
  };
  const { output, count } = makeOutput(opts, limit, {
    bytes: (b) => write(b),
    records: (records) => {
      if (!out || quiet || records.length === 0) return;
      if (format) out.write(format.records(records));
      if (logOut && logFormat) logOut.write(logFormat.records(records));
    },
    atLimit: () => stop(false),
    cycle: () => {
      if (format?.cycle && count() < limit) write(format.cycle(Date.now()));
    },
  });
  const session = new TraceSession(opts.session, output);

  const stop = (finalMetrics: boolean): void => {
    if (stopped) return;
    stopped = true;
    try {
      session.stop(finalMetrics);
      if (format?.end) write(format.end(Date.now()));
    } catch (err) {
      failure ??= new TracerError(`while stopping: ${(err as Error).message}`, 'failure');
    }
    finish();
  };

  const onSignal = (): void => stop(true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A bug of ours while tracing: detach, say what happened, exit 1.
  const onCrash = (err: unknown): void => {
    failure ??= new TracerError(`internal error: ${(err as Error)?.message ?? String(err)}`, 'failure');
    quiet = true;
    stop(false);
  };
  process.on('uncaughtException', onCrash);
  const offProcess = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onCrash);
  };

  let hooks: string[];
  try {
    hooks = session.start(); // throws TracerError before anything is written
  } catch (err) {
    offProcess();
    throw err;
  }
  const begun = format?.begin?.(Date.now()) ?? '';
  const events = {
    pause: () => session.pause(),
    resume: () => session.resume(),
    gone: (err?: NodeJS.ErrnoException) => {
      if (err) failure ??= new TracerError(`cannot write the output: ${err.message}`, 'failure');
      quiet = true; // nothing more can be written
      stop(false);
    },
  };
  // Opened now, synchronously: privileges are dropped right after.
  try {
    out = opts.outputPath
      ? new FileWriter(openOutput(opts.outputPath), events)
      : new StreamWriter(process.stdout, events);
    if (opts.logFile) logOut = new FileWriter(openOutput(opts.logFile.path), events);
  } catch (err) {
    session.stop(false);
    offProcess();
    throw err;
  }
  write(begun);
  session.announceExisting();
  if (format?.cycle) write(format.cycle(Date.now())); // the original prints at once, then every interval
  const onKey = (): void => session.collectMetrics();
  if (opts.refreshOnEnter) process.stdin.on('data', onKey);
  const onConfig = (): void => {
    opts
      .config!.reload()
      .then(({ session: next, restartOnly }) => {
        session.reconfigure(next);
        const later = restartOnly.length ? `; ${restartOnly.join(', ')} change at the next start` : '';
        process.stderr.write(`nettracer: ${opts.config!.path} re-read and applied${later}\n`);
      })
      .catch((err: Error) => process.stderr.write(`nettracer: ${err.message}; keeping the previous configuration\n`));
  };
  // Polled: editors replace files rather than write them in place.
  if (opts.config) watchFile(opts.config.path, { interval: 500 }, onConfig);
  const tick =
    format?.tick && format.tickMs ? setInterval(() => write(format.tick!(Date.now())), format.tickMs) : undefined;
  opts.note?.(`hooks: ${hooks.join(', ')}`);
  // The config file is re-read later: keep root if `nobody` could not read it.
  const configReadable = !opts.config || readableByAnyone(opts.config.path);
  let user = 'unchanged';
  if (opts.keepPrivileges !== true && configReadable) {
    user = session.dropPrivileges() ?? user;
    opts.note?.(`running as ${user}`);
  } else if (!configReadable) {
    opts.note?.(`keeping root: ${opts.config!.path} is not readable by everyone, and it is re-read on change`);
  }
  const attachMs = Number(process.hrtime.bigint() - t0) / 1e6;
  opts.note?.(`attached in ${attachMs} ms; tracing`);
  if (opts.readyFd !== undefined) signalReady(opts.readyFd, readyLine(hooks, attachMs, user));

  const timer = opts.durationS ? setTimeout(() => stop(true), opts.durationS * 1000) : undefined;

  await done;
  if (timer) clearTimeout(timer);
  if (tick) clearInterval(tick);
  offProcess();
  process.stdin.off('data', onKey);
  if (opts.config) unwatchFile(opts.config.path, onConfig);
  if (process.stdin.isTTY) process.stdin.pause();
  await out.end();
  await logOut?.end();
  if (failure) throw failure;
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
  return { output: { writer, flush, cycle: to.cycle }, count: () => writer.count };
}

function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new TracerError(`cannot open the output file: ${(err as Error).message}`, 'usage');
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

/** Whether an unprivileged user could read `path` (o+r on it, o+x on every directory above). */
function readableByAnyone(path: string): boolean {
  try {
    if ((statSync(path).mode & 0o004) === 0) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) return false;
      if (dir === dirname(dir)) return true;
    }
  } catch {
    return false;
  }
}
