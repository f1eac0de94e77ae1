// A tracing session: the native tracer, the metrics walks, the stats and
// loss records. Output is not its concern: kernel records go, a batch at a
// time, to the RecordWriter it is given, which makes them records.
import type { LostRecord, NettracerRecord, StatsRecord } from '../generated/records.js';
import { WALK } from '../generated/wire.js';
import { fromNative } from './errors.js';
import { loadNative, type NativeOptions, type NativeTracer } from './native.js';
import { bytesFrom } from './hook-strategy.js';
import type { EncodingOptions, RecordWriter } from './record-writer.js';
import { every, type Timer } from './timers.js';

export interface SessionOptions extends NativeOptions, EncodingOptions {
  /** Seconds between metrics walks. */
  intervalS: number;
  /** Seconds between stats records; 0: only the final one. */
  statsIntervalS: number;
}

/** Where a session's records go. */
export interface SessionOutput {
  readonly writer: RecordWriter;
  /** After each batch handed to the writer (a drain of the ring, a chunk of a walk, a stats record). */
  flush(): void;
  /** After every metrics walk: the end of an interval's output. */
  cycle?(): void;
}

const LOSS_CHECK_MS = 1000;

export class TraceSession {
  private native?: NativeTracer;
  private timers: Timer[] = [];
  private reportedLoss = { recordsLost: 0, insertFailed: 0, hookMisses: 0 };
  private hooks: string[] = [];

  constructor(
    private opts: SessionOptions,
    private readonly output: SessionOutput,
  ) {}

  /** Loads and attaches; returns the hooks in use. Throws TracerError. */
  start(): string[] {
    try {
      const native = loadNative();
      this.native = new native.Tracer(this.opts, (batch, length) => this.deliver(batch.subarray(0, length)));
      // Listeners first: they tell which connections found open are incoming.
      const writer = this.output.writer;
      this.native.walk(WALK.listeners, (chunk, length) => writer.listeners(chunk.subarray(0, length)));
    } catch (err) {
      this.native?.close();
      this.native = undefined;
      throw fromNative(err);
    }
    this.startTimers();
    this.hooks = this.native.hooks();
    return this.hooks;
  }

  private startTimers(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [
      every(this.opts.intervalS * 1000, () => this.collectMetrics()),
      every(LOSS_CHECK_MS, () => this.reportLoss()),
    ];
    if (this.opts.statsIntervalS > 0) {
      this.timers.push(every(this.opts.statsIntervalS * 1000, () => this.reportStats(false)));
    }
  }

  /**
   * Applies new options while tracing: intervals, incremental, header size
   * and filters (in the kernel's .data, no reload). Tracked connections and
   * their counters stay. Map and ring sizes keep their start-up values.
   */
  reconfigure(next: SessionOptions): void {
    const timing = next.intervalS !== this.opts.intervalS || next.statsIntervalS !== this.opts.statsIntervalS;
    this.opts = { ...next, mapSize: this.opts.mapSize, ringBytes: this.opts.ringBytes };
    this.output.writer.configure(next);
    this.native?.setFilters(this.opts);
    if (timing && this.native) this.startTimers();
  }

  /**
   * Reports connections that were open before tracing started, in every
   * namespace (records of type existing); call once the output is ready.
   */
  announceExisting(): void {
    this.native?.walk(WALK.existing, (chunk, length) => this.deliver(chunk.subarray(0, length)));
  }

  /** Call once everything that needs root (the output file) is open; returns what it kept. */
  dropPrivileges(identity: { uid: number; gid: number }): string | undefined {
    return this.native?.dropPrivileges(identity);
  }

  pause(): void {
    this.native?.pause();
  }

  resume(): void {
    this.native?.resume();
  }

  /** One metrics record per open connection, after everything already in the ring. */
  collectMetrics(): void {
    if (!this.native) return;
    this.native.flush();
    this.native.walk(WALK.metrics, (chunk, length) => this.deliver(chunk.subarray(0, length)));
    this.output.cycle?.();
  }

  /**
   * Stops tracing: delivers what is pending in the kernel, optionally a last
   * metrics walk and the final stats, any loss not yet reported, then
   * detaches everything.
   */
  stop(finalMetrics: boolean, finalStats = finalMetrics): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    const native = this.native;
    if (!native) return;
    try {
      native.detach(); // nothing new after this: the drain and the counters are final
      native.flush();
      if (finalMetrics) {
        native.walk(WALK.metrics, (chunk, length) => this.deliver(chunk.subarray(0, length)));
        this.output.cycle?.();
      }
      this.reportLoss();
      if (finalStats) this.reportStats(true);
    } finally {
      this.native = undefined;
      native.close();
    }
  }

  private deliver(batch: Buffer): void {
    if (batch.length === 0) return;
    // Failpoint for the tests of the error path (test/e2e/reliability.test.ts).
    if (process.env.NETTRACER_FAILPOINT === 'deliver') throw new Error('failpoint: deliver');
    this.output.writer.kernel(batch);
    this.output.flush();
  }

  private emit(record: NettracerRecord): void {
    this.output.writer.record(record);
    this.output.flush();
  }

  private reportStats(final: boolean): void {
    const c = this.native?.health();
    if (!c) return;
    const record: StatsRecord = {
      type: 'stats',
      timestamp: new Date().toISOString(),
      records_sent: c.recordsSent,
      records_lost: c.recordsLost,
      connections_tracked: Math.max(0, c.tracked),
      connections_untracked: c.insertFailed,
      unaccepted_closes: c.unacceptedCloses,
      hook_misses: c.hookMisses,
      hooks: this.hooks,
      bytes_from: bytesFrom(this.hooks, loadNative().hookTable().hooks),
      final,
    };
    this.emit(record);
  }

  private reportLoss(): void {
    const c = this.native?.health();
    if (!c) return;
    const lost = c.recordsLost - this.reportedLoss.recordsLost;
    const untracked = c.insertFailed - this.reportedLoss.insertFailed;
    const missed = c.hookMisses - this.reportedLoss.hookMisses;
    if (lost === 0 && untracked === 0 && missed === 0) return;
    this.reportedLoss = { recordsLost: c.recordsLost, insertFailed: c.insertFailed, hookMisses: c.hookMisses };
    const record: LostRecord = {
      type: 'lost',
      timestamp: new Date().toISOString(),
      records_lost: lost,
      connections_untracked: untracked,
      hook_misses: missed,
    };
    this.emit(record);
  }
}
