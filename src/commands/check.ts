import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { runCheck } from '../check/check.js';
import { checkTable } from '../output/check-table.js';
import { EXIT } from '../cli/exit-codes.js';

export default class Check extends BaseCommand {
  static override summary = 'Check whether nettracer can trace on this host, and say how to fix what is missing.';
  static override description = `Reports the kernel release, BTF, privileges, the tracepoints and iterator nettracer
uses (and which it would use here), then loads and attaches the programs once, gives
up root as a run would and makes the running tracer's bpf() calls in that state (to
say whom a run becomes and which capabilities it keeps), and detaches them. Exit status 0 only when tracing would work; 3 when only privileges are
missing; 4 when the kernel lacks something required; 1 when loading failed or the native
addon is not built (run the set-up).`;
  static override examples = ['<%= config.bin %> check', '<%= config.bin %> check --json | jq .ok'];
  static override flags = {
    json: Flags.boolean({
      default: false,
      summary: 'Print the report as one JSON object (schemas/v1/check.schema.json).',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Check);
    const report = runCheck();
    process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : checkTable(report));
    if (report.ok) return;
    const failed = report.items.filter((i) => i.required && !i.ok).map((i) => i.name);
    // Without the addon nothing about the kernel is known: it is the set-up's to fix, not the kernel's.
    const code = failed.includes('addon')
      ? EXIT.failure
      : failed.every((n) => n === 'privileges' || n === 'load')
        ? EXIT.privileges
        : failed.some((n) => n === 'load' || n === 'addon') && failed.length === 1
          ? EXIT.failure
          : EXIT.unsupported;
    this.exit(code);
  }
}
