// An unknown command: the same one plain line and usage exit status as every
// other bad input, instead of oclif's default error block.
import type { Hook } from '@oclif/core';
import { EXIT } from '../tracer/errors.js';

export const commandNotFound: Hook.CommandNotFound = async function ({ id, config }) {
  const known = config.commandIDs.join(', ');
  process.stderr.write(`nettracer: no command "${id}" (commands: ${known}; see --help)\n`);
  this.exit(EXIT.usage);
};
