// `nettracer agent` as an output format of the trace run: every record goes
// to summarize's Aggregator (one code path for the numbers) and to series.ts
// (attributes, caps, expiry). Metrics walks come in memory (its sampler):
// each connection's totals go to the same Aggregator and Series as its
// metrics record would, without making one. After each walk (the session's
// cycle, every export interval) the window is cut, and its points go to the
// OTLP and Prometheus sinks. It writes nothing on standard output; its own state
// goes to standard error, one line per problem, at most once a minute each.
import type { NettracerRecord } from '../generated/records.js';
import { RecordView } from '../tracer/decode.js';
import { takeMetrics } from '../tracer/rates.js';
import { WalkOrder } from '../tracer/walk-order.js';
import type { MetricsSampler } from '../tracer/session.js';
import { printable } from '../record/shown.js';
import type { OutputFormat } from '../output/format.js';
import { Aggregator, type ClosedWindow } from '../summary/aggregate.js';
import type { Attributes, MetricDef } from './metrics.js';
import type { ExportOutcome } from './otlp.js';
import { type Conn, Series, type SeriesOptions, type Window } from './series.js';

export interface Sink {
  apply(w: Window): void;
  /** After apply(): the window is complete (OTLP exports it). */
  flush?(): void;
}

/**
 * A collector's error text is anyone's: one line of at most 300 characters,
 * with nothing a terminal would act on.
 */
const said = (text: string) => printable(text.length > 300 ? `${text.slice(0, 297)}...` : text);

/** Lines to stderr, each kind at most once per everyMs; the repeats in between are counted in the next. */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; repeats: number }>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly everyMs = 60_000,
    private readonly now = () => Date.now(),
  ) {}

  problem(kind: string, text: string): void {
    const t = this.now();
    const l = this.last.get(kind);
    if (l && t - l.at < this.everyMs) {
      l.repeats++;
      return;
    }
    const more = l?.repeats ? ` (and ${l.repeats} more like it since the last line)` : '';
    this.last.set(kind, { at: t, repeats: 0 });
    this.write(`nettracer: ${said(text)}${more}\n`);
  }

  /** The problem is over: said once, and the next occurrence is said at once. */
  resolved(kind: string, text: string): void {
    if (!this.last.delete(kind)) return;
    this.write(`nettracer: ${said(text)}\n`);
  }
}

/** --events: connection events as OTLP log records (events.ts). */
export interface EventOutput {
  record(r: NettracerRecord, attrs: Attributes | undefined): void;
}

export interface AgentOptions extends SeriesOptions {
  defs: readonly MetricDef[];
  host: string;
  /** Metrics walks read in memory (default), or as records (--capture needs them). */
  walksAsRecords?: boolean;
}

export class Agent implements OutputFormat {
  readonly series: Series;
  private readonly agg: Aggregator;
  private closed?: ClosedWindow;
  private readonly sinks: Sink[] = [];
  /** Records the kernel could not hand over, from lost records. */
  recordsLost = 0;
  windows = 0;
  private failures = 0;
  /** A record came since the last cut: the end of tracing has a window to close. */
  private dirty = false;
  /** Connections a walk read in memory, and those it handed back as records (not followed yet, or a new owner). */
  sampled = 0;
  handedOver = 0;

  /** OutputFormat.metrics: the walks, in memory, unless asked for as records. */
  readonly metrics?: MetricsSampler;

  constructor(
    opts: AgentOptions,
    private readonly log: RateLimitedLog,
  ) {
    if (!opts.walksAsRecords) this.metrics = this.sampler;
    this.series = new Series(opts.defs, opts);
    this.agg = new Aggregator({
      host: opts.host,
      by: ['host', 'container', 'process'],
      processKey: opts.withPid ? 'pid' : 'comm',
      closed: (w) => (this.closed = w),
    });
  }

  addSink(s: Sink): void {
    this.sinks.push(s);
  }

  private events?: EventOutput;
  setEvents(e: EventOutput): void {
    this.events = e;
  }

  begin(nowMs: number): string {
    this.agg.begin(nowMs);
    return '';
  }

  records(records: readonly NettracerRecord[]): string {
    const now = Date.now(); // the records of now: their timestamps need not be parsed
    for (const r of records) {
      if (r.type === 'lost') {
        this.recordsLost += r.records_lost;
        if (r.records_lost || r.connections_untracked)
          this.log.problem(
            'lost',
            `the kernel lost ${r.records_lost} records and left ${r.connections_untracked} connections untracked (a bigger --ring-size or --map-size helps)`,
          );
        continue;
      }
      this.series.record(r);
      if ('saddr' in r) this.events?.record(r, this.series.attributesOf(r.id));
      this.agg.add(r, now);
      this.dirty = true;
    }
    return '';
  }

  /**
   * Metrics walks, in memory: a followed connection's totals go to the
   * aggregator and the series as its metrics record would. A connection not
   * followed (its opening record was lost) or with another owner now comes
   * back as a record, which says who it is.
   */
  readonly sampler: MetricsSampler = (() => {
    const view = new RecordView();
    const order = new WalkOrder<Conn>((id) => this.series.followed(id));
    let t = 0;
    return {
      begin: () => {
        t = Date.now();
        order.begin();
      },
      end: () => order.end(),
      add: (chunk: Buffer): number[] =>
        takeMetrics(view, chunk, (v) => {
          const c = order.find(v.id);
          const session = c && (c.session ??= this.agg.session(c.id, c));
          const taken =
            c !== undefined &&
            session !== undefined &&
            v.pid === c.pid &&
            this.agg.sample(
              session,
              t,
              Math.max(0, v.bytes_sent - c.synByte),
              v.bytes_received,
              v.packets_sent,
              v.packets_received,
              v.packets_retransmitted,
              v.rtt_us,
              c.family,
            );
          if (!taken) {
            this.handedOver++;
            return false;
          }
          this.series.sampled(c, v.rtt_var_us);
          this.sampled++;
          this.dirty = true;
          return true;
        }),
    };
  })();

  /** Sessions the aggregator holds: the connections followed, as the series' (bounded alike). */
  get sessions(): number {
    return this.agg.size;
  }

  /** After every metrics walk: the window ends here. */
  cycle(nowMs: number): string {
    this.cut(nowMs);
    return '';
  }

  end(nowMs: number): string {
    if (this.dirty) this.cut(nowMs);
    return '';
  }

  private cut(nowMs: number): void {
    this.dirty = false;
    this.closed = undefined;
    this.agg.cut(nowMs);
    const w = this.closed as ClosedWindow | undefined;
    if (!w) return;
    this.windows++;
    const points = this.series.window(w);
    // The aggregator forgets them too: without their close record, nothing else would.
    for (const id of points.lost) this.agg.forget(id);
    for (const s of this.sinks) {
      s.apply(points);
      s.flush?.();
    }
  }

  /** What an OTLP export came to: failures said (rate-limited, without secrets), the recovery once. */
  readonly exported = (o: ExportOutcome, dropped: number, endpoint: string): void => {
    if (o.ok) {
      if (this.failures) this.log.resolved('otlp', `OTLP export to ${endpoint} works again`);
      this.failures = 0;
      return;
    }
    if (o.deferred) {
      this.log.problem('otlp-slow', `OTLP export to ${endpoint} is slow: this window goes out with the next export`);
      return;
    }
    this.failures++;
    this.log.problem(
      'otlp',
      `OTLP export to ${endpoint} failed: ${o.error}; ${dropped} export${dropped === 1 ? '' : 's'} dropped so far`,
    );
  };
}
