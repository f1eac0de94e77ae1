// Where output bytes go: a stream (standard output), honouring back-pressure
// and noticing when the reader has gone (EPIPE) or the output fails (ENOSPC,
// EIO...); or a file descriptor written synchronously.
import { closeSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

export interface WriterEvents {
  /** The stream's buffer is full: stop producing until resume. */
  pause(): void;
  resume(): void;
  /** The stream cannot take more: `err` is undefined when the reader went away (EPIPE). */
  gone(err?: NodeJS.ErrnoException): void;
}

/** Text or bytes to a stream. */
export interface OutputWriter {
  /** Bytes are copied or written at once: the caller may reuse them. */
  write(text: string | Uint8Array): void;
  /** Resolves once everything written has reached its target. */
  end(): Promise<void>;
}

export class StreamWriter implements OutputWriter {
  private waiting = false;
  private failed = false;

  constructor(
    private readonly stream: Writable,
    private readonly events: WriterEvents,
  ) {
    stream.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    stream.on('drain', () => {
      if (!this.waiting) return;
      this.waiting = false;
      this.events.resume();
    });
  }

  /** Bytes are copied: the caller may reuse them. */
  write(text: string | Uint8Array): void {
    if (this.failed || text.length === 0) return;
    if (!this.stream.write(typeof text === 'string' ? text : Buffer.from(text)) && !this.waiting) {
      this.waiting = true;
      this.events.pause();
    }
  }

  /** Resolves once everything written has reached the stream's target. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.failed || this.stream.writableFinished) return resolve();
      const done = (): void => resolve();
      this.stream.once('error', done);
      if (this.stream === process.stdout || this.stream === process.stderr) {
        // Never end() stdout; wait for it to flush instead.
        if (this.stream.writableLength === 0) return resolve();
        this.stream.once('drain', done);
        return;
      }
      this.stream.end(done);
    });
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    this.events.gone(err.code === 'EPIPE' ? undefined : err);
  }
}

/**
 * Writes to a file descriptor synchronously: the output is a regular file
 * (--output), where a write completes at page-cache speed; nothing queues
 * in memory, however large a burst, and a failure (ENOSPC) is seen at once.
 */
export class FileWriter implements OutputWriter {
  private failed = false;

  constructor(
    private readonly fd: number,
    private readonly events: Pick<WriterEvents, 'gone'>,
  ) {}

  write(text: string | Uint8Array): void {
    if (this.failed || text.length === 0) return;
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    try {
      for (let off = 0; off < buf.length;) off += writeSync(this.fd, buf, off);
    } catch (err) {
      this.failed = true;
      this.events.gone(err as NodeJS.ErrnoException);
    }
  }

  async end(): Promise<void> {
    try {
      closeSync(this.fd);
    } catch (err) {
      if (!this.failed) this.events.gone(err as NodeJS.ErrnoException);
    }
  }
}
