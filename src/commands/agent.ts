import { Flags } from '@oclif/core';
import { hostname } from 'node:os';
import { Agent, RateLimitedLog } from '../agent/agent.js';
import { ConfigProblem, otlpConfig, redact } from '../agent/config.js';
import { METRIC_SETS, type MetricSetChoice, metricsOf } from '../agent/metrics.js';
import type { PeerGrouping } from '../agent/series.js';
import { BaseCommand } from '../cli/base.js';
import { parseCidr } from '../cli/cidr.js';
import { EXIT } from '../cli/exit-codes.js';
import { FILTER_FLAGS, numberFlag, pickTraceFlags, type TraceFlags, writableFile } from '../cli/flags.js';
import { toNdjson } from '../output/ndjson.js';
import { runTrace } from '../run/trace-run.js';
import { sessionOptions } from './trace.js';

/**
 * How long records below the ring's wake-up mark may wait (trace: 50 ms).
 * The agent's numbers are read once an export interval, and every metrics
 * walk drains the ring first: a 50 ms timer would wake it 20 times a second
 * for nothing. A burst past the mark still wakes it at once.
 */
const AGENT_POLL_MS = 1000;

function parsePeers(text: string): PeerGrouping {
  const t = text.trim();
  if (t === 'none' || t === 'address') return { by: t };
  const cidrs = t.split(',').map((c) => {
    try {
      const p = parseCidr(c);
      return `${c.trim().split('/')[0]}/${p.prefix}`;
    } catch {
      throw new Error(`--peers takes none, address, or CIDR classes (like 10.0.0.0/8,fd00::/8), got "${c}"`);
    }
  });
  return { by: 'cidr', cidrs };
}

