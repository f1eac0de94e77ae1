// OTLP export with the OpenTelemetry JS SDK: one instrument per row of the
// metric table, fed the points of each window, collected and exported right
// after (the window is the export interval). At most one export is in
// flight: a window that ends while the previous export still runs is not
// collected yet (the SDK keeps adding to the same series, so it goes out
// with the next export), and an export that fails is dropped and counted:
// a slow or dead collector costs bounded memory and never holds up tracing. The SDK's exporter retries what the specification
// calls retryable (429, 502, 503, 504) with back-off, within its timeout.
import {
  type Attributes as OtelAttributes,
  type Counter,
  type Gauge,
  type Histogram,
  type UpDownCounter,
  ValueType,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  CumulativeTemporalitySelector,
  DeltaTemporalitySelector,
  OTLPMetricExporter as JsonExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from './config.js';
import { type MetricDef, SELF_METRICS } from './metrics.js';
import type { Window } from './series.js';

type Instrument = Counter | Histogram | Gauge | UpDownCounter;

/** A reader collected on demand: the agent decides when a window ends. */
class WindowReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface ExportOutcome {
  ok: boolean;
  /** Why it failed: the SDK's message (it names no header). */
  error?: string;
  /** Not collected now: it goes out with the next export. */
  deferred?: boolean;
}

export class OtlpSink {
  private readonly provider: MeterProvider;
  private readonly reader: WindowReader;
  private readonly exporter: PushMetricExporter;
  private readonly instruments = new Map<string, Instrument>();
  private inFlight?: Promise<void>;
  dropped = 0;
  deferred = 0;
  exported = 0;

  constructor(
    defs: readonly MetricDef[],
    cfg: OtlpConfig & { url: string },
    maxSeries: number,
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
    this.reader = new WindowReader({
      aggregationTemporalitySelector:
        cfg.temporality === 'delta' ? DeltaTemporalitySelector : CumulativeTemporalitySelector,
      // Our own cap (series.ts) comes first; the SDK's is a backstop above it.
      cardinalitySelector: () => maxSeries + 2,
    });
    this.provider = new MeterProvider({ resource: resourceFromAttributes(cfg.resource), readers: [this.reader] });
    const meter = this.provider.getMeter('nettracer');
    for (const d of defs) {
      // Counts are integers on the wire (asInt); gauges and histograms are doubles.
      const whole = d.kind === 'counter' || d.kind === 'updown';
      const o = { unit: d.unit, description: d.description, ...(whole ? { valueType: ValueType.INT } : {}) };
      this.instruments.set(
        d.name,
        d.kind === 'counter'
          ? meter.createCounter(d.name, o)
          : d.kind === 'updown'
            ? meter.createUpDownCounter(d.name, o)
            : d.kind === 'gauge'
              ? meter.createGauge(d.name, o)
              : meter.createHistogram(d.name, { ...o, advice: { explicitBucketBoundaries: [...(d.buckets ?? [])] } }),
      );
    }
    // The agent's own health, read at each collection.
    const self = (m: (typeof SELF_METRICS)[keyof typeof SELF_METRICS], read: () => number) =>
      meter
        .createObservableCounter(m.name, { unit: m.unit, description: m.description })
        .addCallback((r) => r.observe(read()));
    self(SELF_METRICS.exportsDropped, () => this.dropped);
    self(SELF_METRICS.seriesOverflow, () => this.counts().overflow);
    self(SELF_METRICS.recordsLost, () => this.counts().lost);
    self(SELF_METRICS.eventsDropped, () => this.counts().events);
  }

  apply(w: Window): void {
    for (const p of w.points) {
      const i = this.instruments.get(p.def.name);
      const attrs = p.attrs as OtelAttributes;
      if (!i) continue;
      if (p.values) for (const v of p.values) (i as Histogram).record(v, attrs);
      else if ('record' in i) i.record(p.value, attrs);
      else i.add(p.value, attrs);
    }
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
    const { resourceMetrics } = await this.reader.collect();
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
