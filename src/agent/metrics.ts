// The one table of what `nettracer agent` exports: every metric of both
// sets, its OTLP name, Prometheus name, instrument, unit and where its
// values come from. A rename, a new set member or a new counter (issue 21's
// failed attempts with error.type) is one row here; the OTLP and Prometheus
// sinks (otlp.ts, prometheus.ts) only read it.
import type { NettracerRecord, StatsRecord, SummaryRecord } from '../generated/records.js';
import type { SessionWindow } from '../summary/aggregate.js';

export type MetricSet = 'otel' | 'dynatrace';
export const METRIC_SETS = ['otel', 'dynatrace', 'both'] as const;
export type MetricSetChoice = (typeof METRIC_SETS)[number];

/**
 * counter: deltas added; histogram: observations; gauge: this window's value
 * (a series not set in a window is gone); updown: a level (open connections).
 */
export type Kind = 'counter' | 'histogram' | 'gauge' | 'updown';

export type Attributes = Record<string, string | number>;

/** What the agent knows of a connection beyond summarize's numbers for its window. */
export interface ConnFacts {
  /** The kernel's RTT variance (mdev), its last value (0: none yet). */
  readonly rttVarUs: number;
}

/**
 * Where a metric's values come from, each the same numbers summarize prints:
 * - session: one closed window's SessionWindow of one connection (src/summary/aggregate.ts), as parts;
 * - row: one summary row of the window (per process, container and host);
 * - rowSessions: the sessions of one summary row (histograms whose sum, count, min and max are the row's);
 * - record: a record as it arrives (connection events);
 * - listener: a listener of the last stats record (server.address, server.port);
 * - level: the open connections at the end of the window.
 * Each returns [value, extra attributes] pairs; none: nothing to record.
 */
export type Source =
  | { session: readonly SessionPart[] }
  | { row: (r: SummaryRecord) => number | undefined }
  | { rowSessions: (s: SessionWindow) => number }
  | { record: (r: NettracerRecord) => [number, Attributes?][] }
  | { listener: (l: Listener) => number }
  | { level: true };

/**
 * A value of a connection's window and the attributes it adds; undefined:
 * no value. A fixed list, not a function making one: it runs for every
 * connection of every window.
 */
export type SessionPart = readonly [value: (s: SessionWindow, c: ConnFacts) => number | undefined, extra?: Attributes];

/** A listener as the stats record lists it (one with drops, a queue or handshakes pending). */
export type Listener = NonNullable<StatsRecord['listeners']>[number];

export interface MetricDef {
  set: MetricSet;
  /** The OTLP name. */
  name: string;
  /** The Prometheus name: unit suffix, `_total` for counters (promtool's rules; bit/s is `_bitrate`: promtool refuses "bits"). */
  prom: string;
  kind: Kind;
  /** UCUM, as OTLP carries it. */
  unit: string;
  description: string;
  /** Explicit histogram bucket boundaries, in the metric's unit. */
  buckets?: readonly number[];
  from: Source;
}

/**
 * RTT buckets in seconds: 50 us (loopback) to 5 s (a satellite link, a
 * retransmitted SYN). The SDK's default buckets (0 to 10000) suit milliseconds.
 */
