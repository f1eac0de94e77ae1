// The agent's OTLP settings: a flag wins, then the standard OTEL_*
// variable, then our default (delta temporality, gzip, HTTP/protobuf). Bad
// values are refused with one line saying what to do. The endpoint's user
// information and query, and the headers, are secrets: redacted() is the
// only form of them that reaches a log.

export type Protocol = 'http/protobuf' | 'http/json';
export type Temporality = 'delta' | 'cumulative';

export interface OtlpFlags {
  endpoint?: string;
  headers?: string[];
  protocol?: string;
  temporality?: string;
  compression?: string;
  intervalS?: number;
}

export interface OtlpConfig {
  /** Undefined: no OTLP export (no endpoint given, by flag or variable). */
  url?: string;
  headers: Record<string, string>;
  protocol: Protocol;
  temporality: Temporality;
  compression: 'gzip' | 'none';
  timeoutMs: number;
  intervalS: number;
  resource: Record<string, string>;
}

/** Thrown for a bad setting: the command prints the message, exit 2. */
export class ConfigProblem extends Error {}

/** The SDK's default (OTEL_METRIC_EXPORT_INTERVAL): one minute. */
export const DEFAULT_INTERVAL_S = 60;

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  const v = value.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigProblem(`${what} must be ${allowed.join(' or ')}, got "${value}"`);
}

/** W3C baggage-like "k=v,k2=v2" with percent-encoded values (OTEL_*_HEADERS, OTEL_RESOURCE_ATTRIBUTES). */
export function parsePairs(what: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    if (eq <= 0 || !k) throw new ConfigProblem(`${what}: "${redactPair(part)}" is not key=value`);
    let v: string;
    try {
      v = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigProblem(`${what}: the value of "${k}" is not percent-encoded text`);
    }
    out[k] = v;
  }
  return out;
}

/** A header pair as a message may show it: the key only. */
const redactPair = (part: string) => (part.includes('=') ? `${part.slice(0, part.indexOf('=')).trim()}=...` : '...');

function url(what: string, text: string): URL {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new ConfigProblem(`${what} must be an http:// or https:// URL, got "${redact(text)}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigProblem(
      `${what} must be an http:// or https:// URL (gRPC is not supported), got "${redact(text)}"`,
    );
  return u;
}

/** An endpoint as logs show it: no user, password or query (tokens travel there). */
export function redact(text: string): string {
  try {
    const u = new URL(text);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

export function otlpConfig(flags: OtlpFlags, env: NodeJS.ProcessEnv, hostName: string): OtlpConfig {
  let endpoint: string | undefined;
  if (flags.endpoint !== undefined) endpoint = url('--otlp-endpoint', flags.endpoint).href;
  else if (env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
    endpoint = url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT).href;
  else if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    // The signal path is appended to the generic endpoint (the specification's rule).
    const base = url('OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT);
    base.pathname = base.pathname.replace(/\/?$/, '/v1/metrics');
    endpoint = base.href;
  }
  const headers = {
    ...parsePairs('OTEL_EXPORTER_OTLP_HEADERS', env.OTEL_EXPORTER_OTLP_HEADERS ?? ''),
    ...parsePairs('OTEL_EXPORTER_OTLP_METRICS_HEADERS', env.OTEL_EXPORTER_OTLP_METRICS_HEADERS ?? ''),
    ...parsePairs('--otlp-header', (flags.headers ?? []).join(',')),
  };
  const protocolText =
    flags.protocol ?? env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocolText.trim().toLowerCase() === 'grpc')
    throw new ConfigProblem('OTLP over gRPC is not supported: use http/protobuf (the default) or http/json');
  const protocol = oneOf<Protocol>('the OTLP protocol', protocolText, ['http/protobuf', 'http/json']);
  const temporality = oneOf<Temporality>(
    'the temporality',
    flags.temporality ?? env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE ?? 'delta',
    ['delta', 'cumulative'],
  );
  const compression = oneOf<'gzip' | 'none'>(
    'the OTLP compression',
    flags.compression ?? env.OTEL_EXPORTER_OTLP_METRICS_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION ?? 'gzip',
    ['gzip', 'none'],
  );
  const timeoutMs = millis(
    'OTEL_EXPORTER_OTLP_TIMEOUT',
    env.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT,
    10_000,
  );
  const intervalS = flags.intervalS ?? millis('OTEL_METRIC_EXPORT_INTERVAL', env.OTEL_METRIC_EXPORT_INTERVAL) / 1000;
  const resource: Record<string, string> = {
    'service.name': 'nettracer',
    'host.name': hostName,
    ...parsePairs('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES ?? ''),
  };
  if (env.OTEL_SERVICE_NAME) resource['service.name'] = env.OTEL_SERVICE_NAME;
  return { url: endpoint, headers, protocol, temporality, compression, timeoutMs, intervalS, resource };
}

function millis(what: string, text: string | undefined, fallback = DEFAULT_INTERVAL_S * 1000): number {
  if (text === undefined || text.trim() === '') return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 100 || Number(text) > 86_400_000)
    throw new ConfigProblem(`${what} must be milliseconds between 100 and 86400000, got "${text}"`);
  return Number(text);
}
