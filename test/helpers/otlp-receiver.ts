// An OTLP/HTTP metrics receiver built from the specification: the official
// .proto files (Debian's opentelemetry-proto, installed by scripts/setup.sh)
// loaded by protobufjs decode each request; HTTP/JSON is read through the
// same message type. It can be told to fail (500), to answer late, or be
// stopped and started again on the same port.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

export const PROTO_ROOT = '/usr/include';
const SERVICE = 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto';
const LOGS_SERVICE = 'opentelemetry/proto/collector/logs/v1/logs_service.proto';

export interface Received {
  contentType: string;
  encoding: string;
  /** ExportMetricsServiceRequest as a plain object (longs as numbers, enums as names). */
  body: ExportRequest;
}

export interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number; boolValue?: boolean; doubleValue?: number };
}
export interface NumberPoint {
  attributes?: KeyValue[];
  asInt?: number;
  asDouble?: number;
}
export interface HistogramPoint {
  attributes?: KeyValue[];
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}
export interface Metric {
  name: string;
  unit?: string;
  description?: string;
  sum?: { dataPoints?: NumberPoint[]; aggregationTemporality: string; isMonotonic?: boolean };
  gauge?: { dataPoints?: NumberPoint[] };
  histogram?: { dataPoints?: HistogramPoint[]; aggregationTemporality: string };
}
export interface ExportRequest {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { metrics?: Metric[] }[];
  }[];
}

export type Mode = 'ok' | 'fail' | 'slow';

export function loadRequestTypes(): { metrics: protobuf.Type; logs: protobuf.Type } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  root.loadSync([SERVICE, LOGS_SERVICE], { keepCase: false });
  return {
    metrics: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  };
}

export interface LogRecord {
  eventName?: string;
  timeUnixNano?: number;
  body?: { stringValue?: string };
  attributes?: KeyValue[];
}
export interface LogsRequest {
  resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { logRecords?: LogRecord[] }[] }[];
}

const TO_OBJECT = { longs: Number, enums: String, defaults: false, arrays: true } as const;

export class OtlpReceiver {
  readonly received: Received[] = [];
  /** Requests to /v1/logs. */
  readonly logs: LogsRequest[] = [];
  mode: Mode = 'ok';
  /** Requests answered with an error or late, by mode. */
  refused = 0;
  private server?: Server;
  private readonly types = loadRequestTypes();
  port = 0;

  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.mode === 'fail') {
          this.refused++;
          res.writeHead(500).end();
          return;
        }
        if (this.mode === 'slow') {
          this.refused++;
          return; // never answered: the exporter's timeout ends it
        }
        let raw = Buffer.concat(chunks);
        const encoding = String(req.headers['content-encoding'] ?? '');
        if (encoding === 'gzip') raw = gunzipSync(raw);
        const contentType = String(req.headers['content-type'] ?? '');
        const isLogs = (req.url ?? '').startsWith('/v1/logs');
        const type = isLogs ? this.types.logs : this.types.metrics;
        const message = contentType.includes('json')
          ? type.fromObject(JSON.parse(raw.toString('utf8')) as Record<string, unknown>)
          : type.decode(raw);
        const body = type.toObject(message, TO_OBJECT);
        if (isLogs) this.logs.push(body);
        else this.received.push({ contentType, encoding, body: body });
        res.writeHead(200, { 'content-type': contentType.includes('json') ? 'application/json' : contentType });
        res.end(contentType.includes('json') ? '{}' : '');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Every log record received so far. */
  logRecords(): LogRecord[] {
    return this.logs.flatMap((r) =>
      (r.resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? [])),
    );
  }

  /** Every data point of metric NAME received so far, with its request index. */
  metrics(name: string): { at: number; metric: Metric; resource: KeyValue[] }[] {
    const out: { at: number; metric: Metric; resource: KeyValue[] }[] = [];
    this.received.forEach((r, at) => {
      for (const rm of r.body.resourceMetrics ?? [])
        for (const sm of rm.scopeMetrics ?? [])
          for (const m of sm.metrics ?? [])
            if (m.name === name) out.push({ at, metric: m, resource: rm.resource?.attributes ?? [] });
    });
    return out;
  }
}

export function attr(kvs: KeyValue[] | undefined, key: string): string | number | boolean | undefined {
  const v = kvs?.find((k) => k.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.boolValue ?? v?.doubleValue;
}
