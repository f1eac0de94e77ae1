// OTLP export with the OpenTelemetry JS SDK's exporters (HTTP/protobuf or
// HTTP/JSON) and its data model. The windows come aggregated already (sums,
// and histograms counted in their buckets, series.ts), so they are handed to
// the exporter as the SDK's ResourceMetrics rather than recorded again one
// observation at a time in its instruments: the cost of an export follows
// the series, not the connections, and so does the memory. Temporality as
// the SDK's selectors say it: delta counters and histograms by default (an
// UpDownCounter stays cumulative), everything cumulative when asked.
// At most one export is in flight: a window that ends while the previous
// export still runs is kept and goes out, added up, with the next, and an
// export that fails is dropped and counted: a slow or dead collector costs
// bounded memory and never holds up tracing. The exporter retries what the
// specification calls retryable (429, 502, 503, 504) with back-off, within
// its timeout.
import { type HrTime, ValueType } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from './config.js';
import { copyHist, type Hist, mergeHist } from './histogram.js';
import { type Attributes, type MetricDef, SELF_METRICS } from './metrics.js';
import type { Window } from './series.js';

export interface ExportOutcome {
  ok: boolean;
  /** Why it failed: the SDK's message (it names no header). */
  error?: string;
  /** Not collected now: it goes out with the next export. */
  deferred?: boolean;
}

/** A series' value to export: a sum, a last value, or a histogram; since `startMs`. */
interface Value {
  def: MetricDef;
  attrs: Attributes;
  value: number;
  hist?: Hist;
  startMs: number;
}

const SELF = Object.values(SELF_METRICS);

export class OtlpSink {
  private readonly exporter: PushMetricExporter;
  private readonly resource: Resource;
  private readonly delta: boolean;
  /** What the windows added since the last collection, by metric and series key. */
  private pending = new Map<string, Value>();
  /** Cumulative sums and histograms (all of them when cumulative; UpDownCounters always): every live series. */
  private readonly totals = new Map<string, Value>();
  private readonly startMs = Date.now();
  private lastCollectMs = this.startMs;
  /** The self-metrics' values at the last collection (delta). */
  private readonly selfWas = new Map<string, number>();
  private inFlight?: Promise<void>;
  dropped = 0;
  deferred = 0;
  exported = 0;

  constructor(
    cfg: OtlpConfig & { url: string },
    private readonly counts: () => { overflow: number; lost: number; events: number },
    private readonly onOutcome: (o: ExportOutcome) => void,
  ) {
    const options = {
      url: cfg.url,
      headers: cfg.headers,
      compression: cfg.compression as never,
      timeoutMillis: cfg.timeoutMs,
      temporalityPreference: cfg.temporality === 'delta' ? 0 : 1,
    };
    this.exporter = cfg.protocol === 'http/json' ? new JsonExporter(options) : new ProtoExporter(options);
    this.resource = resourceFromAttributes(cfg.resource);
    this.delta = cfg.temporality === 'delta';
  }

  /** Cumulative on the wire: UpDownCounters always (as the SDK's delta selector keeps them), the rest when asked. */
  private cumulative(def: MetricDef): boolean {
    return def.kind === 'updown' || (!this.delta && def.kind !== 'gauge');
  }

  apply(w: Window): void {
    for (const p of w.points) {
      const id = `${p.def.name}\n${p.key}`;
      const into = this.cumulative(p.def) ? this.totals : this.pending;
      const v = into.get(id);
      if (!v) {
        into.set(id, {
          def: p.def,
          attrs: p.attrs,
          value: p.value,
          hist: p.hist && copyHist(p.hist),
          startMs: this.lastCollectMs,
        });
      } else if (v.hist && p.hist) mergeHist(v.hist, p.hist);
      else if (p.def.kind === 'gauge') v.value = p.value;
      else v.value += p.value;
    }
    // Gone from /metrics, gone from the totals: memory follows the live series.
    for (const e of w.expired) this.totals.delete(`${e.def.name}\n${e.key}`);
  }

