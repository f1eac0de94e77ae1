// The config file through nettracer-config-reader (native/config_reader.cc),
// a tiny helper started while nettracer is still root and left root when
// nettracer drops its privileges: the file can stay 0600 and still be
// re-read. It reads that one file, refusing one anybody but root or the
// invoking user could write (the file, or a directory above it).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../root.js';

const HELPER = join(ROOT, 'build', 'Release', 'nettracer-config-reader');

export class ConfigReader {
  private buffer = Buffer.alloc(0);
  private waiting?: { resolve: (text: string) => void; reject: (err: Error) => void };
  private gone?: Error;

  private constructor(
    private readonly child: ChildProcess,
    readonly path: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.answer();
    });
    const onGone = (why: string): void => {
      this.gone ??= new Error(`cannot read ${path}: the config reader ${why}`);
      this.waiting?.reject(this.gone);
      this.waiting = undefined;
    };
    child.on('error', (err) => onGone(`could not start (${err.message}); run the set-up command from the README`));
    child.on('exit', (code, signal) => onGone(`stopped (${signal ?? code})`));
  }

  /** Starts the reader of `path` for files owned by root or `ownerUid`. */
  static start(path: string, ownerUid: number): ConfigReader {
    const child = spawn(HELPER, [path, String(ownerUid)], { stdio: ['pipe', 'pipe', 'ignore'] });
    return new ConfigReader(child, path);
  }

  /** The file's text; rejects with why it cannot be read (not its content). */
  read(): Promise<string> {
    if (this.gone) return Promise.reject(this.gone);
    if (this.waiting) return Promise.reject(new Error('config reader busy'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.stdin!.write('\n');
    });
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill();
  }

  /** One answer: "ok <length>\n<bytes>" or "error <why>\n". */
  private answer(): void {
    const nl = this.buffer.indexOf(0x0a);
    if (nl < 0 || !this.waiting) return;
    const head = this.buffer.subarray(0, nl).toString('utf8');
    const w = this.waiting;
    if (head.startsWith('error ')) {
      this.buffer = this.buffer.subarray(nl + 1);
      this.waiting = undefined;
      w.reject(new Error(`cannot use ${this.path}: ${head.slice(6)}`));
      return;
    }
    const length = Number(head.slice(3));
    if (this.buffer.length < nl + 1 + length) return;
    const text = this.buffer.subarray(nl + 1, nl + 1 + length).toString('utf8');
    this.buffer = this.buffer.subarray(nl + 1 + length);
    this.waiting = undefined;
    w.resolve(text);
  }
}
