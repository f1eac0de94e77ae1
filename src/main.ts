// The CLI as one module: oclif's runner and every command. scripts/bundle.ts
// bundles it with its dependencies into dist/nettracer.cjs, which bin/run.cjs
// compiles from V8's code cache: one file to read and little to compile is
// what keeps `nettracer --help` fast (oclif loaded from node_modules is ~190
// files). package.json names COMMANDS as oclif's explicit command list and
// COMMAND_NOT_FOUND as its hook.
import Check from './commands/check.js';
import Compat from './commands/compat.js';
import Help from './commands/help.js';
import Replay from './commands/replay.js';
import Schema from './commands/schema.js';
import Summarize from './commands/summarize.js';
import Top from './commands/top.js';
import Trace from './commands/trace.js';
import Validate from './commands/validate.js';
import { commandNotFound } from './cli/not-found.js';

export { execute } from '@oclif/core';
export { commandNotFound as COMMAND_NOT_FOUND };

export const COMMANDS = {
  check: Check,
  compat: Compat,
  help: Help,
  replay: Replay,
  schema: Schema,
  summarize: Summarize,
  top: Top,
  trace: Trace,
  validate: Validate,
};
