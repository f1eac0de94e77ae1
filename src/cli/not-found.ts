// An unknown command: the same one plain line and usage exit status as every
// other bad input, instead of oclif's default error block.
import type { Hook, Interfaces } from '@oclif/core';
import { EXIT } from './exit-codes.js';

export function unknownCommand(id: string, config: Interfaces.Config): string {
  return `no command "${id}" (commands: ${config.commandIDs.join(', ')}; see --help)`;
}

export const commandNotFound: Hook.CommandNotFound = async function ({ id, config }) {
  process.stderr.write(`nettracer: ${unknownCommand(id, config)}\n`);
  this.exit(EXIT.usage);
};
