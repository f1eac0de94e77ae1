// A tracing session: the native tracer, the metrics walks, the stats and
// loss records. Output is not its concern: kernel records go, a batch at a
// time, to the RecordWriter it is given, which makes them records.
import type { LostRecord, NettracerRecord, StatsRecord } from '../generated/records.js';
import { RECORD_SIZE, WALK } from '../generated/wire.js';
import { fromNative } from './errors.js';
import { loadNative, type NativeOptions, type NativeTracer, type WalkKind } from './native.js';
import { bytesFrom } from './hook-strategy.js';
import { ListenerTable } from './listeners.js';
import { PageOrder } from './page-order.js';
import type { EncodingOptions, RecordWriter } from './record-writer.js';
import { every, type Timer } from './timers.js';

export interface SessionOptions extends NativeOptions, EncodingOptions {
  /** Seconds between metrics walks; 0: none on a timer (a live view calls sampleMetrics() itself). */
  intervalS: number;
  /** Seconds between stats records; 0: only the final one. */
  statsIntervalS: number;
}

/**
 * Takes in a metrics walk in memory (LiveRates for a live view, the
 * agent): begin(), add() for each chunk, end(). add() returns the indexes of
 * the chunk's records it leaves to the writer (records that are not metrics,
 * and any it wants as record objects).
 */
export interface MetricsSampler {
  begin(): void;
  add(chunk: Buffer): number[];
  end(): void;
}

/** Where a session's records go. */
export interface SessionOutput {
  readonly writer: RecordWriter;
  /** Metrics walks go here, in memory, instead of metrics records to the writer. */
  readonly sampler?: MetricsSampler;
  /** After each batch handed to the writer (a drain of the ring, a chunk of a walk, a stats record). */
  flush(): void;
  /** After every metrics walk: the end of an interval's output. */
  cycle?(): void;
}

const LOSS_CHECK_MS = 1000;

/**
 * Memory stays bounded whatever the reader does: while the output is
 * blocked (pause() until resume()), nothing new is produced. The ring is
 * not drained (the kernel counts what does not fit: records_lost), a walk
 * in progress is suspended where it is, a metrics walk that falls due is
 * not made but counted (metrics_walks_skipped), and stats and loss records
 * wait (their counts carry over). What is queued is at most one chunk of
 * the ring or of a walk beyond the stream's buffer.
 */
export class TraceSession {
  private native?: NativeTracer;
  private timers: Timer[] = [];
  private reportedLoss = { recordsLost: 0, insertFailed: 0, hookMisses: 0, walksSkipped: 0 };
  private hooks: string[] = [];
  private blocked = false;
  private walksSkipped = 0;
  /** The kind of the walk suspended by a blocked output, if any. */
  private suspended?: WalkKind;
  /** When the programs were attached (stats records' started_at). */
  private startedAt?: string;
  /** The kind of the walk in progress (or suspended). */
  private walking?: WalkKind;
  private readonly listeners = new ListenerTable();
  /** A walk page's records and the ring's around them (page-order.ts). */
  private readonly pageOrder = new PageOrder();

  constructor(
    private opts: SessionOptions,
    private readonly output: SessionOutput,
  ) {}

  /** Loads and attaches; returns the hooks in use. Throws TracerError. */
  start(): string[] {
    try {
      const native = loadNative();
      this.native = new native.Tracer(this.opts, (batch, length) =>
        this.pageOrder.pass(batch.subarray(0, length), this.deliverBatch),
      );
      // Listeners first: they tell which connections found open are incoming.
      const writer = this.output.writer;
      this.native.walk(WALK.listeners, (chunk, length) => writer.listeners(chunk.subarray(0, length)));
    } catch (err) {
      this.native?.close();
      this.native = undefined;
      throw fromNative(err);
    }
    this.startedAt = new Date().toISOString();
    this.startTimers();
    this.hooks = this.native.hooks();
    return this.hooks;
  }