export default class AgentCommand extends BaseCommand {
  static override summary = 'Trace as `trace` does and export the metrics over OTLP and Prometheus (a node agent).';
  static override description = `Traces every TCP connection of the host like \`trace\` (the same filters and hooks) and,
instead of records on standard output, exports metrics: over OTLP/HTTP with the OpenTelemetry SDK
(its exporters; protobuf by default, JSON with --otlp-protocol http/json, gzip, delta temporality by default),
configured by --otlp-* flags or the standard OTEL_EXPORTER_OTLP_* variables, and/or on a
Prometheus /metrics endpoint (--prometheus). Two metric sets (--metric-set): the
OpenTelemetry-shaped nettracer.tcp.* and the Dynatrace NetTracer keys tech.nettracer.*, whose
numbers are summarize's for the same window. Every --export-interval seconds the connections are
walked, in memory (no record per connection), and the window ends: its values are aggregated per
series (histograms in their buckets) before they reach the exporters. Cardinality is bounded by default: no client port, no peer address
(--peers), no PID (--with-pid), at most --max-series series per metric and an overflow series.
Problems go to standard error, one line per kind at most once a minute; a failed export never
stops tracing and is counted (nettracer_agent_exports_dropped_total).`;
  static override examples = [
    '<%= config.bin %> agent --prometheus 9464',
    'OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 <%= config.bin %> agent --metric-set both',
    '<%= config.bin %> agent --otlp-endpoint https://collector:4318/v1/metrics --otlp-header "authorization=Api-Token ..."',
  ];
  static override flags = {
    'otlp-endpoint': Flags.string({
      summary:
        'OTLP/HTTP metrics URL (default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics; none: no OTLP).',
      helpValue: 'URL',
    }),
    'otlp-header': Flags.string({
      multiple: true,
      summary: 'A header of every export, KEY=VALUE (added to OTEL_EXPORTER_OTLP_HEADERS). Never logged.',
      helpValue: 'KEY=VALUE',
    }),
    'otlp-protocol': Flags.string({
      options: ['http/protobuf', 'http/json'],
      summary: 'OTLP encoding (default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf).',
    }),
    'otlp-compression': Flags.string({
      options: ['gzip', 'none'],
      summary: 'Compression of exports (default: OTEL_EXPORTER_OTLP_COMPRESSION, else gzip).',
    }),
    temporality: Flags.string({
      options: ['delta', 'cumulative'],
      summary: 'OTLP temporality (default: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else delta).',
    }),
    'export-interval': numberFlag('export-interval', { min: 1, max: 86400 })({
      summary: 'Seconds per window and export (default: OTEL_METRIC_EXPORT_INTERVAL, else 60).',
      helpValue: 'SECONDS',
    }),
    'metric-set': Flags.string({
      options: [...METRIC_SETS],
      default: 'otel',
      summary: 'Which metrics: otel (nettracer.tcp.*), dynatrace (tech.nettracer.*) or both.',
    }),
    prometheus: Flags.string({
      summary: 'Serve /metrics on [HOST:]PORT (HOST default 127.0.0.1; ":PORT" for every address).',
      helpValue: '[HOST:]PORT',
    }),
    peers: Flags.custom<PeerGrouping>({ parse: async (t) => parsePeers(t) })({
      summary: 'Peer addresses as attributes: none (default), address, or CIDR classes (others: "other").',
      helpValue: 'none|address|CIDR,...',
    }),
    'with-pid': Flags.boolean({
      default: false,
      summary: 'Add process.pid to the attributes (one series per process).',
    }),
    'max-series': numberFlag('max-series', { min: 1, max: 1_000_000, integer: true })({
      default: 2000,
      summary: 'Series per metric; points beyond go to one series with otel.metric.overflow=true, counted.',
    }),
    'expire-windows': numberFlag('expire-windows', { min: 1, max: 10_000, integer: true })({
      default: 5,
      summary: 'A series with no point in this many windows is removed from /metrics.',
    }),
    events: Flags.boolean({
      default: false,
      summary:
        'Also export one OTLP log record per connect, accept and close (to OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, or beside the metrics: /v1/logs).',
    }),
    'events-rate': numberFlag('events-rate', { min: 1, max: 100_000, integer: true })({
      default: 100,
      summary: 'With --events: at most this many events a second (a burst as large); the rest are dropped and counted.',
    }),
    capture: Flags.custom<string>({ parse: async (text) => writableFile(text, '--capture') })({
      summary:
        'Also write the records aggregated, as NDJSON, to FILE (summarize FILE gives the same numbers). Metrics walks then make a record per connection, as trace does, rather than being read in memory: it costs more CPU.',
      helpValue: 'FILE',
    }),
    // The trace flags that mean the same for the agent (filters, table, hooks, privileges).
    ...pickTraceFlags([
      ...FILTER_FLAGS,
      'map-size',
      'table-share',
      'ring-size',
      'stats-interval',
      'hook-strategy',
      'program',
      'user',
      'keep-privileges',
      'verbose',
      'ready-fd',
      'duration',
    ]),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(AgentCommand);
    const host = hostname();
    let cfg;
    try {
      cfg = otlpConfig(
        {
          endpoint: flags['otlp-endpoint'],
          headers: flags['otlp-header'],
          protocol: flags['otlp-protocol'],
          compression: flags['otlp-compression'],
          temporality: flags.temporality,
          intervalS: flags['export-interval'],
        },
        process.env,
        host,
      );
    } catch (err) {
      if (err instanceof ConfigProblem) return this.fail(err.message, EXIT.usage);
      throw err;
    }
    if (!cfg.url && !flags.prometheus)
      return this.fail(
        'nothing to export to: give --prometheus [HOST:]PORT, --otlp-endpoint URL or OTEL_EXPORTER_OTLP_ENDPOINT',
        EXIT.usage,
      );
    const defs = metricsOf(flags['metric-set'] as MetricSetChoice);
    const log = new RateLimitedLog((line) => process.stderr.write(line));
    const agent = new Agent(
      {
        defs,
        host: cfg.resource['host.name'] ?? host,
        peers: flags.peers ?? { by: 'none' },
        withPid: flags['with-pid'],
        maxSeries: flags['max-series'],
        expireWindows: flags['expire-windows'],
        walksAsRecords: flags.capture !== undefined,
      },
      log,
    );
    if (flags.events && !cfg.url)
      return this.fail('--events sends OTLP logs: give --otlp-endpoint URL or OTEL_EXPORTER_OTLP_ENDPOINT', EXIT.usage);
    const counts = () => ({
      dropped: otlp?.dropped ?? 0,
      overflow: agent.series.overflowed,
      lost: agent.recordsLost,
      events: events?.dropped ?? 0,
    });
    // Loaded only here: `--help` and the other commands never evaluate the SDK.
    const [{ OtlpSink }, { PrometheusSink, parseListen }, { EventSink, logsUrl }] = await Promise.all([
      import('../agent/otlp.js'),
      import('../agent/prometheus.js'),
      import('../agent/events.js'),
    ]);
    let listen;
    try {
      listen = flags.prometheus ? parseListen(flags.prometheus) : undefined;
    } catch (err) {
      return this.fail((err as Error).message, EXIT.usage);
    }
    const url = cfg.url;
    const endpoint = url ? redact(url) : '';
    const otlp = url
      ? new OtlpSink({ ...cfg, url }, counts, (o) => agent.exported(o, otlp?.dropped ?? 0, endpoint))
      : undefined;
    const prom = listen ? new PrometheusSink(defs, counts) : undefined;
    let events: InstanceType<typeof EventSink> | undefined;
    if (flags.events && url) {
      let eventsUrl;
      try {
        eventsUrl = logsUrl(url, process.env);
      } catch {
        return this.fail('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT must be an http:// or https:// URL', EXIT.usage);
      }
      const where = redact(eventsUrl);
      events = new EventSink({ ...cfg, url: eventsUrl }, flags['events-rate'], (why) =>
        log.problem('events', `connection events to ${where} dropped: ${why}; ${events?.dropped ?? 0} dropped so far`),
      );
      agent.setEvents(events);
    }
    if (otlp) agent.addSink(otlp);
    if (prom && listen) {
      agent.addSink(prom);
      // Bound now, while root: privileges are dropped once the tracer is attached.
      try {
        const at = await prom.listen(listen.host, listen.port);
        if (flags.verbose) process.stderr.write(`nettracer: serving /metrics on ${at.host}:${at.port}\n`);
      } catch (err) {
        return this.fail(`--prometheus ${flags.prometheus}: ${(err as Error).message}`, EXIT.usage);
      }
    }
    if (flags.verbose && url) process.stderr.write(`nettracer: exporting OTLP (${cfg.protocol}) to ${endpoint}\n`);
    try {
      await runTrace({
        session: {
          ...sessionOptions({
            ...flags,
            interval: cfg.intervalS,
            // A stats record every window at least: its listeners are the listen metrics' values.
            'stats-interval': Math.min(flags['stats-interval'], cfg.intervalS),
            incremental: false,
            'header-size': false,
          } as unknown as TraceFlags),
          pollMs: AGENT_POLL_MS,
        },
        format: agent,
        logFile: flags.capture ? { path: flags.capture, format: { records: toNdjson } } : undefined,
        durationS: flags.duration,
        keepPrivileges: flags['keep-privileges'],
        user: flags.user,
        readyFd: flags['ready-fd'],
        note: flags.verbose ? (line) => process.stderr.write(`nettracer: ${line}\n`) : undefined,
      });
    } finally {
      await otlp?.close(Math.min(cfg.timeoutMs, 5_000));
      await events?.close(Math.min(cfg.timeoutMs, 5_000));
      await prom?.close();
    }
  }
}
