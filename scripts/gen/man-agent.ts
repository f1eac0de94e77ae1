// The man page's THE AGENT section: `nettracer agent`, its metrics, its
// limits, its settings (scripts/gen/man.ts places it). docs/FLEET.md is the
// longer walk through a fleet deployment.
export const AGENT = `.SH "THE AGENT"
\\fBnettracer agent\\fR traces as \\fBtrace\\fR does (the same filters, hooks, privileges and
signals) and exports metrics instead of writing records: over OTLP/HTTP with the OpenTelemetry
JS SDK when an endpoint is set (\\fB\\-\\-otlp\\-endpoint\\fR, or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
or OTEL_EXPORTER_OTLP_ENDPOINT with /v1/metrics appended), and on a Prometheus \\fB/metrics\\fR
endpoint with \\fB\\-\\-prometheus\\fR [\\fIHOST\\fR:]\\fIPORT\\fR (127.0.0.1 unless a host is given;
\\fB:\\fR\\fIPORT\\fR for every address), bound while still root. Whoever reaches the port reads
the metrics, which name every user's processes and server ports: on a shared host, loopback is
every local user; put a firewall rule or an authenticating proxy in front where that matters.
The endpoint answers GET /metrics only, to 16 connections at once, with 5 s to send headers. Every \\fB\\-\\-export\\-interval\\fR
seconds (OTEL_METRIC_EXPORT_INTERVAL, default 60) the open connections are walked and a window
ends: its numbers are exactly those \\fBsummarize\\fR computes for it (the same code).
.PP
OTLP: HTTP/protobuf by default, HTTP/JSON with \\fB\\-\\-otlp\\-protocol http/json\\fR
(OTEL_EXPORTER_OTLP_PROTOCOL), gzip unless \\fB\\-\\-otlp\\-compression none\\fR, delta temporality
unless \\fB\\-\\-temporality cumulative\\fR (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
the open\\-connections UpDownCounter is always cumulative), headers from \\fB\\-\\-otlp\\-header\\fR
and OTEL_EXPORTER_OTLP_HEADERS (never logged), the resource from OTEL_RESOURCE_ATTRIBUTES and
OTEL_SERVICE_NAME (default service.name=nettracer, host.name=the host name). gRPC is not supported.
At most one export is in flight: a window that ends meanwhile goes out with the next export; an
export the collector refuses (after the SDK's retries of 429, 502, 503 and 504, within
OTEL_EXPORTER_OTLP_TIMEOUT) is dropped, counted in \\fBnettracer.agent.exports.dropped\\fR, and
said on standard error. Tracing never waits for an export.
.PP
\\fB\\-\\-metric\\-set otel\\fR (default): \\fBnettracer.tcp.bytes\\fR (By, network.io.direction),
\\fBnettracer.tcp.packets\\fR ({packet}), \\fBnettracer.tcp.retransmits\\fR ({segment}),
\\fBnettracer.tcp.rtt\\fR and \\fBnettracer.tcp.rtt.variance\\fR (histograms in s, buckets from 50 us
to 5 s), \\fBnettracer.tcp.connections\\fR (UpDownCounter), \\fBnettracer.tcp.connection.attempts\\fR,
\\fBnettracer.tcp.connection.duration\\fR (s), with network.transport, network.type, server.port
(the server's; never a client's ephemeral port), server.address or client.address (the peer, per
\\fB\\-\\-peers\\fR), process.executable.name, process.pid (\\fB\\-\\-with\\-pid\\fR), container.id and
k8s.pod.uid. \\fB\\-\\-metric\\-set dynatrace\\fR: \\fBtech.nettracer.bytes_rx\\fR and \\fBbytes_tx\\fR
(histograms of each session's bytes in the window: their sum, count, min and max are summarize's),
\\fBpkts_rx\\fR, \\fBpkts_tx\\fR, \\fBpkts_retr\\fR (counters), \\fBretr_percentage\\fR, \\fBrtt\\fR (ms),
\\fBtraffic\\fR, \\fBtraffic_rx\\fR, \\fBtraffic_tx\\fR (bit/s) (gauges), per host (no attribute),
container (container.id) and process (process.executable.name; with \\fB\\-\\-with\\-pid\\fR one
process). \\fBboth\\fR exports both. Prometheus names carry the unit: _bytes, _seconds, _total
for counters, _bitrate for bit/s.
.PP
Cardinality: peers are left out unless \\fB\\-\\-peers address\\fR or \\fB\\-\\-peers\\fR \\fICIDR\\fR,...
(a peer outside them is "other"); PIDs are left out unless \\fB\\-\\-with\\-pid\\fR; loopback is not
traced unless \\fB\\-f\\fR. Each metric has at most \\fB\\-\\-max\\-series\\fR series (default 2000);
points beyond go to one series with otel.metric.overflow=true, counted in
\\fBnettracer.agent.series.overflow\\fR. A series with no point in \\fB\\-\\-expire\\-windows\\fR
windows (default 5) is removed from /metrics; a gauge lasts its window. With S distinct
(executable, server port, family, container) tuples, the OTel set has at most 10 S series
(Prometheus: 60 S time series, with the histograms' buckets), times the peer classes with
\\fB\\-\\-peers\\fR, times the processes per executable with \\fB\\-\\-with\\-pid\\fR; the Dynatrace set 10
(1 + containers + executables). \\fB\\-\\-capture\\fR \\fIFILE\\fR also writes the records
aggregated, as NDJSON: \\fBsummarize\\fR \\fIFILE\\fR gives the same numbers.
.PP
\\fB\\-\\-events\\fR also sends one OTLP log record per connect, accept and close (event name
\\fBnettracer.tcp.connect\\fR, \\fBaccept\\fR, \\fBclose\\fR; the connection's attributes; a close
has \\fBnettracer.tcp.duration_s\\fR) to OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, or /v1/logs beside the
metrics endpoint. At most \\fB\\-\\-events\\-rate\\fR a second (default 100, a burst as large) and
4096 waiting for the collector: every event not sent is counted in
\\fBnettracer.agent.events.dropped\\fR and said on standard error.
.PP
Standard error has one line per kind of problem at most once a minute (a failing collector, lost
records, dropped events), with how many more there were; \\fB\\-\\-verbose\\fR adds where it
exports and serves. SIGINT and SIGTERM end it as they end \\fBtrace\\fR: a last walk, a last
export (waited for at most 5 s), exit status 0. The Kubernetes DaemonSet, its image and an
OpenTelemetry Collector pipeline are in deploy/; docs/FLEET.md walks through them.
`;
