// A tracing session: the native tracer, the metrics timer, loss accounting,
// and the conversion of kernel records to published records. Output is not
// its concern: records go, a batch at a time, to the function it is given.
import type { LostRecord, NettracerRecord, StatsRecord } from '../generated/records.js';
import { ContainerResolver } from './containers.js';
import { decodeRecords } from './decode.js';
import { fromNative } from './errors.js';
import { loadNative, type NativeOptions, type NativeTracer } from './native.js';
import { bootClock, RecordBuilder, type Clock } from './records.js';

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

export type RecordsHandler = (records: NettracerRecord[]) => void;

const LOSS_CHECK_MS = 1000;

export class TraceSession {
  private native?: NativeTracer;
  private builder?: RecordBuilder;
  private clock?: Clock;
  private timers: NodeJS.Timeout[] = [];
  private reportedLoss = { recordsLost: 0, insertFailed: 0 };
  private hooks: string[] = [];

  constructor(
    private opts: SessionOptions,
    private readonly onRecords: RecordsHandler,
    /** After every metrics walk: the end of an interval's output. */
    private readonly onCycle?: () => void,
  ) {}

  /** Loads and attaches; returns the hooks in use. Throws TracerError. */
  start(): string[] {
    try {
      const native = loadNative();
      this.clock = bootClock(native.bootToRealtimeMs());
      this.builder = new RecordBuilder(this.clock, this.opts.incremental, new ContainerResolver(), this.opts.headerSize);
      this.native = new native.Tracer(this.opts, (batch) => this.deliver(batch));
      // Listeners first: they tell which connections found open are incoming.
      const builder = this.builder;
      this.native.collect(1, (chunk) => builder.noteListeners(decodeRecords(chunk)));
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
    this.builder?.configure(next.incremental, next.headerSize ?? false);
    this.native?.setFilters(this.opts);
    if (timing && this.native) this.startTimers();
  }

  /**
   * Reports connections that were open before tracing started, in every
   * namespace (records of type existing); call once the output is ready.
   */
  announceExisting(): void {
    this.native?.collect(2, (chunk) => this.deliver(chunk));
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
    this.native.collect(0, (chunk) => this.deliver(chunk));
    this.onCycle?.();
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
        native.collect(0, (chunk) => this.deliver(chunk));
        this.onCycle?.();
      }
      this.reportLoss();
      if (finalStats) this.reportStats(true);
    } finally {
      this.native = undefined;
      native.close();
    }
  }

  private deliver(batch: Buffer): void {
    if (batch.length === 0 || !this.builder) return;
    // Failpoint for the tests of the error path (test/e2e/reliability.test.ts).
    if (process.env.NETTRACER_FAILPOINT === 'deliver') throw new Error('failpoint: deliver');
    const kernel = decodeRecords(batch);
    let records: NettracerRecord[] = new Array(kernel.length);
    for (let i = 0; i < kernel.length; i++) records[i] = this.builder.build(kernel[i]);
    records = this.inContainer(records);
    if (records.length) this.onRecords(records);
  }

  private inContainer(records: NettracerRecord[]): NettracerRecord[] {
    const prefix = this.opts.containerPrefix;
    if (!prefix) return records;
    return records.filter((r) => !('saddr' in r) || r.container_id?.startsWith(prefix));
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
      hooks: this.hooks,
      final,
    };
    this.onRecords([record]);
  }

  private reportLoss(): void {
    const c = this.native?.counters();
    if (!c || !this.clock) return;
    const lost = c.recordsLost - this.reportedLoss.recordsLost;
    const untracked = c.insertFailed - this.reportedLoss.insertFailed;
    if (lost === 0 && untracked === 0) return;
    this.reportedLoss = { recordsLost: c.recordsLost, insertFailed: c.insertFailed };
    const record: LostRecord = {
      type: 'lost',
      timestamp: new Date().toISOString(),
      records_lost: lost,
      connections_untracked: untracked,
    };
    this.onRecords([record]);
  }
}
