import { Args, Flags } from '@oclif/core';
import { hostname } from 'node:os';
import { BaseCommand } from '../cli/base.js';
import { numberFlag, readyFd } from '../cli/flags.js';
import type { NettracerRecord, SummaryRecord } from '../generated/records.js';
import { lineRef, openInput, readRecords, requireInput } from '../input/capture.js';
import { MAX_LINE_BYTES } from '../input/lines.js';
import { summaryTable } from '../output/summary-table.js';
import { recordCheck, STREAM_TYPES } from '../record/validate.js';
import { Aggregator, type Dimension, UnplaceableRecord } from '../summary/aggregate.js';
import { EXIT } from '../cli/exit-codes.js';
import { LiveSummaryFormat } from '../output/live-summary.js';
import { runTrace } from '../run/trace-run.js';
import { TracerError } from '../tracer/errors.js';
import { MAP_SIZE_DEFAULT } from '../tracer/limits.js';

const DIMENSIONS: Dimension[] = ['host', 'container', 'process'];
/** Windows end at dates JavaScript can write (Date holds about 275,000 years). */
const WINDOW_MAX_S = 1e9;

export default class Summarize extends BaseCommand {
  static override summary = 'Aggregate traffic per process, container and host: from a capture, or live.';
  static override description = `Reads an NDJSON capture of \`nettracer trace\` (a FILE, or standard input) or, with
--live, traces itself; prints per window and per process, container and host the metric
keys bytes_rx, bytes_tx (sum, avg, min, max, count over sessions), pkts_rx, pkts_tx,
pkts_retr, retr_percentage, rtt (ms: avg, min, max), traffic, traffic_rx and traffic_tx
(bit/s), as NDJSON (schemas/v1/summary.schema.json) or a table.

Each line of a capture must be a valid record (as \`nettracer validate\` checks) of at most
${MAX_LINE_BYTES / 1024 / 1024} MiB: the first that is not stops summarize with "FILE:line N: what is wrong" and exit
status 2, unless --skip-invalid. Windows in which no record fell are not printed. The man
page's READING A CAPTURE says more.`;
  static override examples = [
    '<%= config.bin %> summarize capture.ndjson',
    '<%= config.bin %> trace --duration 60 | <%= config.bin %> summarize --window 10',
    '<%= config.bin %> summarize --live --window 10 --by process --format table',
    "<%= config.bin %> summarize --skip-invalid damaged.ndjson | jq -s 'last.skipped_lines'",
  ];
  static override args = {
    file: Args.string({
      description: 'NDJSON capture to read ("-" or none: standard input).',
      required: false,
      ignoreStdin: true,
    }),
  };
  static override flags = {
    window: numberFlag('window', { min: 0.001, max: WINDOW_MAX_S })({
      summary: `Seconds per window, at most ${WINDOW_MAX_S} (about 31 years; default: the whole capture; 10 with --live).`,
      helpValue: 'SECONDS',
    }),
    by: Flags.custom<Dimension[]>({
      parse: async (t) => {
        const v = t.split(',').map((x) => x.trim()) as Dimension[];
        const bad = v.find((x) => !DIMENSIONS.includes(x));
        if (bad) throw new Error(`--by takes host, container and process (comma-separated), got "${bad}"`);
        return v;
      },
    })({
      summary: 'Dimensions to report: host, container, process (comma-separated). Default: all.',
      helpValue: 'LIST',
    }),
    format: Flags.string({
      options: ['ndjson', 'table'],
      summary: 'Output format (default: table on a terminal, ndjson otherwise).',
    }),
    live: Flags.boolean({ default: false, summary: 'Trace live instead of reading a capture (needs root).' }),
    duration: numberFlag('duration', { min: 0.001 })({
      summary: 'With --live: stop after this many seconds (any length).',
      helpValue: 'SECONDS',
    }),
    'with-loopback': Flags.boolean({
      char: 'f',
      default: false,
      summary: 'With --live: include loopback connections.',
    }),
    'skip-invalid': Flags.boolean({
      default: false,
      summary:
        'Skip lines that are not valid records instead of stopping at the first; count them in skipped_lines and on standard error.',
    }),
    'ready-fd': readyFd,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parseFlags(Summarize);
    const table = (flags.format ?? (process.stdout.isTTY ? 'table' : 'ndjson')) === 'table';
    const render = (rows: SummaryRecord[]): string => {
      if (rows.length === 0) return '';
      return table ? summaryTable(rows) : rows.map((r) => JSON.stringify(r) + '\n').join('');
    };
    const print = (rows: SummaryRecord[]): void => {
      // Most records close no window: no write (each is a system call) for them.
      if (rows.length) process.stdout.write(render(rows));
    };
    if (flags.live) {
      if (args.file) this.fail('--live reads no file: give one or the other', EXIT.usage);
      if (flags['skip-invalid']) this.fail('--skip-invalid is for a capture, not --live', EXIT.usage);
      await this.live(
        flags.window ?? 10,
        flags.by ?? DIMENSIONS,
        flags.duration,
        flags['with-loopback'],
        flags['ready-fd'],
        render,
      );
      return;
    }
    if (flags.duration !== undefined) this.fail('--duration is for --live (a capture ends where it ends)', EXIT.usage);
    requireInput(args.file, 'summarize');
    const agg = new Aggregator({ windowS: flags.window, host: hostname(), by: flags.by ?? DIMENSIONS });
    const skip = flags['skip-invalid'];
    let skipped = 0;
    let first = '';
    const emit = (rows: SummaryRecord[]) =>
      print(skip && rows.length ? rows.map((r) => ({ ...r, skipped_lines: skipped })) : rows);
    const input = openInput(args.file);
    const invalid = (n: number, why: string) => {
      if (!skip) throw new TracerError(`${lineRef(input, n)}: ${why}`, 'usage');
      if (skipped++ === 0) first = `${lineRef(input, n)}: ${why}`;
    };
    await readRecords(
      input,
      await recordCheck(STREAM_TYPES),
      (record, n) => {
        try {
          emit(agg.add(record as NettracerRecord));
        } catch (e) {
          if (!(e instanceof UnplaceableRecord)) throw e;
          invalid(n, e.message);
        }
      },
      invalid,
    );
    emit(agg.finish());
    // Where people look as well as in the records: a damaged capture should not pass unnoticed.
    if (skipped)
      process.stderr.write(
        `nettracer: skipped ${skipped} invalid line${skipped > 1 ? 's' : ''} (the first: ${first})\n`,
      );
  }

  private live(
    windowS: number,
    by: Dimension[],
    durationS: number | undefined,
    withLoopback: boolean,
    readyFd: number | undefined,
    render: (rows: SummaryRecord[]) => string,
  ): Promise<void> {
    // Metrics walks run every window; the window closes just after one.
    return runTrace({
      session: {
        intervalS: windowS,
        incremental: false,
        headerSize: false,
        withLoopback,
        mapSize: MAP_SIZE_DEFAULT,
        verbose: false,
        statsIntervalS: 0,
      },
      format: new LiveSummaryFormat(new Aggregator({ windowS, host: hostname(), by }), render),
      durationS,
      readyFd,
    });
  }
}
