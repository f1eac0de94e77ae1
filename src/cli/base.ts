// Every command's error path: one plain line on stderr and a documented exit
// status, never a stack trace.
import { Command, type Interfaces } from '@oclif/core';
import { TracerError } from '../tracer/errors.js';
import { EXIT, exitCodeOf } from './exit-codes.js';

/** What parsing a command's flags and arguments gives. */
export interface Parsed<T extends { flags?: Interfaces.FlagInput; args?: Interfaces.ArgInput }> {
  flags: Interfaces.InferredFlags<T['flags']>;
  args: Interfaces.InferredArgs<T['args']>;
  argv: unknown[];
}

export abstract class BaseCommand extends Command {
  /** Flag parsing where every failure is a usage error (exit 2). */
  protected async parseFlags<T extends { flags?: Interfaces.FlagInput; args?: Interfaces.ArgInput }>(
    cmd: T,
  ): Promise<Parsed<T>> {
    try {
      // oclif infers nothing through a class: say what its parser returns for this one.
      return (await this.parse(cmd)) as unknown as Parsed<T>;
    } catch (err) {
      if (isExit(err)) throw err;
      const message = firstLine((err as Error).message);
      // trace is what the original's users reach for: name their option's new form.
      const hint = this.id === 'trace' ? originalHint(message) : undefined;
      return this.fail(`${message} ${hint ?? '(see --help)'}`, EXIT.usage);
    }
  }

  protected fail(message: string, exitCode: number): never {
    process.stderr.write(`nettracer: ${message}\n`);
    return this.exit(exitCode);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof TracerError) return this.fail(err.message, exitCodeOf(err.kind));
    // oclif's own exit (this.exit) and help/version requests pass through.
    if (isExit(err)) throw err;
    if (err.oclif?.exit === 2 || err.constructor?.name?.endsWith('ParseError') || err.name === 'CLIParseError') {
      return this.fail(`${firstLine(err.message)} (see --help)`, EXIT.usage);
    }
    return this.fail(firstLine(err.message ?? String(err)), err.oclif?.exit ?? EXIT.failure);
  }
}

function firstLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('See more help'));
  // oclif: "Parsing --interval \n\t--interval must be..." -> keep the specific line.
  return lines.length > 1 && lines[0].startsWith('Parsing --') ? lines[1] : (lines[0] ?? message);
}

function isExit(err: unknown): boolean {
  const e = err as Error & { code?: string };
  return e?.constructor?.name === 'ExitError' || e?.code === 'EEXIT' || /^EEXIT/.test(e?.message ?? '');
}

/** The original's options and what nettracer calls them. */
const ORIGINAL_NAMES: Record<string, string> = {
  time_interval: '-t/--interval',
  args_file: '--config',
  test: 'nettracer check',
  no_stdout_log: '--format table or legacy',
  noninteractive: '--format legacy',
  counters_interval: '--stats-interval',
  map_size: '-m/--map-size',
  with_loopback: '-f/--with-loopback',
  header: '-s/--header-size',
  clear_probes: '-c/--cleanup',
  debug: '-d/--log-level',
  log: '-l/--log-file',
  events: 'nettracer-compat -e',
  // Its short options that trace has not (the others mean the same in both).
  n: '--format table or legacy',
  r: '--format legacy',
  e: 'nettracer-compat -e',
};

/** An option of the original given to a modern command: name the new one, and the drop-in. */
function originalHint(message: string): string | undefined {
  const m = /Nonexistent flags?: --?(\w+)/.exec(message);
  const now = m && ORIGINAL_NAMES[m[1]];
  return now ? `(did you mean ${now}, or nettracer-compat for the original's command line?)` : undefined;
}
