import { Args } from '@oclif/core';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BaseCommand } from '../cli/base.js';
import { ROOT } from '../root.js';
import { EXIT } from '../cli/exit-codes.js';
import { RECORDS } from '../record/fields.js';

const DIR = join(ROOT, 'schemas', 'v1');

export default class Schema extends BaseCommand {
  static override summary = "Print the published JSON Schemas of nettracer's records (all, or one type).";
  static override description = `Without TYPE: one JSON object mapping each schema's name to the schema. With TYPE
(${RECORDS.map((r) => r.type).join(', ')}, record, common):
that schema alone. The same files are in schemas/v1/ of the package.`;
  static override examples = ['<%= config.bin %> schema close', '<%= config.bin %> schema | jq keys'];
  static override args = {
    type: Args.string({
      description: 'Record type (or record, check, summary, validation, common).',
      required: false,
      ignoreStdin: true,
    }),
  };

  async run(): Promise<void> {
    const { args } = await this.parseFlags(Schema);
    const names = readdirSync(DIR)
      .filter((f) => f.endsWith('.schema.json'))
      .map((f) => f.replace('.schema.json', ''))
      .sort();
    const load = (n: string): unknown => JSON.parse(readFileSync(join(DIR, `${n}.schema.json`), 'utf8'));
    if (args.type === undefined) {
      process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n) => [n, load(n)])), null, 2) + '\n');
      return;
    }
    if (!names.includes(args.type)) this.fail(`no schema "${args.type}"; there are: ${names.join(', ')}`, EXIT.usage);
    process.stdout.write(JSON.stringify(load(args.type), null, 2) + '\n');
  }
}