  private startTimers(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [every(LOSS_CHECK_MS, () => this.reportLoss())];
    if (this.opts.intervalS > 0) this.timers.push(every(this.opts.intervalS * 1000, () => this.collectMetrics()));
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
    this.opts = {
      ...next,
      mapSize: this.opts.mapSize,
      ringBytes: this.opts.ringBytes,
      tableShare: this.opts.tableShare,
    };
    this.output.writer.configure(next);
    this.native?.setFilters(this.opts);
    if (timing && this.native) this.startTimers();
  }

  /**
   * Reports connections that were open before tracing started, in every
   * namespace (records of type existing); call once the output is ready.
   */
  announceExisting(): void {
    this.walk(WALK.existing);
  }

  /** Call once everything that needs root (the output file) is open; returns what it kept. */
  dropPrivileges(identity: { uid: number; gid: number }): string | undefined {
    return this.native?.dropPrivileges(identity);
  }

  /** The output is blocked: produce nothing more until resume(). */
  pause(): void {
    this.blocked = true;
    this.native?.pause();
  }

  /**
   * The output takes more: the ring first, then a suspended walk. What
   * waited in the ring happened before the walk's next page is made (it is
   * made on demand): a connection opened while the walk waited has its
   * opening record there, and that page may read it.
   */
  resume(): void {
    this.blocked = false;
    const native = this.native;
    if (!native) return;
    native.resume();
    if (this.blocked || this.suspended === undefined) return; // blocked again by what the ring held
    const kind = this.suspended;
    if (native.walkResume(this.walkChunk).done) this.walked(kind);
  }

  /** One metrics record per open connection, after everything already in the ring. */
  collectMetrics(): void {
    if (!this.walkNow()) return;
    if (this.output.sampler) this.sampleInto(this.output.sampler);
    else this.walk(WALK.metrics);
  }

  /**
   * A metrics walk into `rates`, in memory, now: each connection's counters
   * go to it and no metrics record is made. What else the walk makes (the
   * opening record of a connection whose owner it found) goes to the writer
   * as usual. False: not now (see walkNow()).
   */
  sampleMetrics(rates: MetricsSampler): boolean {
    if (!this.walkNow()) return false;
    this.sampleInto(rates);
    return true;
  }

  /**
   * Whether a metrics walk can start: what the ring holds is delivered
   * first; with the output blocked or a walk suspended there is none, and
   * it is counted as skipped (metrics_walks_skipped).
   */
  private walkNow(): boolean {
    if (!this.native) return false;
    // The flush itself may block the output: asked again after it.
    if (!this.blocked && this.suspended === undefined) this.native.flush(false);
    if (this.blocked || this.suspended !== undefined) {
      this.walksSkipped++;
      return false;
    }
    return true;
  }

