// A real terminal for tests of full-screen views: a tmux server of its own
// (its own socket, no user configuration) with one pane of a given size
// running a shell command. The pane is read back as text, with or without
// its escape sequences, and keys are typed into it.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const servers = new Set<string>();

/** Kills every tmux server the tests started (a test that failed half-way). */
export function killPanes(): void {
  for (const s of servers) tmux(s, ['kill-server'], true);
  servers.clear();
}

function tmux(socket: string, args: string[], quiet = false): string {
  try {
    return execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  } catch (err) {
    if (quiet) return '';
    throw err;
  }
}

export class Pane {
  private readonly socket: string;

  /** `command` runs in /bin/sh in a terminal of cols x rows. */
  constructor(command: string, cols: number, rows: number) {
    this.socket = `nt-top-test-${process.pid}-${servers.size}-${Date.now()}`;
    servers.add(this.socket);
    // A long history: a test that waits for a line may see thousands of others first.
    tmux(this.socket, [
      'start-server',
      ';',
      'set-option',
      '-g',
      'history-limit',
      '100000',
      ';',
      'new-session',
      '-d',
      '-x',
      String(cols),
      '-y',
      String(rows),
      command,
    ]);
  }

  /** The screen's lines (with history: and those scrolled off it), as text, or with their escape sequences (-e); empty lines at the bottom left out. */
  capture(escapes = false, history = false): string[] {
    const args = ['capture-pane', '-p', ...(escapes ? ['-e'] : []), ...(history ? ['-S', '-'] : []), '-t', '0'];
    const lines = tmux(this.socket, args).split('\n');
    while (lines.length && lines.at(-1) === '') lines.pop();
    return lines;
  }

  /** Is the pane on its alternate screen? */
  alternate(): boolean {
    return tmux(this.socket, ['display-message', '-p', '-t', '0', '#{alternate_on}']).trim() === '1';
  }

  size(): { cols: number; rows: number } {
    const [cols, rows] = tmux(this.socket, ['display-message', '-p', '-t', '0', '#{pane_width} #{pane_height}'])
      .trim()
      .split(' ')
      .map(Number);
    return { cols, rows };
  }

  /** Types keys (tmux names: q, C-c, Space...). */
  keys(...keys: string[]): void {
    tmux(this.socket, ['send-keys', '-t', '0', ...keys]);
  }

  resize(cols: number, rows: number): void {
    tmux(this.socket, ['resize-window', '-t', '0', '-x', String(cols), '-y', String(rows)]);
  }

  /** Polls the screen until `test` holds of its lines; fails with the last screen. */
  async waitFor(
    what: string,
    test: (lines: string[]) => boolean,
    timeoutMs = 30_000,
    history = false,
  ): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    let lines: string[] = [];
    while (Date.now() < until) {
      lines = this.capture(false, history);
      if (test(lines)) return lines;
      await sleep(100);
    }
    throw new Error(`the pane never showed ${what}; it shows:\n${lines.join('\n')}`);
  }

  kill(): void {
    tmux(this.socket, ['kill-server'], true);
    servers.delete(this.socket);
  }
}
