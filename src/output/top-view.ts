// What `nettracer top` shows, as lines for a terminal of a given size: a
// header with the host's totals (connections, bit/s in and out,
// retransmission %: Dynatrace's NetTracer metrics, live), a line of column
// titles, one row per connection (or per process or container) sorted by the
// chosen key, and a line of keys. Pure: a sample and a state in, lines out;
// every line fits in width - 1 columns (escape sequences aside), so the
// terminal never wraps and never scrolls.
import type { ConnectionSample, Sample } from '../summary/rates.js';
import { retrPercentage } from '../summary/rates.js';
import { forTerminal } from '../tracer/comm.js';
import { type Column, fitColumns, formatRow, narrow, shorten } from './columns.js';

export const SORT_KEYS = ['rate', 'bytes', 'retransmits', 'rtt'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const GROUPS = ['connection', 'process', 'container'] as const;
export type Group = (typeof GROUPS)[number];

export interface ViewState {
  sort: SortKey;
  group: Group;
  paused: boolean;
  refreshS: number;
  host: string;
}

/** A row: one connection, or the connections of one process or container. */
export interface TopRow {
  key: string;
  comm: string;
  pid: number;
  container: string;
  local: string;
  remote: string;
  conns: number;
  /** Bytes per second over the last period. */
  txRate: number;
  rxRate: number;
  bytes: number;
  retr: number;
  /** Latest smoothed RTT; for a group, the mean of its connections' (0: none). */
  rttUs: number;
  closed: boolean;
}

const DIM = '\x1b[2m';
const UNDIM = '\x1b[22m';
const BOLD = '\x1b[1m';

/** 1234567 -> "1.23M": three significant digits, SI prefixes; below 1000 the integer. */
export function si(n: number): string {
  if (n < 999.5) return String(Math.round(n));
  const prefixes = ['k', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let i = -1;
  while (v >= 999.5 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 9.995 ? v.toFixed(2) : v < 99.95 ? v.toFixed(1) : v.toFixed(0)}${prefixes[i]}`;
}

/** Microseconds as milliseconds, three significant digits; "-" when there is no sample. */
export function rttMs(us: number): string {
  if (us <= 0) return '-';
  const ms = us / 1000;
  return ms < 9.995 ? ms.toFixed(2) : ms < 99.95 ? ms.toFixed(1) : ms.toFixed(0);
}

const endpoint = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

function connectionRow(c: ConnectionSample): TopRow {
  return {
    key: String(c.id),
    comm: forTerminal(c.comm) || '-',
    pid: c.pid,
    container: c.container,
    local: endpoint(c.saddr, c.sport),
    remote: endpoint(c.daddr, c.dport),
    conns: 1,
    txRate: c.txRate,
    rxRate: c.rxRate,
    bytes: c.bytes,
    retr: c.retr,
    rttUs: c.rttUs,
    closed: c.closed,
  };
}

/** The rows of a group: summed, RTT averaged over the connections that have one. */
function grouped(conns: readonly ConnectionSample[], keyOf: (c: ConnectionSample) => string): TopRow[] {
  const groups = new Map<string, { row: TopRow; rttSum: number; rttN: number }>();
  for (const r of conns) {
    const key = keyOf(r);
    let g = groups.get(key);
    if (!g) {
      g = {
        row: { ...connectionRow(r), key, conns: 0, txRate: 0, rxRate: 0, bytes: 0, retr: 0, rttUs: 0, closed: true },
        rttSum: 0,
        rttN: 0,
      };
      groups.set(key, g);
    }
    g.row.conns++;
    g.row.txRate += r.txRate;
    g.row.rxRate += r.rxRate;
    g.row.bytes += r.bytes;
    g.row.retr += r.retr;
    g.row.closed &&= r.closed;
    if (r.rttUs > 0) {
      g.rttSum += r.rttUs;
      g.rttN++;
    }
  }
  return [...groups.values()].map((g) => ({ ...g.row, rttUs: g.rttN ? g.rttSum / g.rttN : 0 }));
}

const ORDER: Record<SortKey, (r: TopRow) => number> = {
  rate: (r) => r.txRate + r.rxRate,
  bytes: (r) => r.bytes,
  retransmits: (r) => r.retr,
  rtt: (r) => r.rttUs,
};

/**
 * The first `limit` of indexes 0 to n - 1 in `order`, in order: one pass
 * that keeps the best so far, so that a refresh with 20,000 connections and
 * room for 40 rows compares each connection with the last row kept, rather
 * than sorting them all.
 */
export function firstIndexes(n: number, limit: number, order: (a: number, b: number) => number): number[] {
  const kept: number[] = [];
  if (!Number.isFinite(limit)) {
    for (let x = 0; x < n; x++) kept.push(x);
    return kept.sort(order);
  }
  if (limit <= 0) return kept;
  for (let x = 0; x < n; x++) {
    if (kept.length === limit && order(x, kept[limit - 1]) >= 0) continue;
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order(x, kept[mid]) < 0) hi = mid;
      else lo = mid + 1;
    }
    kept.splice(lo, 0, x);
    if (kept.length > limit) kept.pop();
  }
  return kept;
}

/** The first `limit` items in `order`, in order (firstIndexes()). */
export function firstInOrder<T>(items: readonly T[], limit: number, order: (a: T, b: T) => number): T[] {
  return firstIndexes(items.length, limit, (a, b) => order(items[a], items[b])).map((i) => items[i]);
}

/** The first `limit` rows for a state, in display order, and how many there are in all. */
export function topRows(
  sample: Sample,
  state: Pick<ViewState, 'sort' | 'group'>,
  limit = Infinity,
): { rows: TopRow[]; total: number } {
  // Ties: bytes, then the key, so that rows do not swap places between refreshes.
  if (state.group === 'connection') {
    // Only the rows shown are made; the order is read from the sample's keys, not from each connection.
    const { bytes, id } = sample.keys;
    const by = sample.keys[state.sort];
    const conns = sample.connections;
    const first = firstIndexes(conns.length, limit, (a, b) => by[b] - by[a] || bytes[b] - bytes[a] || id[a] - id[b]);
    return { rows: first.map((i) => connectionRow(conns[i])), total: conns.length };
  }
  const rows = grouped(
    sample.connections,
    state.group === 'process' ? (c) => `${c.pid}/${c.comm}` : (c) => c.container || '(host)',
  );
  const by = ORDER[state.sort];
  rows.sort((a, b) => by(b) - by(a) || b.bytes - a.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rows: rows.slice(0, limit), total: rows.length };
}

/**
 * A number: right-aligned, never cut: as wide as its widest value now, and
 * at least `min` (the width of most values: columns do not move from one
 * refresh to the next).
 */
const num = (title: string, rank: number, cell: (r: TopRow) => string, min = title.length): Column<TopRow> => ({
  title,
  min: Math.max(min, title.length),
  max: Math.max(min, title.length),
  rank,
  align: 'right',
  exact: true,
  cell,
});

const RATE_COLUMNS: Column<TopRow>[] = [
  num('TX/s', 8, (r) => si(r.txRate * 8), 5),
  num('RX/s', 8, (r) => si(r.rxRate * 8), 5),
  num('RETR', 6, (r) => String(r.retr)),
  num('RTT ms', 6, (r) => rttMs(r.rttUs)),
  num('BYTES', 4, (r) => si(r.bytes), 5),
];

const PROCESS: Column<TopRow> = { title: 'PROCESS', min: 7, max: 15, rank: 8, align: 'left', cell: (r) => r.comm };
const PID = num('PID', 7, (r) => String(r.pid), 7);

/** The columns of each grouping, most important highest rank. */
export const COLUMNS: Record<Group, Column<TopRow>[]> = {
  connection: [
    PID,
    PROCESS,
    { title: 'LOCAL', min: 12, max: 47, rank: 5, align: 'left', cut: 'start', cell: (r) => r.local },
    { title: 'REMOTE', min: 14, max: 47, rank: 9, align: 'left', cut: 'start', cell: (r) => r.remote },
    ...RATE_COLUMNS,
  ],
  process: [PID, PROCESS, num('CONNS', 7, (r) => String(r.conns)), ...RATE_COLUMNS],
  container: [
    { title: 'CONTAINER', min: 12, max: 64, rank: 9, align: 'left', cell: (r) => r.container || '(host)' },
    num('CONNS', 7, (r) => String(r.conns)),
    ...RATE_COLUMNS,
  ],
};

const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

/** The host's totals over the last period (summed by the sample). */
function totals({ totals: t }: Sample): string {
  return (
    `conns ${t.open} (${t.incoming} in, ${t.open - t.incoming} out), ${t.closed} closed` +
    `  in ${si(t.rxRate * 8)}bit/s  out ${si(t.txRate * 8)}bit/s  retr ${retrPercentage(t.retr, t.pktsTx).toFixed(2)}%`
  );
}

/** The screen: at most `height` lines, each at most width - 1 columns wide (escape sequences aside). */
export function topLines(sample: Sample, state: ViewState, width: number, height: number): string[] {
  const w = Math.max(1, width - 1);
  const paused = state.paused ? '  PAUSED' : '';
  const head = [
    `nettracer top  ${narrow(forTerminal(state.host))}  ${clock(sample.atMs)}  every ${state.refreshS}s  sort: ${state.sort}  by: ${state.group}${paused}`,
    totals(sample),
  ].map((l) => shorten(l, w));
  const room = Math.max(0, height - head.length - 2);
  const { rows: shown, total } = topRows(sample, state, room);
  // Columns no wider than what they show now: the room goes where it is used.
  const columns = fitColumns(
    COLUMNS[state.group].map((c) => {
      const want = shown.reduce((m, r) => Math.max(m, narrow(c.cell(r)).length), c.title.length);
      if (c.exact) return { ...c, min: Math.max(c.min, want), max: Math.max(c.min, want) };
      return { ...c, max: Math.max(c.min, Math.min(c.max, want)) };
    }),
    w,
  );
  // Failed attempts and resets of the last period, when there were any: on the
  // last line, which has room at 80 columns where the totals line has none.
  const trouble = sample.failed || sample.resets ? `  failed ${sample.failed}  resets ${sample.resets}` : '';
  const keys = `q quit  s sort  g group  p pause${total > shown.length ? `  (${shown.length} of ${total} rows shown)` : ''}${trouble}`;
  const lines = [
    ...head,
    BOLD +
      formatRow(
        columns,
        columns.map((f) => f.column.title),
      ) +
      UNDIM,
    ...shown.map((r) => {
      const line = formatRow(
        columns,
        columns.map((f) => f.column.cell(r)),
      );
      return r.closed ? DIM + line + UNDIM : line;
    }),
    shorten(keys, w),
  ];
  return lines.slice(0, Math.max(0, height));
}
