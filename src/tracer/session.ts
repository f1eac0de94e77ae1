// A tracing session: the native tracer, the metrics timer, loss accounting,
// and the conversion of kernel records to published records. Output is not
// its concern: records go, a batch at a time, to the function it is given.
import type { LostRecord, NettracerRecord, StatsRecord } from '../generated/records.js';
import { ContainerResolver } from './containers.js';
import { decodeRecords, RecordView } from './decode.js';
import { fromNative } from './errors.js';
import { loadNative, type EncoderOptions, type NativeOptions, type NativeTracer } from './native.js';
import { NativeLines, type LineSink } from './native-lines.js';
import { bootClock, RecordBuilder, type Clock } from './records.js';
import type { RecordSink } from './sink.js';

export interface SessionOptions extends NativeOptions {
  /** Seconds between metrics walks. */
  intervalS: number;
  incremental: boolean;
  /** Seconds between stats records; 0: only the final one. */
  statsIntervalS: number;
  /** Only connections whose container id starts with this (decided in user space). */
  containerPrefix?: string;
  /** Add 66 (IPv4) or 77 (IPv6) bytes per packet to byte counts (the original's -s). */
  headerSize?: boolean;
}

/** Where a session's records go. */
export interface SessionOutput {
  /** Every record, as it is built. */
  readonly sink: RecordSink;
  /** After each batch written to the sink (a drain of the ring, a chunk of a walk, a stats record). */
  flush(): void;
  /** After every metrics walk: the end of an interval's output. */
  cycle?(): void;
}

const LOSS_CHECK_MS = 1000;

export class TraceSession {
  private native?: NativeTracer;
  private builder?: RecordBuilder;
  private clock?: Clock;
  private timers: NodeJS.Timeout[] = [];
  private reportedLoss = { recordsLost: 0, insertFailed: 0, hookMisses: 0 };
  private hooks: string[] = [];
  private readonly view = new RecordView();
  /** Set when the output takes NDJSON lines: the native encoder writes most of them. */
  private lines?: NativeLines;
  private bootToRealtimeMs = 0;

  constructor(
    private opts: SessionOptions,
    private readonly output: SessionOutput,
  ) {}

  /** Loads and attaches; returns the hooks in use. Throws TracerError. */
  start(): string[] {
    try {
      const native = loadNative();
      this.bootToRealtimeMs = native.bootToRealtimeMs();
      this.clock = bootClock(this.bootToRealtimeMs);
      this.builder = new RecordBuilder(
        this.clock,
        this.opts.incremental,
        new ContainerResolver(),
        this.opts.headerSize,
        this.opts.containerPrefix,
      );
      if (this.output.sink.room && this.output.sink.wrote) {
        this.lines = new NativeLines(new native.NdjsonEncoder(this.encoderOptions()), this.builder);
      }
      this.native = new native.Tracer(this.opts, (batch, length) => this.deliver(batch.subarray(0, length)));
      // Listeners first: they tell which connections found open are incoming.
      const builder = this.builder;
      this.native.collect(1, (chunk, length) => builder.noteListeners(decodeRecords(chunk.subarray(0, length))));
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
    for (const t of this.timers) clearInterval(t);
    this.timers = [
      setInterval(() => this.collectMetrics(), this.opts.intervalS * 1000),
      setInterval(() => this.reportLoss(), LOSS_CHECK_MS),
    ];
    if (this.opts.statsIntervalS > 0) {
      this.timers.push(setInterval(() => this.reportStats(false), this.opts.statsIntervalS * 1000));
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
    this.builder?.configure(next.incremental, next.headerSize ?? false, next.containerPrefix);
    this.lines?.configure(this.encoderOptions());
    this.native?.setFilters(this.opts);
    if (timing && this.native) this.startTimers();
  }

  /**
   * Reports connections that were open before tracing started, in every
   * namespace (records of type existing); call once the output is ready.
   */
  announceExisting(): void {
    this.native?.collect(2, (chunk, length) => this.deliver(chunk.subarray(0, length)));
  }

  /** Call once everything that needs root (the output file) is open. */
  dropPrivileges(): string | undefined {
    return this.native?.dropPrivileges();
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
    this.native.collect(0, (chunk, length) => this.deliver(chunk.subarray(0, length)));
    this.output.cycle?.();
  }

  /**
   * Stops tracing: delivers what is pending in the kernel, optionally a last
   * metrics walk and the final stats, any loss not yet reported, then
   * detaches everything.
   */
  stop(finalMetrics: boolean, finalStats = finalMetrics): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const native = this.native;
    if (!native) return;
    try {
      native.detach(); // nothing new after this: the drain and the counters are final
      native.flush();
      if (finalMetrics) {
        native.collect(0, (chunk, length) => this.deliver(chunk.subarray(0, length)));
        this.output.cycle?.();
      }
      this.reportLoss();
      if (finalStats) this.reportStats(true);
    } finally {
      this.native = undefined;
      native.close();
    }
  }

  private encoderOptions(): EncoderOptions {
    return { bootToRealtimeMs: this.bootToRealtimeMs, headerSize: this.opts.headerSize ?? false, incremental: this.opts.incremental };
  }

  private deliver(batch: Buffer): void {
    const builder = this.builder;
    if (batch.length === 0 || !builder) return;
    // Failpoint for the tests of the error path (test/e2e/reliability.test.ts).
    if (process.env.NETTRACER_FAILPOINT === 'deliver') throw new Error('failpoint: deliver');
    const sink = this.output.sink;
    // --container filters in JavaScript: every record goes through the builder.
    if (this.lines && !this.opts.containerPrefix) {
      this.lines.deliver(batch, this.view, sink as LineSink);
    } else {
      const view = this.view;
      const n = view.batch(batch);
      for (let i = 0; i < n; i++) builder.write(view.at(i), sink);
    }
    this.output.flush();
  }

  private emit(record: NettracerRecord): void {
    this.output.sink.object(record);
    this.output.flush();
  }

  private reportStats(final: boolean): void {
    const c = this.native?.counters();
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
      final,
    };
    this.emit(record);
  }

  private reportLoss(): void {
    const c = this.native?.counters();
    if (!c || !this.clock) return;
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