export const RTT_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
/** Connection lifetimes in seconds: 1 ms to an hour. */
export const DURATION_BUCKETS_S = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** Bytes per session and window: powers of ten from 100 B to 10 GB. */
export const BYTES_BUCKETS = [100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

const TX = { 'network.io.direction': 'transmit' };
const RX = { 'network.io.direction': 'receive' };
const us = (x: number) => x / 1e6;
const isOpen = (r: NettracerRecord) => r.type === 'connect' || r.type === 'accept';

export const METRICS: readonly MetricDef[] = [
  // OpenTelemetry-shaped, after the semantic-conventions proposal for system.network.tcp.*.
  {
    set: 'otel',
    name: 'nettracer.tcp.bytes',
    prom: 'nettracer_tcp_bytes_total',
    kind: 'counter',
    unit: 'By',
    description: 'Bytes sent and received by TCP connections (network.io.direction).',
    from: {
      session: [
        [(s) => s.tx, TX],
        [(s) => s.rx, RX],
      ],
    },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.packets',
    prom: 'nettracer_tcp_packets_total',
    kind: 'counter',
    unit: '{packet}',
    description: 'Segments sent and received by TCP connections (network.io.direction).',
    from: {
      session: [
        [(s) => s.pktsTx, TX],
        [(s) => s.pktsRx, RX],
      ],
    },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.retransmits',
    prom: 'nettracer_tcp_retransmits_total',
    kind: 'counter',
    unit: '{segment}',
    description: 'Segments retransmitted by TCP connections.',
    from: { session: [[(s) => s.retr]] },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.rtt',
    prom: 'nettracer_tcp_rtt_seconds',
    kind: 'histogram',
    unit: 's',
    description: "Smoothed round-trip time of each connection in the window (the kernel's srtt, its last value).",
    buckets: RTT_BUCKETS_S,
    from: { session: [[(s) => (s.rttUs > 0 ? us(s.rttUs) : undefined)]] },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.rtt.variance',
    prom: 'nettracer_tcp_rtt_variance_seconds',
    kind: 'histogram',
    unit: 's',
    description: "Round-trip time variance of each connection in the window (the kernel's mdev, its last value).",
    buckets: RTT_BUCKETS_S,
    from: { session: [[(_, c) => (c.rttVarUs > 0 ? us(c.rttVarUs) : undefined)]] },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.connections',
    prom: 'nettracer_tcp_connections',
    kind: 'updown',
    unit: '{connection}',
    description: 'Open TCP connections.',
    from: { level: true },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.connection.attempts',
    prom: 'nettracer_tcp_connection_attempts_total',
    kind: 'counter',
    unit: '{connection}',
    description:
      'TCP connection attempts: connect (outgoing) and accept (incoming) established, and failed connects with error.type (ECONNREFUSED, ETIMEDOUT, ...).',
    from: { record: (r) => (isOpen(r) ? [[1]] : r.type === 'connect_failed' ? [[1, { 'error.type': r.error }]] : []) },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.connection.duration',
    prom: 'nettracer_tcp_connection_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Lifetime of each TCP connection that closed.',
    buckets: DURATION_BUCKETS_S,
    from: { record: (r) => (r.type === 'close' ? [[r.duration_ms / 1000]] : []) },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.listen.drops',
    prom: 'nettracer_tcp_listen_drops',
    kind: 'gauge',
    unit: '{packet}',
    description:
      "SYNs and handshake-completing ACKs a listener dropped because its SYN or accept queue was full: the kernel's count since the socket was created (ss -tlnm: d). Listeners that dropped, queue or have handshakes pending.",
    from: { listener: (l) => l.listen_drops },
  },
  {
    set: 'otel',
    name: 'nettracer.tcp.listen.accept_queue',
    prom: 'nettracer_tcp_listen_accept_queue',
    kind: 'gauge',
    unit: '{connection}',
    description:
      "Connections established and waiting for accept() on a listener (ss -tln: Recv-Q), at the window's end.",
    from: { listener: (l) => l.accept_queue },
  },
  // The Dynatrace NetTracer keys (builtin:tech.nettracer.*): summarize's rows.
  {
    set: 'dynatrace',
    name: 'tech.nettracer.bytes_rx',
    prom: 'tech_nettracer_bytes_rx_bytes',
    kind: 'histogram',
    unit: 'By',
    description: 'Bytes received per session in the window: sum, count, min and max are summarize bytes_rx.',
    buckets: BYTES_BUCKETS,
    from: { rowSessions: (s) => s.rx },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.bytes_tx',
    prom: 'tech_nettracer_bytes_tx_bytes',
    kind: 'histogram',
    unit: 'By',
    description: 'Bytes sent per session in the window: sum, count, min and max are summarize bytes_tx.',
    buckets: BYTES_BUCKETS,
    from: { rowSessions: (s) => s.tx },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.pkts_rx',
    prom: 'tech_nettracer_pkts_rx_total',
    kind: 'counter',
    unit: '{packet}',
    description: 'Packets received (summarize pkts_rx).',
    from: { row: (r) => r.pkts_rx },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.pkts_tx',
    prom: 'tech_nettracer_pkts_tx_total',
    kind: 'counter',
    unit: '{packet}',
    description: 'Packets sent (summarize pkts_tx).',
    from: { row: (r) => r.pkts_tx },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.pkts_retr',
    prom: 'tech_nettracer_pkts_retr_total',
    kind: 'counter',
    unit: '{packet}',
    description: 'Packets retransmitted (summarize pkts_retr).',
    from: { row: (r) => r.pkts_retr },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.retr_percentage',
    prom: 'tech_nettracer_retr_percentage_percent',
    kind: 'gauge',
    unit: '%',
    description: 'Retransmitted / (retransmitted + sent) x 100 in the window (summarize retr_percentage).',
    from: { row: (r) => r.retr_percentage },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.rtt',
    prom: 'tech_nettracer_rtt_milliseconds',
    kind: 'gauge',
    unit: 'ms',
    description: 'Average RTT of the sessions in the window, in milliseconds (summarize rtt.avg).',
    from: { row: (r) => r.rtt?.avg },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.traffic',
    prom: 'tech_nettracer_traffic_bitrate',
    kind: 'gauge',
    unit: 'bit/s',
    description: 'Traffic, both directions, in the window (summarize traffic).',
    from: { row: (r) => r.traffic },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.traffic_rx',
    prom: 'tech_nettracer_traffic_rx_bitrate',
    kind: 'gauge',
    unit: 'bit/s',
    description: 'Traffic received in the window (summarize traffic_rx).',
    from: { row: (r) => r.traffic_rx },
  },
  {
    set: 'dynatrace',
    name: 'tech.nettracer.traffic_tx',
    prom: 'tech_nettracer_traffic_tx_bitrate',
    kind: 'gauge',
    unit: 'bit/s',
    description: 'Traffic sent in the window (summarize traffic_tx).',
    from: { row: (r) => r.traffic_tx },
  },
];

/** The agent's own health, always exported (both sets). */
export const SELF_METRICS = {
  exportsDropped: {
    name: 'nettracer.agent.exports.dropped',
    prom: 'nettracer_agent_exports_dropped_total',
    unit: '{export}',
    description: 'OTLP exports given up (collector down, refused, too slow, or one still in flight).',
  },
  seriesOverflow: {
    name: 'nettracer.agent.series.overflow',
    prom: 'nettracer_agent_series_overflow_total',
    unit: '{point}',
    description: 'Points folded into the overflow series of an instrument at its series cap.',
  },
  eventsDropped: {
    name: 'nettracer.agent.events.dropped',
    prom: 'nettracer_agent_events_dropped_total',
    unit: '{event}',
    description: 'Connection events (--events) not sent: over --events-rate, over the queue, or refused.',
  },
  recordsLost: {
    name: 'nettracer.agent.records.lost',
    prom: 'nettracer_agent_records_lost_total',
    unit: '{record}',
    description: 'Records the kernel could not hand over (ring full), as lost records say.',
  },
} as const;

export function metricsOf(choice: MetricSetChoice): MetricDef[] {
  return METRICS.filter((m) => choice === 'both' || m.set === choice);
}

/** Prometheus label name of an attribute key: dots are not allowed. */
export const labelOf = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');

/** Every attribute key a metric can carry (Prometheus declares its labels up front). */
export const ATTRIBUTE_KEYS = [
  'network.transport',
  'network.type',
  'server.address',
  'server.port',
  'client.address',
  'network.io.direction',
  'process.executable.name',
  'process.pid',
  'container.id',
  'k8s.pod.uid',
  'error.type',
  'otel.metric.overflow',
] as const;
