// Runs `nettracer trace`: a session, an output, and the reasons to stop
// (--duration, --count, a signal, the reader going away, an output error).
import { openSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { dirname } from 'node:path';
import type { FormatName, OutputFormat } from '../output/format.js';
import { LegacyFormat } from '../output/legacy.js';
import { LogFormat, type LogLevel } from '../output/log.js';
import { NdjsonSink, toNdjson } from '../output/ndjson.js';
import { TableFormat } from '../output/table.js';
import { FdWriter, LineWriter } from '../output/writer.js';
import { EXIT, TracerError } from '../tracer/errors.js';
import { TraceSession, type SessionOptions } from '../tracer/session.js';
import { ObjectSink } from '../tracer/sink.js';

export interface TraceRunOptions {
  session: SessionOptions;
  format: FormatName;
  /** The original's -d: lowest level the log format writes. */
  logLevel?: LogLevel;
  /** The original's -l: the log format also goes to this file. */
  logFile?: string;
  durationS?: number;
  count?: number;
  outputPath?: string;
  /** --config: watched; reload() gives the options to apply on change. */
  config?: { path: string; reload: () => Promise<{ session: SessionOptions; logLevel: LogLevel; restartOnly: string[] }> };
  /** Keep root after attaching (default: drop to nobody). */
  keepPrivileges?: boolean;
  /** Diagnostics for --verbose, on stderr. */
  note?: (line: string) => void;
}

/** Resolves once tracing has stopped and the output is flushed; failures are thrown as TracerError. */
export async function runTrace(opts: TraceRunOptions): Promise<void> {
  const t0 = process.hrtime.bigint();
  const limit = opts.count ?? Infinity;
  let writer: LineWriter | FdWriter | undefined;
  /** Nothing more is written (the output failed, or we crashed). */
  let quiet = false;
  let stopped = false;
  let failure: TracerError | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const format = makeFormat(opts.format, opts);
  const logFormat = opts.logFile ? new LogFormat(opts.logLevel) : undefined;
  let logWriter: FdWriter | undefined;
  // NDJSON alone is written as bytes, straight from the kernel's records;
  // other formats (and -l) read records as objects.
  const bytes = opts.format === 'ndjson' && !logFormat ? new NdjsonSink(limit) : undefined;
  const objects = bytes ? undefined : new ObjectSink(limit);
  const sink = bytes ?? objects!;
  const session = new TraceSession(opts.session, {
    sink,
    flush: () => {
      if (bytes) {
        const out = bytes.take();
        if (writer && !quiet) writer.write(out);
      } else {
        const records = objects!.take();
        if (writer && !quiet && records.length) {
          writer.write(format.records(records));
          if (logWriter && logFormat) logWriter.write(logFormat.records(records));
        }
      }
      if (sink.count >= limit) stop(false);
    },
    cycle: () => {
      if (writer && !quiet && format.cycle && sink.count < limit) writer.write(format.cycle(Date.now()));
    },
  });

  const stop = (finalMetrics: boolean): void => {
    if (stopped) return;
    stopped = true;
    try {
      session.stop(finalMetrics);
    } catch (err) {
      failure ??= new TracerError(`while stopping: ${(err as Error).message}`, EXIT.failure);
    }
    finish();
  };

  const onSignal = (): void => stop(true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A bug of ours while tracing: detach, say what happened, exit 1.
  const onCrash = (err: unknown): void => {
    failure ??= new TracerError(`internal error: ${(err as Error)?.message ?? String(err)}`, EXIT.failure);
    quiet = true;
    stop(false);
  };
  process.on('uncaughtException', onCrash);

  let hooks: string[];
  try {
    hooks = session.start(); // throws TracerError before anything is written
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onCrash);
    throw err;
  }
  const events = {
    pause: () => session.pause(),
    resume: () => session.resume(),
    gone: (err?: NodeJS.ErrnoException) => {
      if (err) {
        failure ??= new TracerError(`cannot write the output: ${err.message}`, EXIT.failure);
      }
      quiet = true; // nothing more can be written
      stop(false);
    },
  };
  // Opened now, synchronously: privileges are dropped right after.
  writer = opts.outputPath
    ? new FdWriter(openOutput(opts.outputPath, () => session.stop(false)), events)
    : new LineWriter(process.stdout, events);

  if (opts.logFile) logWriter = new FdWriter(openOutput(opts.logFile, () => session.stop(false)), events);
  session.announceExisting();
  if (format.cycle) writer.write(format.cycle(Date.now())); // the original prints at once, then every interval
  const onKey = (): void => session.collectMetrics(); // Enter: refresh now
  // The config file: re-read on change (polled: editors replace files), applied live.
  const onConfig = (): void => {
    opts.config!
      .reload()
      .then(({ session: next, logLevel, restartOnly }) => {
        session.reconfigure(next);
        for (const f of [format, logFormat]) if (f instanceof LogFormat) f.setLevel(logLevel);
        const later = restartOnly.length ? `; ${restartOnly.join(', ')} change at the next start` : '';
        process.stderr.write(`nettracer: ${opts.config!.path} re-read and applied${later}\n`);
      })
      .catch((err: Error) => process.stderr.write(`nettracer: ${err.message}; keeping the previous configuration\n`));
  };
  if (opts.config) watchFile(opts.config.path, { interval: 500 }, onConfig);
  if (opts.format === 'table' && process.stdin.isTTY) process.stdin.on('data', onKey);
  opts.note?.(`hooks: ${hooks.join(', ')}`);
  // The config file is re-read later: keep root if `nobody` could not read it.
  const configReadable = !opts.config || readableByAnyone(opts.config.path);
  if (opts.keepPrivileges !== true && configReadable) {
    const now = session.dropPrivileges();
    opts.note?.(`running as ${now}`);
  } else if (!configReadable) {
    opts.note?.(`keeping root: ${opts.config!.path} is not readable by everyone, and it is re-read on change`);
  }
  opts.note?.(`attached in ${Number(process.hrtime.bigint() - t0) / 1e6} ms; tracing`);


  const timer = opts.durationS ? setTimeout(() => stop(true), opts.durationS * 1000) : undefined;

  await done;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtException', onCrash);
  process.stdin.off('data', onKey);
  if (opts.config) unwatchFile(opts.config.path, onConfig);
  if (process.stdin.isTTY) process.stdin.pause();
  await writer.end();
  await logWriter?.end();
  if (failure) throw failure;
}

function openOutput(path: string, undo: () => void): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    undo();
    throw new TracerError(`cannot open the output file: ${(err as Error).message}`, EXIT.usage);
  }
}

function makeFormat(name: FormatName, opts: TraceRunOptions): OutputFormat {
  switch (name) {
    case 'ndjson':
      return { records: toNdjson };
    case 'log':
      return new LogFormat(opts.logLevel);
    case 'legacy':
      return new LegacyFormat(opts.session.incremental);
    case 'table':
      return new TableFormat(!opts.outputPath && process.stdout.isTTY === true);
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
