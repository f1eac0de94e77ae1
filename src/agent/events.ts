// --events: one OTLP log record per connect, accept and close, with the
// connection's metric attributes. Bounded three ways, each drop counted:
// a rate (a token bucket, --events-rate a second), a queue (records handed
// to the SDK and not yet exported or refused), and the SDK's batch size.
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import type { Logger } from '@opentelemetry/api-logs';
import type { NettracerRecord } from '../generated/records.js';
import type { OtlpConfig } from './config.js';
import type { Attributes } from './metrics.js';

/** Records handed to the SDK and not yet exported or refused, at most (the SDK would drop past its queue uncounted). */
export const EVENT_QUEUE = 4096;

/** The logs URL beside a metrics URL: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else .../v1/metrics -> .../v1/logs. */
export function logsUrl(metricsUrl: string, env: NodeJS.ProcessEnv): string {
  if (env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) return new URL(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT).href;
  const u = new URL(metricsUrl);
  u.pathname = u.pathname.endsWith('/v1/metrics')
    ? u.pathname.replace(/\/v1\/metrics$/, '/v1/logs')
    : u.pathname.replace(/\/?$/, '/v1/logs');
  return u.href;
}

/** Tokens refill at `rate` a second up to `rate`; each event takes one. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly now = () => Date.now(),
  ) {
    this.tokens = rate;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

export class EventSink {
  private readonly provider: LoggerProvider;
  private readonly logger: Logger;
  private readonly bucket: TokenBucket;
  private pending = 0;
  /** Events not sent: over the rate, over the queue, or refused by the collector. */
  dropped = 0;
  sent = 0;

  constructor(cfg: OtlpConfig & { url: string }, ratePerS: number, onDrop: (why: string) => void) {
    const options = {
      url: cfg.url,
      headers: cfg.headers,
      compression: cfg.compression as never,
      timeoutMillis: cfg.timeoutMs,
    };
    const inner = cfg.protocol === 'http/json' ? new JsonExporter(options) : new ProtoExporter(options);
    // The SDK's exporter, counted: what it refuses is dropped.
    const exporter: LogRecordExporter = {
      export: (records: ReadableLogRecord[], done) =>
        inner.export(records, (r) => {
          this.pending -= records.length;
          if (r.code === ExportResultCode.SUCCESS) this.sent += records.length;
          else {
            this.dropped += records.length;
            onDrop(`the collector refused ${records.length} events: ${r.error?.message ?? 'export failed'}`);
          }
          done(r);
        }),
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush(),
    };
    this.provider = new LoggerProvider({
      resource: resourceFromAttributes(cfg.resource),
      processors: [
        new BatchLogRecordProcessor({
          exporter,
          maxQueueSize: EVENT_QUEUE,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1000,
          exportTimeoutMillis: cfg.timeoutMs,
        }),
      ],
    });
    this.logger = this.provider.getLogger('nettracer');
    this.bucket = new TokenBucket(ratePerS);
    this.onDrop = onDrop;
  }

  private readonly onDrop: (why: string) => void;

  /** A record as it arrives, with its connection's attributes. */
  record(r: NettracerRecord, attrs: Attributes | undefined): void {
    if (!attrs || (r.type !== 'connect' && r.type !== 'accept' && r.type !== 'close')) return;
    if (!this.bucket.take()) {
      this.dropped++;
      this.onDrop('more connection events than --events-rate allows');
      return;
    }
    if (this.pending >= EVENT_QUEUE) {
      this.dropped++;
      this.onDrop(`${EVENT_QUEUE} connection events wait for the collector`);
      return;
    }
    this.pending++;
    this.logger.emit({
      eventName: `nettracer.tcp.${r.type}`,
      timestamp: new Date(r.timestamp),
      body: `${r.type} ${r.saddr}:${r.sport} -> ${r.daddr}:${r.dport}`,
      attributes: r.type === 'close' ? { ...attrs, 'nettracer.tcp.duration_s': r.duration_ms / 1000 } : attrs,
    });
  }

  async close(timeoutMs: number): Promise<void> {
    await Promise.race([
      this.provider.shutdown().catch(() => {}),
      new Promise((r) => setTimeout(r, timeoutMs).unref()),
    ]);
  }
}
