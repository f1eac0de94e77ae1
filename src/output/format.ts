// An output format: text for each batch of records, and for the moments a
// format marks (the end of each metrics interval: the "cycle" of the
// original's periodic outputs; a timer; the end of tracing).
import type { NettracerRecord } from '../generated/records.js';
import type { MetricsSampler } from '../tracer/session.js';
import { LegacyFormat } from './legacy.js';
import { LinesFormat } from './lines.js';
import { LogFormat, type LogLevel, type LogSetup } from './log.js';
import { toNdjson } from './ndjson.js';
import { TableFormat } from './table.js';

export interface OutputFormat {
  /** Called once when tracing has started, before the first records. */
  begin?(nowMs: number): string;
  records(records: readonly NettracerRecord[]): string;
  /** Called after every metrics walk (and once at start); returns what a cycle prints. */
  cycle?(nowMs: number): string;
  /** Called every tickMs while tracing. */
  tick?(nowMs: number): string;
  readonly tickMs?: number;
  /** Called once when tracing has stopped, after the last records. */
  end?(nowMs: number): string;
  /** The original's formats print no interval once asked to stop: no cycle() after the last walk. */
  readonly skipFinalCycle?: boolean;
  /**
   * Its metrics walks go here, in memory, with no metrics record per
   * connection (a live view's table, the agent's aggregation); cycle()
   * follows each.
   */
  readonly metrics?: MetricsSampler;
  /** No metrics walk when tracing stops (a live view: there is no screen left to show it). */
  readonly skipFinalWalk?: boolean;
}

export type FormatName = 'ndjson' | 'lines' | 'table' | 'log' | 'legacy';
export const FORMATS: readonly FormatName[] = ['ndjson', 'lines', 'table', 'log', 'legacy'];

export interface FormatOptions {
  /** The log format's lowest level (the original's -d). */
  logLevel?: LogLevel;
  /** Metrics records carry deltas: formats that show totals add them up. */
  incremental: boolean;
  /** Byte counts carry --header-size bytes: the log and the table, as the original's, leave them out. */
  headerSize?: boolean;
  /** The terminal's width: the table's columns are a sixth of it (at least 22). */
  columns?: number;
  /** The log: colour the level (a terminal). */
  colour?: boolean;
  /** The log's start-up and shutdown lines. */
  setup?: LogSetup;
}

/** A format that reads records as objects (NDJSON bytes are the writer's: src/encode/). */
export function createFormat(name: FormatName, opts: FormatOptions): OutputFormat {
  switch (name) {
    case 'ndjson':
      return { records: toNdjson };
    case 'lines':
      return new LinesFormat();
    case 'log':
      return new LogFormat({
        level: opts.logLevel,
        headerSize: opts.headerSize,
        colour: opts.colour,
        setup: opts.setup,
      });
    case 'legacy':
      return new LegacyFormat(opts.incremental);
    case 'table':
      return new TableFormat({ columns: opts.columns, headerSize: opts.headerSize });
  }
}
