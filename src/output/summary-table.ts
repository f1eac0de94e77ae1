// Summaries for people: one table per window.
import Table from 'cli-table3';
import type { SummaryRecord } from '../generated/records.js';
import { forTerminal } from '../tracer/comm.js';

const human = (n: number, unit: string) => {
  const k = ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1000 && i < k.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${k[i]}${unit}`;
};

export function summaryTable(rows: readonly SummaryRecord[]): string {
  if (rows.length === 0) return '';
  const t = new Table({
    // Every column says its unit; "-" where no session gave a sample.
    head: ['dimension', 'who', 'sessions', 'rx', 'tx', 'retr %', 'rtt avg (ms)', 'traffic', 'failed', 'resets'],
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    // From a capture file, which may hold anything: shown as text.
    const who = forTerminal(
      r.dimension === 'host'
        ? r.host
        : r.dimension === 'container'
          ? (r.container_id ?? '').slice(0, 12)
          : `${r.pid} ${r.comm}`,
    );
    t.push([
      r.dimension,
      who,
      r.sessions,
      human(r.bytes_rx.sum, 'B'),
      human(r.bytes_tx.sum, 'B'),
      r.retr_percentage.toFixed(2),
      r.rtt ? r.rtt.avg.toFixed(3) : '-',
      human(r.traffic, 'bit/s'),
      // failed attempts (and their share of attempts), resets received/sent
      r.connect_failure_rate === undefined
        ? String(r.connects_failed ?? '-')
        : `${r.connects_failed} (${r.connect_failure_rate.toFixed(1)}%)`,
      r.resets_received === undefined ? '-' : `${r.resets_received}/${r.resets_sent}`,
    ]);
  }
  return `${rows[0].window_start} .. ${rows[0].window_end} (${rows[0].window_s} s)\n${t.toString()}\n`;
}