  /** A metrics walk into `rates`; it has taken the whole walk in before the cycle ends. */
  private sampleInto(rates: MetricsSampler): void {
    this.walking = WALK.metrics;
    this.listeners.begin();
    rates.begin();
    // Never suspended: what it keeps is one entry per connection, not output.
    this.native?.walk(WALK.metrics, (chunk, length) => {
      const batch = chunk.subarray(0, length);
      this.listeners.note(batch);
      this.drainFirst(batch);
      try {
        for (const i of rates.add(batch)) this.deliver(batch.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE));
      } finally {
        this.pageOrder.end(this.deliverBatch);
      }
      return true;
    });
    rates.end();
    this.walked(WALK.metrics);
  }

  private readonly walkChunk = (chunk: Buffer, length: number): boolean => {
    this.walkOutput(chunk.subarray(0, length));
    return !this.blocked;
  };

  private walkOutput(batch: Buffer): void {
    if (this.walking === WALK.metrics) this.listeners.note(batch);
    this.drainFirst(batch);
    try {
      this.deliver(batch);
    } finally {
      this.pageOrder.end(this.deliverBatch);
    }
  }

  /**
   * Before a walk page's records, what the ring holds: a connection the
   * page read had its opening record submitted before the page read it, so
   * its connect or accept record comes first. A close in it of a connection
   * the page read came after the read: it is held back until the page has
   * been delivered (pageOrder.end()). (While the output is blocked the ring
   * waits, and so does the walk.)
   */
  private drainFirst(page: Buffer): void {
    this.pageOrder.begin(page);
    this.native?.flush(false);
  }

  private walk(kind: WalkKind, onChunk = this.walkChunk): void {
    this.walking = kind;
    if (kind === WALK.metrics) this.listeners.begin();
    if (this.native?.walk(kind, onChunk).done) this.walked(kind);
    else this.suspended = kind;
  }

  private walked(kind: WalkKind): void {
    this.suspended = undefined;
    this.walking = undefined;
    if (kind === WALK.metrics) {
      this.listeners.end();
      this.output.cycle?.();
    }
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
    // The last records are written whatever the reader does: the queue may
    // grow by what the ring holds and by one walk (the bound, at exit only).
    this.blocked = false;
    const all = (chunk: Buffer, length: number): boolean => {
      this.walkOutput(chunk.subarray(0, length));
      return true;
    };
    try {
      native.detach(); // nothing new after this: the drain and the counters are final
      native.flush();
      if (this.suspended !== undefined) {
        const kind = this.suspended;
        native.walkResume(all);
        this.walked(kind);
      }
      if (finalMetrics) {
        if (this.output.sampler) this.sampleInto(this.output.sampler);
        else this.walk(WALK.metrics, all);
      }
      this.reportLoss();
      if (finalStats) this.reportStats(true);
    } finally {
      this.native = undefined;
      native.close();
    }
  }

  private readonly deliverBatch = (batch: Buffer): void => this.deliver(batch);

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
    if (this.blocked && !final) return; // the next one says it all
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
      ...this.shareStats(),
      ...(this.walksSkipped ? { metrics_walks_skipped: this.walksSkipped } : {}),
      ...(this.listeners.rows().length ? { listeners: this.listeners.rows() } : {}),
      hooks: this.hooks,
      bytes_from: bytesFrom(this.hooks, loadNative().hookTable().hooks),
      ...(this.startedAt ? { started_at: this.startedAt } : {}),
      final,
    };
    this.emit(record);
  }

  /** Who was refused for holding their share of the table (--table-share). */
  private shareStats(): Pick<StatsRecord, 'untracked_by_netns' | 'untracked_by_user'> {
    const s = this.native?.shares();
    if (!s) return {};
    const row = (h: number, r: number) => ({ connections_held: h, connections_untracked: r });
    return {
      ...(s.netns.length ? { untracked_by_netns: s.netns.map(([netns, h, r]) => ({ netns, ...row(h, r) })) } : {}),
      ...(s.users.length ? { untracked_by_user: s.users.map(([uid, h, r]) => ({ uid, ...row(h, r) })) } : {}),
    };
  }

  private reportLoss(): void {
    if (this.blocked) return; // counted meanwhile; said once the reader is back
    const c = this.native?.health();
    if (!c) return;
    const was = this.reportedLoss;
    const lost = c.recordsLost - was.recordsLost;
    const untracked = c.insertFailed - was.insertFailed;
    const missed = c.hookMisses - was.hookMisses;
    const skipped = this.walksSkipped - was.walksSkipped;
    if (lost === 0 && untracked === 0 && missed === 0 && skipped === 0) return;
    this.reportedLoss = {
      recordsLost: c.recordsLost,
      insertFailed: c.insertFailed,
      hookMisses: c.hookMisses,
      walksSkipped: this.walksSkipped,
    };
    const record: LostRecord = {
      type: 'lost',
      timestamp: new Date().toISOString(),
      records_lost: lost,
      connections_untracked: untracked,
      hook_misses: missed,
      ...(skipped ? { metrics_walks_skipped: skipped } : {}),
    };
    this.emit(record);
  }
}
