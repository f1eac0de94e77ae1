import { hostname } from 'node:os';
import { BaseCommand } from '../cli/base.js';
import { hiddenLoopbackNote } from '../cli/cidr.js';
import { EXIT } from '../cli/exit-codes.js';
import { FILTER_FLAGS, filterOptions, numberFlag, pickTraceFlags, tooManyFilterValues } from '../cli/flags.js';
import { runTop } from '../run/top-run.js';
import { Terminal } from '../run/terminal.js';
import { HOOK_STRATEGIES } from '../tracer/hook-strategy.js';

export default class Top extends BaseCommand {
  static override summary = "A live, full-screen view of the host's TCP connections and their rates.";
  static override description = `Every --refresh seconds: per connection the process, PID, local and remote end,
bit/s sent and received over the last refresh, retransmitted segments, RTT and bytes moved
since it was first seen; above, the host's totals (connections, bit/s in and out,
retransmission %). Fits any terminal from 80 columns: columns narrow or drop, rows that do
not fit are counted. Closed connections stay, dimmed, for 5 seconds.

Keys: q (or Ctrl-C) quit; s sort by rate, bytes, retransmits, RTT in turn; g group by
connection, process, container in turn; p (or space) pause the view.
Needs a terminal, and root (or CAP_BPF and CAP_PERFMON), as trace does.`;
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --refresh 1 --with-loopback --port 443'];
  static override flags = {
    refresh: numberFlag('refresh', { min: 0.2, max: 3600 })({
      default: 2,
      summary: 'Seconds between refreshes, 0.2 to 3600: each walks the open connections for their counters.',
      helpValue: 'SECONDS',
    }),
    ...pickTraceFlags([...FILTER_FLAGS, 'map-size', 'hook-strategy', 'user', 'keep-privileges', 'verbose', 'ready-fd']),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Top);
    const tooMany = tooManyFilterValues(flags);
    if (tooMany) this.fail(tooMany, EXIT.usage);
    if (!Terminal.available())
      this.fail('top draws on a terminal: run it on one (for a pipe or a file: nettracer trace)', EXIT.usage);
    // Said before the screen is taken, where it stays readable after top ends.
    const loopback = hiddenLoopbackNote(flags.addr, flags['with-loopback']);
    if (loopback) process.stderr.write(`nettracer: ${loopback}\n`);
    await runTop({
      refreshS: flags.refresh,
      host: hostname(),
      session: {
        intervalS: flags.refresh,
        incremental: false,
        statsIntervalS: 0,
        headerSize: false,
        ...filterOptions(flags),
        mapSize: flags['map-size'],
        verbose: flags.verbose,
        ...HOOK_STRATEGIES[flags['hook-strategy']],
      },
      readyFd: flags['ready-fd'],
      user: flags.user,
      keepPrivileges: flags['keep-privileges'],
    });
  }
}
