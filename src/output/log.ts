// The original NetTracer's log lines (connections_printing.cpp, spdlog pattern
// "%Y-%m-%d %H:%M:%S.%e [%t] %l [nettracer] %v"), in code of our own:
//   <local time> [<tid>] info [nettracer] event connect 10.0.0.1:51234 -> 10.0.0.2:80 NS:4026531840 PID:1234
//   <local time> [<tid>] info [nettracer] 10.0.0.1:51234 -> 10.0.0.2:80 NS:4026531840 - stats: Bytes sent=1000 Bytes received=333
//   <local time> [<tid>] info [nettracer] 10.0.0.1:51234 -> 10.0.0.2:80 NS:4026531840 - TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22
import type { NettracerRecord } from '../generated/records.js';
import type { OutputFormat } from './format.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** spdlog's "%Y-%m-%d %H:%M:%S.%e" in local time. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

type Conn = Extract<NettracerRecord, { saddr: string }>;

const ARROW = { outgoing: '->', incoming: '<-', unknown: '--' } as const;

function tuple(r: Conn, arrow: string): string {
  return `${r.saddr}:${r.sport} ${arrow} ${r.daddr}:${r.dport} NS:${r.netns}`;
}

export class LogFormat implements OutputFormat {
  private min: number;

  constructor(
    level: LogLevel = 'info',
    private readonly tid = process.pid,
  ) {
    this.min = LOG_LEVELS.indexOf(level);
  }

  setLevel(level: LogLevel): void {
    this.min = LOG_LEVELS.indexOf(level);
  }

  line(ms: number, level: LogLevel, message: string): string {
    return LOG_LEVELS.indexOf(level) < this.min
      ? ''
      : `${localTime(ms)} [${this.tid}] ${level} [nettracer] ${message}\n`;
  }

  records(records: readonly NettracerRecord[]): string {
    let out = '';
    for (const r of records) {
      const ms = Date.parse(r.timestamp);
      switch (r.type) {
        case 'connect':
          out += this.line(ms, 'info', `event connect ${tuple(r, '->')} PID:${r.pid}`);
          break;
        case 'accept':
          out += this.line(ms, 'info', `event accept ${tuple(r, '<-')} PID:${r.pid}`);
          break;
        case 'existing':
          // Not in the original (it logs nothing for connections older than itself).
          out += this.line(ms, 'debug', `existing ${tuple(r, ARROW[r.direction])} PID:${r.pid}`);
          break;
        case 'connect_failed':
          // Not in the original (it sees no attempt that failed): debug, as existing.
          out += this.line(
            ms,
            'debug',
            `connect_failed ${tuple(r, '->')} PID:${r.pid} error:${r.error} syns:${r.syns_sent}`,
          );
          break;
        case 'close':
          out += this.line(ms, 'info', `event close ${tuple(r, '--')} PID:${r.pid}`);
          out += this.stats(ms, r);
          break;
        case 'metrics':
          out += this.stats(ms, r);
          break;
        case 'lost':
          out += this.line(
            ms,
            'warning',
            `lost events records:${r.records_lost} connections:${r.connections_untracked} hook_misses:${r.hook_misses}`,
          );
          break;
        case 'stats':
          out += this.line(
            ms,
            'info',
            `[bpf_debug_counters] records_sent=${r.records_sent} records_lost=${r.records_lost} tracked=${r.connections_tracked} untracked=${r.connections_untracked} unaccepted_closes=${r.unaccepted_closes} hook_misses=${r.hook_misses}`,
          );
          break;
      }
    }
    return out;
  }

  private stats(ms: number, r: Extract<NettracerRecord, { rtt_us: number }>): string {
    const t = tuple(r, ARROW[r.direction]);
    return (
      this.line(ms, 'info', `${t} - stats: Bytes sent=${r.bytes_sent} Bytes received=${r.bytes_received}`) +
      this.line(
        ms,
        'info',
        `${t} - TCP stats: Retransmissions=${r.packets_retransmitted} Segs_in=${r.packets_received} Segs_out=${r.packets_sent} RTT=${r.rtt_us} RTT_var=${r.rtt_var_us}`,
      )
    );
  }
}
