// The original NetTracer's log (nettracersrv/nettracer.cpp,
// libnettracer/src/connections_printing.cpp, tuple_utils.cpp,
// bpf_debug_counters.cpp; spdlog pattern "%Y-%m-%d %H:%M:%S.%e [%t] %^%l%$ [%n] %v"),
// in code of our own:
//   <local time> [<tid>] info [nettracer] Starting NetTracer v0.1.0        (and the other start-up lines)
//   <local time> [<tid>] info [nettracer] event connect 10.0.0.1:51234 -> 10.0.0.2:80 NS:4026531840 PID:1234
//   <local time> [<tid>] info [nettracer] 10.0.0.1:51234 -> 10.0.0.2:80 NS:4026531840 - stats: Bytes sent=1000 Bytes received=333
//   <local time> [<tid>] info [nettracer] 10.0.0.1:51234 -> 10.0.0.2:80 NS:4026531840 - TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22
//   <local time> [<tid>] info [nettracer] Events stopped
//   <local time> [<tid>] info [nettracer] NetTracer stop reason 0
// Events are logged as they come. Every interval the original walks its
// maps, IPv4 then IPv6, each first for the "stats" lines of every
// connection and then for the "TCP stats" ones; a connection closed since
// the previous walk is still in its maps and gets its final lines then.
// Those lines carry the kernel's totals: no -i deltas, no -s header bytes.
import type { NettracerRecord, StatsRecord } from '../generated/records.js';
import { isMapped } from '../record/mapped.js';
import type { OutputFormat } from './format.js';
import { type Counted, type RawTotals, RawTotalsTracker } from './raw-totals.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** spdlog's "%Y-%m-%d %H:%M:%S.%e" in local time. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** spdlog's ansicolor sink: the level's colour on a terminal (%^...%$). */
const COLOURS: Record<LogLevel, string> = {
  trace: '\x1b[37m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warning: '\x1b[33m\x1b[1m',
  error: '\x1b[31m\x1b[1m',
};

type Conn = Extract<NettracerRecord, { saddr: string }>;

/** An address as inet_ntop writes the original's: ::ffff:a.b.c.d for an IPv6 socket between IPv4-mapped ones. */
export function originalAddress(r: Conn, addr: string): string {
  return isMapped(r) ? `::ffff:${addr}` : addr;
}

/** The original's table an address is in: its IPv6 one for IPv4-mapped addresses. */
export function originalFamily(r: Conn): 'ipv4' | 'ipv6' {
  return isMapped(r) ? 'ipv6' : r.family;
}

function tuple(r: Conn, arrow: string): string {
  return `${originalAddress(r, r.saddr)}:${r.sport} ${arrow} ${originalAddress(r, r.daddr)}:${r.dport} NS:${r.netns}`;
}

/** The health counters the debug counters line reports, as deltas (bpf_debug_counters.cpp). */
const DEBUG_COUNTERS = ['records_lost', 'connections_untracked', 'hook_misses', 'metrics_walks_skipped'] as const;

/** What the start-up and shutdown lines say (nettracer.cpp startNetTracer() and main()). */
export interface LogSetup {
  version: string;
  intervalS: number;
  /** As given (the original logs it before clamping it). */
  mapSize: number;
  mapSizeMax: number;
  /** 0: no debug counters logger. */
  countersIntervalS: number;
  cpus: number;
  /** The original's -e: event lines (and the lines saying they start). */
  events: boolean;
  clearProbes?: boolean;
}

export interface LogOptions {
  level?: LogLevel;
  tid?: number;
  /** Colour the level (stdout on a terminal, as spdlog's colour sink). */
  colour?: boolean;
  /** Records carry --header-size bytes, which the log leaves out. */
  headerSize?: boolean;
  /** Start-up and shutdown lines; none without. */
  setup?: LogSetup;
  /** No connection's lines: the start-up, shutdown and health ones (the original's log file under -n). */
  linesOnly?: boolean;
  /**
   * Under -n without a terminal: the session counts of the legacy lines, which
   * the original logs at the first interval and then every 5 minutes.
   */
  sessions?: () => { passive: number; active: number; established: number };
}

/** nettracer.cpp ReturnCodes: Success, InsufficientCapabilities, GenericError, then Reconfigure. */
const RECONFIGURE = 3;

/** netstat.cpp map_loop(): logCtr, a TimeGuard of 5 minutes. */
const SESSIONS_EVERY_MS = 300_000;

interface Pending {
  rec: Counted;
  totals: RawTotals;
  arrow: string;
}

export class LogFormat implements OutputFormat {
  /** The original prints nothing more once asked to stop: no last interval. */
  readonly skipFinalCycle = true;
  private min: number;
  private readonly tid: number;
  private readonly totals: RawTotalsTracker;
  /** Direction as the connect or accept event told it; "--" for connections no event named. */
  private readonly arrows = new Map<number, string>();
  /** What the next interval prints, per connection (its latest counters). */
  private pending = new Map<number, Pending>();
  private previousCounters?: StatsRecord;

  constructor(private readonly opts: LogOptions = {}) {
    this.opts = { ...opts };
    this.min = LOG_LEVELS.indexOf(opts.level ?? 'info');
    this.tid = opts.tid ?? process.pid;
    this.totals = new RawTotalsTracker(opts.headerSize === true);
  }

  setLevel(level: LogLevel): void {
    this.min = LOG_LEVELS.indexOf(level);
  }

  line(ms: number, level: LogLevel, message: string): string {
    if (LOG_LEVELS.indexOf(level) < this.min) return '';
    const shown = this.opts.colour ? `${COLOURS[level]}${level}\x1b[m` : level;
    return `${localTime(ms)} [${this.tid}] ${shown} [nettracer] ${message}\n`;
  }

  /** The lines the original logs before loading its program (until "map_size"). */
  preload(ms: number): string {
    const s = this.opts.setup;
    if (!s) return '';
    let out = this.line(ms, 'info', `Starting NetTracer v${s.version}`);
    out += this.line(ms, 'info', `time_interval: ${s.intervalS}`);
    if (s.clearProbes) out += this.line(ms, 'info', 'clear_probes');
    out += this.line(ms, 'info', `map_size: ${s.mapSize}`);
    if (s.mapSize > s.mapSizeMax)
      out += this.line(ms, 'info', `map_size too large: ${s.mapSize}, using maximum value allowed: ${s.mapSizeMax}`);
    return out;
  }

  /** The lines once the program is loaded and tracing starts. */
  loaded(ms: number): string {
    const s = this.opts.setup;
    if (!s) return '';
    let out = this.line(ms, 'info', 'BPF program loaded');
    if (s.events) {
      out += this.line(ms, 'info', 'Starting TCP IPv4 events');
      out += this.line(ms, 'info', 'Starting TCP IPv6 events');
    }
    if (s.countersIntervalS > 0)
      out += this.line(
        ms,
        'info',
        `Starting BPF debug counters logger (interval=${s.countersIntervalS}s, cpus=${s.cpus})`,
      );
    return out;
  }

  /** The original's last line: main() after startNetTracer() returned. */
  stopReason(ms: number, rc: number): string {
    return this.opts.setup ? this.line(ms, 'info', `NetTracer stop reason ${rc}`) : '';
  }

  /** Set by a caller that printed the pre-load lines itself (nettracer-compat). */
  preloadPrinted = false;
  /** Lines said between two outputs, written before the next ones. */
  private queued = '';

  /**
   * The args file changed: the original stops (stop reason 3, Reconfigure)
   * and starts again with the new options; its lines say so, before the next.
   */
  restart(ms: number, setup: LogSetup): void {
    this.queued += this.line(ms, 'info', 'Events stopped') + this.stopReason(ms, RECONFIGURE);
    this.opts.setup = setup;
    this.queued += this.preload(ms) + this.loaded(ms);
  }

  private flushQueued(): string {
    const q = this.queued;
    this.queued = '';
    return q;
  }

  begin(nowMs: number): string {
    return (this.preloadPrinted ? '' : this.preload(nowMs)) + this.loaded(nowMs);
  }

  end(nowMs: number): string {
    if (!this.opts.setup) return '';
    return this.flushQueued() + this.line(nowMs, 'info', 'Events stopped') + this.stopReason(nowMs, 0);
  }

  records(records: readonly NettracerRecord[]): string {
    const events = this.opts.setup?.events !== false;
    let out = this.flushQueued();
    for (const r of records) {
      // Under -n the original logs no connection, but still its debug counters (and we, loss).
      if (this.opts.linesOnly && r.type !== 'stats' && r.type !== 'lost') continue;
      const ms = Date.parse(r.timestamp);
      switch (r.type) {
        case 'connect':
          this.arrows.set(r.id, '->');
          if (events) out += this.line(ms, 'info', `event connect ${tuple(r, '->')} PID:${r.pid}`);
          break;
        case 'accept':
          this.arrows.set(r.id, '<-');
          if (events) out += this.line(ms, 'info', `event accept ${tuple(r, '<-')} PID:${r.pid}`);
          break;
        case 'existing':
        case 'metrics':
          this.keep(r);
          break;
        case 'connect_failed':
          // Not in the original (it sees no attempt that failed): debug.
          out += this.line(
            ms,
            'debug',
            `connect_failed ${tuple(r, '->')} PID:${r.pid} error:${r.error} syns:${r.syns_sent}`,
          );
          break;
        case 'close':
          if (events) out += this.line(ms, 'info', `event close ${tuple(r, '--')} PID:${r.pid}`);
          this.keep(r);
          this.arrows.delete(r.id);
          this.totals.forget(r.id);
          break;
        case 'lost':
          // Not in the original, which has no such count: loss is never silent here.
          out += this.line(
            ms,
            'warning',
            `lost events records:${r.records_lost} connections:${r.connections_untracked} hook_misses:${r.hook_misses}`,
          );
          break;
        case 'stats':
          out += this.debugCounters(ms, r);
          break;
      }
    }
    return out;
  }

  private keep(r: Counted): void {
    this.pending.set(r.id, { rec: r, totals: this.totals.update(r), arrow: this.arrows.get(r.id) ?? '--' });
  }

  /** "[bpf_debug_counters] delta:      a=1 b=2": what grew since the previous, if anything; never at exit. */
  private debugCounters(ms: number, r: StatsRecord): string {
    if (r.final) return '';
    const prev = this.previousCounters;
    this.previousCounters = r;
    const parts = DEBUG_COUNTERS.map((k) => [k, (r[k] ?? 0) - ((prev && prev[k]) ?? 0)] as const)
      .filter(([, d]) => d !== 0)
      .map(([k, d]) => `${k}=${d}`);
    return parts.length ? this.line(ms, 'info', `[bpf_debug_counters] delta:      ${parts.join(' ')}`) : '';
  }

  private sessionsLoggedMs = -Infinity;

  cycle(nowMs: number): string {
    let out = this.flushQueued();
    const sessions = this.opts.sessions;
    if (sessions && nowMs - this.sessionsLoggedMs >= SESSIONS_EVERY_MS) {
      this.sessionsLoggedMs = nowMs;
      const c = sessions();
      out += this.line(
        nowMs,
        'info',
        `Number of passive tcp sessions: ${c.passive}, active: ${c.active}, established: ${c.established}`,
      );
    }
    for (const family of ['ipv4', 'ipv6'] as const) {
      const rows = [...this.pending.values()].filter((p) => originalFamily(p.rec) === family);
      for (const p of rows)
        out += this.line(
          nowMs,
          'info',
          `${tuple(p.rec, p.arrow)} - stats: Bytes sent=${p.totals.bytesSent} Bytes received=${p.totals.bytesReceived}`,
        );
      for (const p of rows)
        out += this.line(
          nowMs,
          'info',
          `${tuple(p.rec, p.arrow)} - TCP stats: Retransmissions=${p.totals.retrans} Segs_in=${p.totals.packetsReceived} Segs_out=${p.totals.packetsSent} RTT=${p.rec.rtt_us} RTT_var=${p.rec.rtt_var_us}`,
        );
    }
    this.pending = new Map();
    return out;
  }
}
