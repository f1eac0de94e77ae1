// The Prometheus endpoint: /metrics in the text exposition format
// (prom-client), cumulative, the table's names with their unit suffixes.
// Series that series.ts expires are removed. The server is bound before
// privileges are dropped (a port below 1024 needs root), to 127.0.0.1
// unless a host is given, and answers only GET /metrics with bounded
// connections and time: it is a port on a shared host.
import { createServer, type Server } from 'node:http';
import { isIPv6 } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ATTRIBUTE_KEYS, type Attributes, labelOf, type MetricDef, SELF_METRICS } from './metrics.js';
import type { Window } from './series.js';

type PromMetric = Counter | Gauge | Histogram;

const LABELS = ATTRIBUTE_KEYS.map(labelOf);
const labels = (a: Attributes): Record<string, string | number> =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [labelOf(k), v]));

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
  readonly registry = new Registry();
  private readonly metrics = new Map<string, PromMetric>();
  private server?: Server;

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
      this.metrics.set(
        d.name,
        d.kind === 'counter'
          ? new Counter(base)
          : d.kind === 'histogram'
            ? new Histogram({ ...base, buckets: [...(d.buckets ?? [])] })
            : new Gauge(base),
      );
    }
    const self = (m: (typeof SELF_METRICS)[keyof typeof SELF_METRICS], read: () => number) =>
      new Counter({
        name: m.prom,
        help: m.description,
        registers: [this.registry],
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
    for (const p of w.points) {
      const m = this.metrics.get(p.def.name);
      const l = labels(p.attrs);
      if (m instanceof Histogram) for (const v of p.values ?? []) m.observe(l, v);
      else if (m instanceof Counter) m.inc(l, p.value);
      else if (m instanceof Gauge) {
        if (p.def.kind === 'gauge') m.set(l, p.value);
        else m.inc(l, p.value);
      }
    }
    for (const e of w.expired) this.metrics.get(e.def.name)?.remove(labels(e.attrs));
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
      this.registry.metrics().then(
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
