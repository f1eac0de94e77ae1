import { Args, Flags } from '@oclif/core';
import { once } from 'node:events';
import { BaseCommand } from '../cli/base.js';
import { EXIT } from '../cli/exit-codes.js';
import type { NettracerRecord } from '../generated/records.js';
import { type Input, lineRef, openInput, readRecords, requireInput } from '../input/capture.js';
import { Replay as Player } from '../input/replay.js';
import { createFormat, type FormatName } from '../output/format.js';
import { LOG_LEVELS, type LogLevel } from '../output/log.js';
import { recordCheck, STREAM_TYPES } from '../record/validate.js';
import { TracerError } from '../tracer/errors.js';

const REPLAYED = ['lines', 'log', 'legacy', 'table'] as const;

export default class Replay extends BaseCommand {
  static override summary = 'Print a capture in a human or original format, as trace would have printed it.';
  static override description = `Reads the NDJSON of \`nettracer trace\` (a FILE, or standard input) and prints it in
--format lines, log, legacy or table with the formatters trace uses, in the capture's own
times: one capture serves every reader. Each line must be a valid record of the stream (as
\`nettracer validate\` checks): the first that is not stops replay with "FILE:line N: what is
wrong" and exit status 2, after what the lines before it printed.`;
  static override examples = [
    '<%= config.bin %> replay capture.ndjson',
    '<%= config.bin %> replay --format legacy capture.ndjson',
    '<%= config.bin %> trace --duration 10 | <%= config.bin %> replay - --format log',
  ];
  static override args = {
    file: Args.string({
      description: 'NDJSON capture to read ("-": standard input).',
      required: false,
      ignoreStdin: true,
    }),
  };
  static override flags = {
    format: Flags.string({
      options: [...REPLAYED],
      default: 'lines',
      summary:
        "lines (one line per event), log (the original's log lines), legacy (its machine format) or table (its table, once per metrics walk).",
    }),
    incremental: Flags.boolean({
      char: 'i',
      default: false,
      summary: "legacy: print each interval's deltas instead of totals, as trace -i would have.",
    }),
    'log-level': Flags.string({
      char: 'd',
      options: [...LOG_LEVELS],
      default: 'info',
      summary: 'log: the lowest level printed.',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parseFlags(Replay);
    requireInput(args.file, 'replay');
    const format = createFormat(flags.format as FormatName, {
      logLevel: flags['log-level'] as LogLevel,
      incremental: flags.incremental,
    });
    const replay = new Player(format);
    const out = process.stdout;
    // A reader that goes away (| head) ends the replay quietly.
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      this.fail(`cannot write the output: ${err.message}`, EXIT.failure);
    });
    const input = paced(openInput(args.file), out);
    let text = '';
    await readRecords(
      input,
      await recordCheck(STREAM_TYPES),
      (record) => {
        text += replay.add(record as NettracerRecord);
        if (text.length >= 65536) {
          out.write(text);
          text = '';
        }
      },
      (n, why) => {
        out.write(text);
        throw new TracerError(`${lineRef(input, n)}: ${why}`, 'usage');
      },
    );
    out.write(text + replay.finish());
  }
}

/** The input, read no faster than standard output takes what it makes. */
function paced(input: Input, out: NodeJS.WriteStream): Input {
  async function* chunks(): AsyncIterable<Buffer | string> {
    for await (const chunk of input.stream) {
      yield chunk;
      if (out.writableNeedDrain) await once(out, 'drain');
    }
  }
  return { file: input.file, stream: chunks() };
}
