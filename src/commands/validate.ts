import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { EXIT } from '../cli/exit-codes.js';
import type { ValidationReport } from '../generated/records.js';
import { openInput, readRecords, requireInput } from '../input/capture.js';
import { MAX_LINE_BYTES } from '../input/lines.js';
import { ERRORS_LISTED as LISTED, RECORDS } from '../record/fields.js';
import { recordCheck } from '../record/validate.js';

const STREAM = RECORDS.filter((r) => r.stream)
  .map((r) => r.type)
  .join(', ');
const REPORTS = RECORDS.filter((r) => !r.stream)
  .map((r) => r.type)
  .join(', ');

export default class Validate extends BaseCommand {
  static override summary = 'Check a capture line by line against the published JSON Schemas.';
  static override description = `Reads NDJSON (a FILE, or standard input) and checks every line against the schema of
the record type it names (schemas/v1: ${STREAM}, and the reports ${REPORTS}). A line that is not JSON, has no known type
or is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB is invalid. Prints "line N: what is wrong" for each of the first
${LISTED} invalid lines and how many more there were, then a count, all on standard output.
Exit status 0 when every line is valid, 1 when one is not, 2 when the input cannot be read.`;
  static override examples = [
    '<%= config.bin %> validate capture.ndjson',
    '<%= config.bin %> trace --duration 10 | <%= config.bin %> validate',
    '<%= config.bin %> validate --json capture.ndjson | jq .invalid',
  ];
  static override args = {
    file: Args.string({
      description: 'NDJSON to check ("-" or none: standard input).',
      required: false,
      ignoreStdin: true,
    }),
  };
  static override flags = {
    json: Flags.boolean({
      default: false,
      summary: `Print one JSON object at the end instead (schemas/v1/validation.schema.json), with the first ${LISTED} errors.`,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parseFlags(Validate);
    requireInput(args.file, 'validate');
    const report: ValidationReport = { type: 'validation', ok: true, lines: 0, invalid: 0, errors: [] };
    await readRecords(
      openInput(args.file),
      await recordCheck(),
      (_, n) => {
        report.lines = n;
      },
      (n, why) => {
        report.lines = n;
        report.invalid++;
        if (report.errors.length >= LISTED) return;
        report.errors.push({ line: n, error: why });
        if (!flags.json) process.stdout.write(`line ${n}: ${why}\n`);
      },
    );
    report.ok = report.invalid === 0;
    if (flags.json) {
      process.stdout.write(JSON.stringify(report) + '\n');
    } else {
      const more = report.invalid - report.errors.length;
      if (more > 0) process.stdout.write(`... and ${more} more invalid line${more > 1 ? 's' : ''}\n`);
      const lines = `${report.lines} line${report.lines === 1 ? '' : 's'}`;
      process.stdout.write(report.ok ? `${lines}, all valid\n` : `${lines}, ${report.invalid} invalid\n`);
    }
    if (!report.ok) this.exit(EXIT.failure);
  }
}
