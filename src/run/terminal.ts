// A full-screen view's hold on the terminal: the alternate screen (the
// user's screen comes back untouched on exit), no cursor, raw input (typed
// keys are read, not echoed; Ctrl-C is a key), and redraws that overwrite
// the previous frame line by line (cursor to the line, the line, clear to
// its end) instead of clearing the screen: no flicker. leave() undoes all of
// it and runs on every way out, process exit included; it writes with
// writeSync so that it happens even when the output stream is being torn down.
import { writeSync } from 'node:fs';

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

export class Terminal {
  private entered = false;
  private last: string[] = [];

  constructor(
    private readonly onKey: (key: string) => void,
    private readonly onResize: () => void,
  ) {}

  /** Both ends are a terminal: a full-screen view can run. */
  static available(): boolean {
    return process.stdout.isTTY === true && process.stdin.isTTY === true;
  }

  get columns(): number {
    return process.stdout.columns || 80;
  }

  get rows(): number {
    return process.stdout.rows || 24;
  }

  enter(): void {
    if (this.entered) return;
    this.entered = true;
    process.on('exit', this.leave);
    writeSync(1, ENTER);
    process.stdin.setRawMode(true);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', this.keys);
    process.stdin.resume();
    process.stdout.on('resize', this.resized);
  }

  /** Draws `lines` from the top: only lines that changed are written; the rest of the screen is cleared. */
  draw(lines: readonly string[]): void {
    if (!this.entered) return;
    let out = '';
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] !== this.last[i]) out += `\x1b[${i + 1};1H${lines[i]}\x1b[K`;
    }
    if (lines.length < this.last.length) out += `\x1b[${lines.length + 1};1H\x1b[J`;
    this.last = [...lines];
    if (out) writeSync(1, out);
  }

  readonly leave = (): void => {
    if (!this.entered) return;
    this.entered = false;
    process.off('exit', this.leave);
    process.stdin.off('data', this.keys);
    process.stdout.off('resize', this.resized);
    try {
      process.stdin.setRawMode(false);
    } catch {
      // The terminal has gone (hang-up): nothing to restore.
    }
    process.stdin.pause();
    try {
      writeSync(1, LEAVE);
    } catch {
      // As above.
    }
  };

  private readonly keys = (data: string): void => {
    // Several keys can arrive in one read (typed ahead, or pasted).
    for (const key of data) this.onKey(key);
  };

  private readonly resized = (): void => {
    this.last = []; // the terminal reflowed what it had: draw everything
    this.onResize();
  };
}
