import { Args, loadHelpClass } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { unknownCommand } from '../cli/not-found.js';
import { EXIT } from '../cli/exit-codes.js';

// `nettracer help [COMMAND]`. Ours rather than @oclif/plugin-help's, whose
// command would load a second, unbundled copy of @oclif/core (see src/main.ts).
export default class Help extends BaseCommand {
  static override summary = 'Show help for nettracer or one of its commands.';
  static override args = {
    command: Args.string({ description: 'Command to show help for.', required: false }),
  };
  static override strict = false;

  async run(): Promise<void> {
    const { argv } = await this.parseFlags(Help);
    const id = (argv as string[]).join(':');
    if (id && !this.config.findCommand(id)) this.fail(unknownCommand(id, this.config), EXIT.usage);
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config).showHelp(argv as string[]);
  }
}
