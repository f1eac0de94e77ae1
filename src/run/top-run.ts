// `nettracer top`: a trace whose output is a full-screen view. Every --refresh
// seconds a metrics walk, taken in memory (output/top-format.ts), ends a period
// whose rates are drawn (summary/rates.ts, output/top-view.ts). Keys change what is
// drawn; q, Ctrl-C, SIGINT, SIGTERM, SIGHUP and an error all end the trace the
// same way, and the terminal is given back on each (run/terminal.ts).
import { emptySample, type Sample } from '../summary/rates.js';
import { TopFormat } from '../output/top-format.js';
import { GROUPS, SORT_KEYS, topLines, type ViewState } from '../output/top-view.js';
import type { SessionOptions } from '../tracer/session.js';
import { Terminal } from './terminal.js';
import { runTrace } from './trace-run.js';

export interface TopRunOptions {
  session: SessionOptions;
  refreshS: number;
  host: string;
  readyFd?: number;
  user?: string;
  keepPrivileges?: boolean;
  note?: (line: string) => void;
}

/** The key that does each thing (the view's last line names them). */
export const KEYS = { quit: ['q', 'Q', '\x03'], sort: ['s'], group: ['g'], pause: ['p', ' '] } as const;

const next = <T>(list: readonly T[], v: T): T => list[(list.indexOf(v) + 1) % list.length];

export async function runTop(opts: TopRunOptions): Promise<void> {
  const state: ViewState = {
    sort: 'rate',
    group: 'connection',
    paused: false,
    refreshS: opts.refreshS,
    host: opts.host,
  };
  let sample: Sample = emptySample(Date.now());
  const quit = new AbortController();
  const draw = (): void => terminal.draw(topLines(sample, state, terminal.columns, terminal.rows));
  const onKey = (key: string): void => {
    if ((KEYS.quit as readonly string[]).includes(key)) return quit.abort();
    if ((KEYS.sort as readonly string[]).includes(key)) state.sort = next(SORT_KEYS, state.sort);
    else if ((KEYS.group as readonly string[]).includes(key)) state.group = next(GROUPS, state.group);
    else if ((KEYS.pause as readonly string[]).includes(key)) state.paused = !state.paused;
    else return;
    draw();
  };
  const terminal = new Terminal(onKey, draw);
  const top = new TopFormat(
    (s) => {
      sample = s;
      draw();
    },
    // Paused: the screen keeps the sample it shows (keys still re-sort and regroup it).
    () => state.paused,
    opts.session.containerPrefix !== undefined,
  );
  const hangUp = (): void => quit.abort();
  process.once('SIGHUP', hangUp);
  try {
    await runTrace({
      session: opts.session,
      format: {
        begin: (nowMs) => {
          terminal.enter();
          draw();
          return top.begin(nowMs);
        },
        records: (records) => top.records(records),
        cycle: (nowMs) => top.cycle(nowMs),
        metrics: top.metrics,
        skipFinalWalk: true,
      },
      stop: quit.signal,
      readyFd: opts.readyFd,
      user: opts.user,
      keepPrivileges: opts.keepPrivileges,
      note: opts.note,
    });
  } finally {
    process.off('SIGHUP', hangUp);
    terminal.leave();
  }
}