  /** The export of what is pending (deltas, last values) and every total, as the SDK's data model. */
  private collect(nowMs: number): MetricData[] {
    const end = millisToHrTime(nowMs);
    const byDef = new Map<MetricDef, MetricData>();
    const put = (v: Value, start: HrTime) => {
      let m = byDef.get(v.def);
      if (!m) byDef.set(v.def, (m = this.metricOf(v.def)));
      const point = { startTime: start, endTime: end, attributes: v.attrs };
      if (m.dataPointType === DataPointType.HISTOGRAM) {
        const h = v.hist as Hist;
        m.dataPoints.push({
          ...point,
          value: {
            buckets: { boundaries: [...(v.def.buckets ?? [])], counts: [...h.counts] },
            sum: h.sum,
            count: h.count,
            ...(h.count ? { min: h.min, max: h.max } : {}),
          },
        });
      } else if (m.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM)
        m.dataPoints.push({ ...point, value: v.value });
    };
    for (const v of this.pending.values()) put(v, millisToHrTime(v.startMs));
    for (const v of this.totals.values()) put(v, millisToHrTime(v.startMs));
    this.pending = new Map();
    const metrics = [...byDef.values()];
    // The agent's own health: monotonic sums of what it counted.
    const counts = this.counts();
    const read = {
      [SELF_METRICS.exportsDropped.name]: this.dropped,
      [SELF_METRICS.seriesOverflow.name]: counts.overflow,
      [SELF_METRICS.recordsLost.name]: counts.lost,
      [SELF_METRICS.eventsDropped.name]: counts.events,
    };
    for (const m of SELF) {
      const now = read[m.name];
      const was = this.selfWas.get(m.name) ?? 0;
      this.selfWas.set(m.name, now);
      metrics.push({
        descriptor: { name: m.name, description: m.description, unit: m.unit, valueType: ValueType.INT },
        aggregationTemporality: this.delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: [
          {
            startTime: millisToHrTime(this.delta ? this.lastCollectMs : this.startMs),
            endTime: end,
            attributes: {},
            value: this.delta ? now - was : now,
          },
        ],
      });
    }
    this.lastCollectMs = nowMs;
    return metrics;
  }

  private metricOf(def: MetricDef): MetricData {
    // Counts are integers on the wire (asInt); gauges and histograms are doubles.
    const whole = def.kind === 'counter' || def.kind === 'updown';
    const descriptor = {
      name: def.name,
      description: def.description,
      unit: def.unit,
      valueType: whole ? ValueType.INT : ValueType.DOUBLE,
    };
    const aggregationTemporality = this.cumulative(def)
      ? AggregationTemporality.CUMULATIVE
      : AggregationTemporality.DELTA;
    if (def.kind === 'histogram')
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: [] };
    if (def.kind === 'gauge')
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: [] };
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: DataPointType.SUM,
      isMonotonic: def.kind === 'counter',
      dataPoints: [],
    };
  }

  /** Collects what was recorded and exports it, unless an export is still in flight (then: with the next). */
  flush(): void {
    if (this.inFlight) {
      this.deferred++;
      this.onOutcome({ ok: false, deferred: true, error: 'the previous export is still in flight' });
      return;
    }
    this.inFlight = this.exportOnce().finally(() => (this.inFlight = undefined));
  }

  private async exportOnce(): Promise<void> {
    const resourceMetrics = {
      resource: this.resource,
      scopeMetrics: [{ scope: { name: 'nettracer' }, metrics: this.collect(Date.now()) }],
    };
    const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) =>
      this.exporter.export(resourceMetrics, resolve),
    );
    if (result.code === ExportResultCode.SUCCESS) {
      this.exported++;
      this.onOutcome({ ok: true });
    } else {
      this.dropped++;
      this.onOutcome({ ok: false, error: result.error?.message ?? 'export failed' });
    }
  }

  /** The last window's export, waited for at most timeoutMs; then the SDK is shut down. */
  async close(timeoutMs: number): Promise<void> {
    const wait = (p: Promise<unknown>) =>
      Promise.race([p, new Promise((r) => setTimeout(r, timeoutMs).unref())]).catch(() => {});
    if (this.inFlight) await wait(this.inFlight);
    this.flush();
    if (this.inFlight) await wait(this.inFlight);
    await wait(this.exporter.shutdown());
  }
}
