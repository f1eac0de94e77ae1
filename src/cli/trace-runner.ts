// Runs `nettracer trace`: a session, an output, and the reasons to stop
// (--duration, --count, a signal, the reader going away, an output error).
import { openSync } from 'node:fs';
import type { NettracerRecord } from '../generated/records.js';
import { toNdjson } from '../output/ndjson.js';
import { FdWriter, LineWriter } from '../output/writer.js';
import { EXIT, TracerError } from '../tracer/errors.js';
import { TraceSession, type SessionOptions } from '../tracer/session.js';

export interface TraceRunOptions {
  session: SessionOptions;
  durationS?: number;
  count?: number;
  outputPath?: string;
  /** Keep root after attaching (default: drop to nobody). */
  keepPrivileges?: boolean;
  /** Diagnostics for --verbose, on stderr. */
  note?: (line: string) => void;
}

/** Resolves with the exit status once tracing has stopped and the output is flushed. */
export async function runTrace(opts: TraceRunOptions): Promise<number> {
  const t0 = process.hrtime.bigint();
  let remaining = opts.count ?? Infinity;
  let writer: LineWriter | FdWriter | undefined;
  let stopped = false;
  let exitCode: number = EXIT.ok;
  let failure: TracerError | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const session = new TraceSession(opts.session, (records: NettracerRecord[]) => {
    if (!writer || remaining <= 0) return;
    if (records.length > remaining) records = records.slice(0, remaining);
    remaining -= records.length;
    writer.write(toNdjson(records));
    if (remaining <= 0) stop(false);
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
    remaining = 0;
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
      remaining = 0; // nothing more can be written
      stop(false);
    },
  };
  // Opened now, synchronously: privileges are dropped right after.
  writer = opts.outputPath
    ? new FdWriter(openOutput(opts.outputPath, () => session.stop(false)), events)
    : new LineWriter(process.stdout, events);

  session.announceExisting();
  opts.note?.(`hooks: ${hooks.join(', ')}`);
  if (opts.keepPrivileges !== true) {
    const now = session.dropPrivileges();
    opts.note?.(`running as ${now}`);
  }
  opts.note?.(`attached in ${Number(process.hrtime.bigint() - t0) / 1e6} ms; tracing`);


  const timer = opts.durationS ? setTimeout(() => stop(true), opts.durationS * 1000) : undefined;

  await done;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtException', onCrash);
  await writer.end();
  if (failure) throw failure;
  return exitCode;
}

function openOutput(path: string, undo: () => void): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    undo();
    throw new TracerError(`cannot open the output file: ${(err as Error).message}`, EXIT.usage);
  }
}
