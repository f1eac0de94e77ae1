// Event lines for a person at a terminal (`--format lines`, trace's default
// there): one aligned line per connection event, like tcplife: the time, the
// event, PID, process, local -> remote; on close the bytes sent and received,
// retransmitted segments, RTT and how long the connection lived. Periodic
// metrics are not events and print nothing; loss does, since nothing is lost
// silently.
import type { NettracerRecord } from '../generated/records.js';
import { forTerminal } from '../tracer/comm.js';
import type { OutputFormat } from './format.js';
import { localTime } from './log.js';

type Conn = Extract<NettracerRecord, { saddr: string }>;

const endpoint = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
const ARROW = { outgoing: '->', incoming: '<-' } as const;

/** Widths of the columns before the addresses, and of the addresses (IPv4 with port fits; IPv6 widens the line). */
const W = { time: 12, event: 8, pid: 7, comm: 15, end: 21 };
const TAIL = { bytes: 10, retr: 5, rtt: 8, duration: 10 };

/** Milliseconds as people read a lifetime: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function lifetime(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

const rtt = (us: number) => (us > 0 ? (us / 1000).toFixed(3) : '-');

export const LINES_HEADER =
  [
    'TIME'.padEnd(W.time),
    'EVENT'.padEnd(W.event),
    'PID'.padStart(W.pid),
    'PROCESS'.padEnd(W.comm),
    'LOCAL'.padEnd(W.end),
    '  ',
    'REMOTE'.padEnd(W.end),
    'SENT B'.padStart(TAIL.bytes),
    'RECV B'.padStart(TAIL.bytes),
    'RETR'.padStart(TAIL.retr),
    'RTT ms'.padStart(TAIL.rtt),
    'LIFETIME'.padStart(TAIL.duration),
  ]
    .join(' ')
    .trimEnd() + '\n';

export class LinesFormat implements OutputFormat {
  begin(): string {
    return LINES_HEADER;
  }

  records(records: readonly NettracerRecord[]): string {
    let out = '';
    for (const r of records) {
      const time = localTime(Date.parse(r.timestamp)).slice(11);
      if ('saddr' in r) {
        if (r.type !== 'metrics') out += this.event(time, r);
      } else if (r.type === 'lost') {
        const skipped = r.metrics_walks_skipped ? `, ${r.metrics_walks_skipped} metrics walks skipped` : '';
        out += `${time.padEnd(W.time)} ${'lost'.padEnd(W.event)} ${r.records_lost} records, ${r.connections_untracked} connections not tracked, ${r.hook_misses} hook runs missed${skipped}\n`;
      }
    }
    return out;
  }

  private event(time: string, r: Conn): string {
    const head = [
      time.padEnd(W.time),
      r.type.padEnd(W.event),
      String(r.pid).padStart(W.pid),
      (forTerminal(r.comm) || '-').padEnd(W.comm),
      endpoint(r.saddr, r.sport).padEnd(W.end),
      ARROW[r.direction],
      endpoint(r.daddr, r.dport).padEnd(W.end),
    ];
    if (r.type === 'close') {
      head.push(
        String(r.bytes_sent).padStart(TAIL.bytes),
        String(r.bytes_received).padStart(TAIL.bytes),
        String(r.packets_retransmitted).padStart(TAIL.retr),
        rtt(r.rtt_us).padStart(TAIL.rtt),
        lifetime(r.duration_ms).padStart(TAIL.duration),
      );
    }
    return head.join(' ').trimEnd() + '\n';
  }
}
