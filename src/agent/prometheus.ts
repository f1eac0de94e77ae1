// The Prometheus endpoint: /metrics in the text exposition format
// (prom-client), cumulative, the table's names with their unit suffixes.
// Series that series.ts expires are removed. The server is bound before
// privileges are dropped (a port below 1024 needs root), to 127.0.0.1
// unless a host is given, and answers only GET /metrics with bounded
// connections and time: it is a port on a shared host.
import { createServer, type Server } from 'node:http';
import { isIPv6 } from 'node:net';
import { Counter, Gauge, type Metric, Registry } from 'prom-client';
import { type Hist, mergeHist, newHist } from './histogram.js';
import { ATTRIBUTE_KEYS, type Attributes, labelOf, type MetricDef, SELF_METRICS } from './metrics.js';
import type { Window } from './series.js';

/**
 * A Prometheus histogram fed a window's bucket counts per series at once
 * (prom-client's Histogram takes one observation a call: one per connection
 * and window). The registry formats it as it formats its own: _bucket with
 * cumulative `le` counts, _sum and _count.
 */
class WindowHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { labels: Record<string, string | number>; hist: Hist }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  add(key: string, labels: Record<string, string | number>, h: Hist): void {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, hist: newHist(this.bounds) }));
    mergeHist(s.hist, h);
  }

  remove(key: string): void {
    this.series.delete(key);
  }

  get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const { labels, hist } of this.series.values()) {
      let below = 0;
      this.bounds.forEach((le, i) => {
        below += hist.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: below });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: hist.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: hist.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: hist.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

type PromMetric = Counter | Gauge | WindowHistogram;

const LABELS = ATTRIBUTE_KEYS.map(labelOf);
/** A series' labels; its attribute object is the same every window (series.ts), so they are made once. */
const labelCache = new WeakMap<Attributes, Record<string, string | number>>();
function labels(a: Attributes): Record<string, string | number> {
  let l = labelCache.get(a);
  if (!l) labelCache.set(a, (l = Object.fromEntries(Object.entries(a).map(([k, v]) => [labelOf(k), v]))));
  return l;
}

/** "9464", "127.0.0.1:9464", "[::1]:9464", ":9464" (every address): host and port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535)
    throw new Error(`--prometheus takes [HOST:]PORT (like 9464 or 0.0.0.0:9464), got "${text}"`);
  const host = m[1] === undefined ? '127.0.0.1' : m[1] === '' ? '::' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

export class PrometheusSink {
  /** The windows' series: their text changes only when a window is applied, and is kept until then. */
  readonly registry = new Registry();
  /** The agent's own counters, which change at any time: made at each scrape (four lines). */
  private readonly selfRegistry = new Registry();
  private readonly metrics = new Map<string, PromMetric>();
  private server?: Server;
  /** The registry's text as of window `generation` (a scrape between windows costs a copy, not a render). */
  private text?: { generation: number; text: string };
  private generation = 0;

  constructor(
    defs: readonly MetricDef[],
    counts: () => { dropped: number; overflow: number; lost: number; events: number },
  ) {
    for (const d of defs) {
      const base = {
        name: d.prom,
        help: `${d.description} (${d.unit})`,
        labelNames: LABELS,
        registers: [this.registry],
      };
      let m: PromMetric;
      if (d.kind === 'histogram') {
        m = new WindowHistogram(base.name, base.help, d.buckets ?? []);
        // The registry reads name, type and get(), as of its own metrics.
        this.registry.registerMetric(m as unknown as Metric);
      } else m = d.kind === 'counter' ? new Counter(base) : new Gauge(base);
      this.metrics.set(d.name, m);
    }
    const self = (m: (typeof SELF_METRICS)[keyof typeof SELF_METRICS], read: () => number) =>
      new Counter({
        name: m.prom,
        help: m.description,
        registers: [this.selfRegistry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    self(SELF_METRICS.exportsDropped, () => counts().dropped);
    self(SELF_METRICS.seriesOverflow, () => counts().overflow);
    self(SELF_METRICS.recordsLost, () => counts().lost);
    self(SELF_METRICS.eventsDropped, () => counts().events);
  }

  apply(w: Window): void {
    this.generation++;
    for (const p of w.points) {
      const m = this.metrics.get(p.def.name);
      const l = labels(p.attrs);
      if (m instanceof WindowHistogram) {
        if (p.hist) m.add(p.key, l, p.hist);
      } else if (m instanceof Counter) m.inc(l, p.value);
      else if (m instanceof Gauge) {
        if (p.def.kind === 'gauge') m.set(l, p.value);
        else m.inc(l, p.value);
      }
    }
    for (const e of w.expired) {
      const m = this.metrics.get(e.def.name);
      if (m instanceof WindowHistogram) m.remove(e.key);
      else m?.remove(labels(e.attrs));
    }
  }

  /**
   * The exposition text. Any local user can scrape as often as they like:
   * the series (up to --max-series per metric, each histogram's buckets)
   * are rendered once a window, not once a scrape.
   */
  private async scrape(): Promise<string> {
    const generation = this.generation;
    let text = this.text?.generation === generation ? this.text.text : undefined;
    if (text === undefined) {
      text = await this.registry.metrics();
      if (this.generation === generation) this.text = { generation, text };
    }
    return text + (await this.selfRegistry.metrics());
  }

  /** Binds now (call it while still root); resolves once listening. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' });
        res.end('nettracer: GET /metrics\n');
        return;
      }
      this.scrape().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    // A scraper needs one connection and a second: room for a few, no slowloris.
    server.maxConnections = 16;
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, ipv6Only: isIPv6(host) && host !== '::' }, () => resolve());
    });
    this.server = server;
    const a = server.address();
    return typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port };
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
