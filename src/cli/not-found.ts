// An unknown command: the same one plain line and usage exit status as every
// other bad input, instead of oclif's default error block.
import type { Hook, Interfaces } from '@oclif/core';
import { EXIT } from './exit-codes.js';

export function unknownCommand(id: string, config: Interfaces.Config): string {
  return `no command "${id}" (commands: ${config.commandIDs.join(', ')}; see --help)`;
}

/**
 * oclif reads `trace extra` as the command "trace:extra" (commands may have
 * topics): a known command followed by words is a command given arguments it
 * does not take.
 */
export function notFoundMessage(id: string, config: Interfaces.Config): string {
  const [command, ...rest] = id.split(':');
  if (rest.length && config.commandIDs.includes(command)) {
    const words = rest.map((w) => `"${w}"`).join(' ');
    return `${command} takes no arguments, got ${words} (options start with --; see nettracer ${command} --help)`;
  }
  return unknownCommand(id, config);
}

export const commandNotFound: Hook.CommandNotFound = async function ({ id, config }) {
  process.stderr.write(`nettracer: ${notFoundMessage(id, config)}\n`);
  this.exit(EXIT.usage);
};
